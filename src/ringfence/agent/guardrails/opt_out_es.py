"""The opt-out rules' Spanish phrases (`guardrails.opt_out`), matched on accent-folded clauses
("llámeme" -> "llameme"), so a transcript with or without its accents reads the same.

The learned model hears Spanish refusals too; these are the high-precision overrides that make
the common ways of saying it certain, whatever the model makes of the rest of the turn (FCC
24-24: revocation "by any reasonable means", in whatever language the callee speaks):

- asking not to be called, in any person and register: "no me llame(n) más", "ya no nos
  marquen", "no me vuelvan a llamar", "a mi mamá ya no la llamen", "no me sigan molestando",
  "no me llaméis más"; never a past or a present that reports ("no me llamaron", "nadie me
  llama", "¿no me van a llamar?");
- "dejen de llamar(me)", "para de marcarme", "no quiero que me llamen", "no quiero más
  llamadas", "no más llamadas", "basta de llamadas", "estoy harta de sus llamadas";
- the list: "quíteme / sáquenme / bórrenme de su lista", "borren mi número", "bórrenme",
  "denme de baja", "la lista de no llamar";
- "déjenme en paz"; revoking consent ("retiro mi consentimiento", "nunca di permiso", "no
  autorizo").

A phrase asked for in the negative is no request: "no quiero que dejen de llamarme", "no es
que no me llamen, es que...". Where the words are only close (a time preference, "no me llame
antes de las diez"), they still count: doubt resolves to opt-out, as in English ("don't call
me in the morning").
"""

from __future__ import annotations

import re
from typing import Final

# Subjunctive or imperative forms only (a request): llame, llamen, llames, llaméis.
# "Hablar" is "to call" in much of Mexico ("ya no me hablen"); "yamar" is "llamar" as a
# speech-to-text (or a yeísta speller) writes it.
_ASK: Final = (
    r"(llam|yam|marqu|habl|contact|molest|hostigu|fastidi|friegu|busqu)(e|en|es|eis)|"
    r"escrib(a|an|as|ais)"
)
_INFINITIVE: Final = (
    r"(llamar|yamar|marcar|hablar|contactar|molestar|escribir|hostigar|fastidiar)\w*"
)
_GERUND: Final = (
    r"(llamando|yamando|marcando|hablando|molestando|contactando|escribiendo|fastidiando|"
    r"buscando)"
)
# The past subjunctive a polite request takes: "preferiría que no me llamaran".
_ASKED_POLITELY: Final = r"(llam|yam|marc|habl|contact|molest)(ara|aran|aras|ase|asen)"
_OBJECT: Final = r"(me|nos|le|la|lo|les|las|los)"
_CALLS: Final = (
    r"(llamadas?|llamaditas?|llamaderas?|mensajes|mensajitos|textos|calls|whatsapps?|"
    r"recordatorios)"
)

PHRASES_ES: Final = (
    # "no me llame(n) más", "ya no la llamen", "nunca nos marquen", "no me sigan molestando",
    # "no me vuelvan a llamar", "no me estén llamando".
    rf"\b(no|nunca|jamas|nunca mas|ni) {_OBJECT} ({_ASK})\b",
    rf"\bque no {_OBJECT} {_ASKED_POLITELY}\b",
    rf"\b(favor de|por favor|porfa) no {_INFINITIVE}",
    rf"\b(no|nunca|jamas) ({_OBJECT} )?(vuelv\w*|volver) a {_INFINITIVE}",
    rf"\b(no|nunca|jamas) {_OBJECT} (sigan|siga|sigas|esten|este|estes|anden) {_GERUND}\b",
    # "no llamen más", "no llamen a este número", "no marquen aquí".
    r"\bno (llamen|llame|llames|llameis|marquen|marque|marques|hablen)( (mas|a este|aqui|aca|"
    r"a esta|a la casa|a mi|nunca|otra vez|de nuevo)\b|$)",
    # "dejen de llamar", "para de marcarme", "dejad de llamar".
    # ... never "no dejen de llamarme" (keep calling me) or "dejen de hablar" (stop talking).
    rf"\b(?<!no )(deje|dejen|deja|dejes|dejad|dejar|dejan|paren|pare|para|parad|parar) de? "
    rf"(estar {_GERUND}|(?!hablar){_INFINITIVE}|mandar (\w+ )?{_CALLS})",
    # "ya párenle (con las llamadas)", "ya para con las llamadas".
    rf"\b(ya )?(parenle|parale|parele)\b|\b(para|paren|pare)( ya)? con (las |tanta |tantas |"
    rf"sus |estas )?{_CALLS}\b",
    # "no quiero que me llamen", "no queremos que nos sigan llamando", "no deseo que me
    # contacten".
    rf"\bno (quiero|queremos|quiere|quieren|deseo|deseamos|necesito) que ({_OBJECT} )?"
    rf"((sigan|vuelvan a|esten) )?(llam|yam|marc|habl|contact|molest|escrib|busc)\w*",
    # "no quiero más llamadas", "no más llamadas", "ni una llamada más", "no me hagan calls".
    rf"\b(no|ya no) (quiero|queremos|quiere|quieren|deseo|necesito)( recibir)?( mas| ningunas?|"
    rf" sus| estas| esas| tantas)? {_CALLS}\b",
    rf"\b(no|ni una|ninguna) mas {_CALLS}\b|\bno mas {_CALLS}\b|\bni una (llamada|llamadita) mas\b",
    rf"\bnada de {_CALLS}\b|\bpero (\w+ )?(llamadas|llamaditas) no\b",
    rf"\bcancel\w* (estas|las|sus|tantas|todas las) {_CALLS}\b",
    rf"\bno ({_OBJECT} )?(hagan|haga|hagas|manden|mande|mandes|envien|envie)( mas)? {_CALLS}\b",
    # "basta de llamadas", "ya estuvo con las llamadas", "estoy harta de sus llamadas".
    r"^((ya|por favor|porfa|oiga|senorita|senor|ay) )*basta( (ya|basta|por favor))*$",
    rf"\b(basta|ya basta|suficiente|ya estuvo|ya estuvo bueno|ya chole|chole) (de|con) (\w+ )?"
    rf"({_CALLS}|{_INFINITIVE}|que me {_ASK}|que me (esten|sigan) {_GERUND})\b",
    rf"\b(hart|cansad|aburrid|fastidiad)\w* (de|con) (\w+ ){{0,2}}({_CALLS}|que me (\w+ )?"
    rf"({_ASK}|{_GERUND}))\b",
    # The list: "quíteme / sáquenme / bórrenme de su lista", "borren mi número".
    r"\b(quit|saqu|sac|borr|elimin|remuev|remov)\w*( (a mi|mi|este|el|nuestro) (numero|"
    r"telefono|celular|nombre|contacto))? (de|del)( eh| este| pues)? (la |su |sus |las |tu |"
    r"esa |esta |esas |estas )?(lista|listas|sistema|base de datos|registro|directorio|"
    r"contactos)\b",
    r"\b(quite|quiten|quita|borre|borren|borra|elimine|eliminen|elimina|saquen|saque)(n|le|"
    r"lo|la|me|nme)? (mi|este|el|su) (numero|telefono|celular|contacto|nombre|datos)\b",
    r"\b(borrenme|borreme|borrame|eliminenme|elimineme|eliminame|borrenos|borrennos)\b",
    r"\b(quitenme|quiteme|quitame|saquenme|saqueme|sacame) de (todo|sus llamadas|las llamadas)\b",
    r"\b(pierdan|pierda|pierde|olvidense de|olvidese de|olvidate de|tiren|boten) (mi|este) "
    r"(numero|telefono|celular)\b",
    r"\b(dar|darme|darnos|denme|deme|dame|doy|daria) de baja\b",
    r"\blista de no (llamar|llamadas|contactar|molestar)\b",
    r"\b(dejenme|dejeme|dejame|dejenos|dejennos|dejadme) (en paz|tranquil\w*)\b",
    # Consent revoked or never given.
    r"\b(revoc|retir|cancel|quit)\w* (mi |el |su |nuestro )?(consentimiento|permiso|"
    r"autorizacion)\b",
    r"\b(nunca|jamas|no) (les |le )?(di|dimos|he dado|doy|damos|autorice|autorizo|"
    r"acepte|consenti)( (mi|el|ningun|su))? (permiso|consentimiento|autorizacion)\b",
    rf"\bno (autorizo|consiento|acepto) (que me|estas|sus|las) (\w+ )?({_CALLS}|{_ASK})\b",
)
# Asked for in the negative: "no quiero que dejen de llamarme", "no es que no me llamen".
NEGATED_ES: Final = re.compile(
    r"\b(no|tampoco|nunca) (\w+ ){0,2}(que|pido que|digo que|dije que|es que) ?$"
)
