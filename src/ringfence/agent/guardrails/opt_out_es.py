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

# Subjunctive or imperative forms only (a request): llame, llamen, llames, llaméis; "yamar" is
# "llamar" as a speech-to-text (or a yeísta speller) writes it.
_ASK: Final = r"(llam|yam|marqu|contact|molest|hostigu|fastidi|friegu)(e|en|es|eis)"
# "Hablar" is "to call" in much of Mexico ("ya no me hablen"), and "escribir" a message, but
# both are also "to talk" and "to write" ("no me hablen en inglés", "no me escriba al correo,
# mándeme un mensaje"): they count only when nothing but the call follows them (`_THE_END`).
_TALK: Final = r"(habl|escrib)(e|en|es|eis|a|an|as)"
_THE_END: Final = (
    r"(( (mas|ya|nunca|otra vez|de nuevo|por favor|porfa|gracias|a este \w+|a mi \w+|"
    r"al (celular|cel|telefono|numero)|aqui|aca|a la casa|ustedes|tanto|a cada rato|"
    r"(por|al) (telefono|whatsapp|mensaje|mensajes|cel|celular)|mensajes|whatsapps?|textos|"
    r"de (la clinica|ustedes|aqui|alla|la oficina|el consultorio|su parte)|en (la|las) "
    r"(noche|noches|manana|mananas|tarde|tardes)))*( ni .*)?$)"
)
# The infinitive with its object ("llamarme"), or bare and followed by nothing but the call:
# "dejen de llamar (a cada rato)", never "deja de molestar a tu hermana".
_INFINITIVE: Final = r"(llamar|yamar|marcar|contactar|molestar|hostigar|fastidiar)"
_TO_US: Final = (
    rf"({_INFINITIVE}(me|nos|la|lo|le|les)\b|hablar(me|nos)\b|{_INFINITIVE}( (mas|ya|tanto|a "
    rf"cada rato|todos los dias|a este \w+|a mi \w+|aqui|a la casa|por favor|porfa))*$)"
)
_GERUND: Final = (
    r"(llamando|yamando|marcando|hablando|escribiendo|molestando|contactando|fastidiando|"
    r"buscando)(me|nos)?"
)
# The past subjunctive a polite request takes: "preferiría que no me llamaran".
_ASKED_POLITELY: Final = r"(llam|yam|marc|contact|molest)(ara|aran|aras|ase|asen)"
_OBJECT: Final = r"(me|nos|le|la|lo|les|las|los)"
# What turns "no me llame" into something else: someone else calling ("no me llame el doctor,
# mejor la enfermera"), a name ("no me llames mija"), "no me llame la atención".
_NOT_A_REQUEST: Final = (
    r"(?! (la atencion|el doctor|la doctora|el medico|la medica|la enfermera|el enfermero|"
    r"el dr|la dra|mija|mijo|senora|senor|senorita|asi|por mi nombre|de tu|de usted)\b)"
)
_CALLS: Final = (
    r"(llamadas?|llamaditas?|llamaderas?|mensajes|mensajitos|textos|calls|whatsapps?|"
    r"recordatorios)"
)
# What follows a list or a "baja" that is still ours (not "la lista de espera", "darme de baja
# del plan de pagos").
_OUR_LIST: Final = (
    r"(lista|listas|sistema|base de datos|registro|directorio|contactos)\b(?! de (espera|"
    r"cancelaciones|precios|citas|regalos))"
)

PHRASES_ES: Final = (
    # "no me llame(n) más", "ya no la llamen", "nunca nos marquen", "no me sigan molestando",
    # "no me vuelvan a llamar", "no me estén llamando"; never "no me llame la atención".
    rf"\b(no|nunca|jamas|nunca mas|ni) {_OBJECT} ({_ASK})\b{_NOT_A_REQUEST}",
    rf"\b(no|nunca|jamas|nunca mas|ni) {_OBJECT} {_TALK}{_THE_END}",
    rf"\bque no {_OBJECT} {_ASKED_POLITELY}\b",
    rf"\b(favor de|por favor|porfa|no|ya no)( ya)? no ({_INFINITIVE}(me|nos)\b|{_TO_US})",
    rf"\b(no|ya no) ({_INFINITIVE}(me|nos))\b",
    rf"\b(no|nunca|jamas) ({_OBJECT} )?(vuelv\w*|volver) a ({_INFINITIVE}|hablar)\w*",
    rf"\b(no|nunca|jamas|ya no) ({_OBJECT} )?(sigan|siga|sigas|esten|este|estes|anden) "
    rf"{_GERUND}\b",
    # "no llamen más", "no llamen a este número", "no marquen aquí".
    r"\bno (llamen|llame|llames|llameis|marquen|marque|marques|hablen)( (mas|a este|aqui|aca|"
    r"a esta|a la casa|a mi|nunca|otra vez|de nuevo)\b|$)",
    # "dejen de llamar(me)", "para de marcarme", "déjenme de llamar"; never "no (me) dejen de
    # llamar" or "no me vaya a dejar de llamar" (keep calling me).
    rf"\b(?<!no )(?<!no me )(?<!no nos )(?<!vaya a )(?<!vayan a )(?<!vayas a )(deje|dejen|deja|"
    rf"dejes|dejad|dejar|dejan|paren|pare|para|parad|parar) de? (estar(me|nos)? {_GERUND}|"
    rf"{_TO_US}|"
    rf"mandar (\w+ )?{_CALLS})",
    rf"\b(?<!no )(dejenme|dejeme|dejame|dejennos|dejenos) de? ({_INFINITIVE}|estar {_GERUND})",
    # "ya párenle (con las llamadas)", "ya para con las llamadas".
    rf"\b(ya )?(parenle|parale|parele)\b|\b(para|paren|pare)( ya)? con (las |tanta |tantas |"
    rf"sus |estas )?{_CALLS}\b",
    # "no quiero que me llamen", "no queremos que nos sigan llamando", "mi esposo no quiere que
    # le hablen"; "no quiero que me llame el doctor" (wants the nurse) is not one.
    rf"\b(no|tampoco) (quiero|queremos|quiere|quieren|deseo|deseamos|necesito) que "
    rf"({_OBJECT} )?((sigan|vuelvan a|esten) )?((llam|yam|marc|contact|molest)\w*\b"
    rf"{_NOT_A_REQUEST}|({_TALK}|hablando|escribiendo){_THE_END})",
    r"\bno (quiero|queremos|quiere|deseo|deseamos) ser (contactad|llamad|molestad)\w*",
    rf"\b(no|ya no) (quiero|queremos|quiere|deseo) (estar|seguir) en (su|la|sus|esa|esta) "
    rf"{_OUR_LIST}",
    # "no quiero más llamadas", "no más llamadas", "ni una llamada más", "no me hagan calls".
    rf"\b(no|ya no) (quiero|queremos|quiere|quieren|deseo|necesito)( recibir)?( mas| ningunas?|"
    rf" sus| estas| esas| tantas)? {_CALLS}\b",
    rf"\b(no|ni una|ninguna) mas {_CALLS}\b|\bno mas {_CALLS}\b|\bni una (llamada|llamadita) mas\b",
    rf"\bnada de {_CALLS}\b|\bpero (\w+ )?(llamadas|llamaditas) no\b",
    rf"(?<!no )(?<!no me )(?<!no nos )\bcancel\w* (estas|las|sus|tantas|todas las) "
    rf"{_CALLS}\b",
    rf"\bno ({_OBJECT} )?(hagan|haga|hagas|manden|mande|mandes|envien|envie)( mas)? {_CALLS}\b",
    # "basta de llamadas", "ya estuvo con las llamadas", "estoy harta de sus llamadas"; never
    # "basta con que me llamen un día antes" or "harta de que no me llamen".
    r"^((ya|por favor|porfa|oiga|senorita|senor|ay) )*basta( (ya|basta|por favor))*$",
    rf"\b(basta|ya basta|suficiente|ya estuvo|ya estuvo bueno|ya chole|chole) (de|con) (\w+ )?"
    rf"{_CALLS}\b|\b(basta|ya basta) de ({_TO_US}|que me (esten|sigan) {_GERUND})",
    rf"\b(hart|cansad|aburrid|fastidiad)\w* (de|con) (\w+ ){{0,2}}{_CALLS}\b|\b(hart|cansad|"
    rf"aburrid|fastidiad)\w* de que me (\w+ )?({_ASK}|{_GERUND})\b",
    # The list: "quíteme / sáquenme / bórrenme de su lista", "borren mi número del sistema";
    # never "la lista de espera", "quiten el número viejo y pongan este".
    r"\b(quit|saqu|sac|borr|elimin|remuev|remov)\w*( (a mi|mi|este|el|nuestro) (numero|"
    r"telefono|celular|nombre|contacto))? (de|del)( eh| este| pues)? (la |su |sus |las |tu |"
    rf"esa |esta |esas |estas )?{_OUR_LIST}",
    r"\b(quite|quiten|quita|borre|borren|borra|elimine|eliminen|elimina|saquen|saque)(n|le|"
    r"lo|la|me|nme)? (mi|mis|este|su) (numero|telefono|celular|contacto|nombre|datos)"
    r"( (por favor|porfa|ya|de una vez))*$",
    r"\b(borrenme|borreme|borrame|eliminenme|elimineme|eliminame|borrenos|borrennos)"
    r"( (por favor|porfa|ya|ahora|de una vez|de todo))*$",
    r"\b(quitenme|quiteme|quitame|saquenme|saqueme|sacame) de (todo|sus llamadas|las llamadas)\b",
    r"\b(pierdan|pierda|pierde|olvidense de|olvidese de|olvidate de|tiren|boten) (mi|este) "
    r"(numero|telefono|celular)\b",
    rf"\b(dar|darme|darnos|denme|deme|dame|doy|daria) de baja( (de|del|de la|de las|de los|"
    rf"de su|de sus) "
    rf"({_OUR_LIST}|llamadas|todo|ustedes))?( (por favor|porfa|ya))*$",
    r"\blista de no (llamar|llamadas|contactar|molestar)\b",
    # "ya no quiero saber nada de ustedes", "no quiero tener nada que ver con ustedes": nothing
    # more from the practice, the clause ending there; never "de la clínica de mi hermana",
    # "de ustedes hasta el lunes", "de usted el resultado", nor a third person's ("mi esposo
    # no quiere...").
    r"\bno (quiero|queremos) (saber (nada |mas |nada mas |mas nada )?(mas )?de|tener nada "
    r"(mas )?que ver con|nada (mas )?con) (ustedes|usted|ti|uds|vosotros|esa clinica|esta "
    r"clinica|la clinica|su clinica|este lugar|ese lugar|su consultorio|su spa|ese spa)( (ni de "
    r"(su|la|esa) (clinica|consultorio|spa)|ya|nunca|nunca mas|jamas|por favor|gracias))*$",
    r"\b(dejenme|dejeme|dejame|dejenos|dejennos|dejadme) (en paz|tranquil\w*)\b",
    # Consent revoked or never given; "retiré mi permiso en el trabajo" is not one.
    r"\b(revoc|retir|cancel|quit)\w* (mi |el |su |nuestro )?(consentimiento|autorizacion)\b|"
    rf"\b(revoc|retir|cancel|quit)\w* (mi |el |su |nuestro )?permiso( (para|de) "
    rf"({_INFINITIVE}|que me)\w*|{_THE_END})",
    r"\b(nunca|jamas|no) (les |le )?(di|dimos|he dado|doy|damos|autorice|autorizo|"
    r"acepte|consenti)( (mi|el|ningun|su))? (permiso|consentimiento|autorizacion)\b",
    rf"\bno (autorizo|consiento|acepto) (que me|estas|sus|las) (\w+ )?({_CALLS}|{_ASK})\b",
    rf"\bno (tienen|tiene|tienes) (mi )?permiso (para|de) {_INFINITIVE}",
    rf"\bno (les |le )?autorizo (a|para) {_INFINITIVE}",
)
# Asked for in the negative ("no quiero que dejen de llamarme", "no es que no me llamen"), or
# a clause about something else ("estoy harta de que no me llamen", "cansada de esperar que me
# llamen", "si no me contestan"); never "no señorita, le digo que no me llamen más".
NEGATED_ES: Final = re.compile(
    r"\b((no|tampoco|nunca) (les |le |te )?(quiero|queremos|pido|digo|dije|es|estoy diciendo|"
    r"necesito|deseo)( decir)? que|(esperar|espero|porque|cuando) que|(hart|cansad|aburrid|"
    r"fastidiad)\w* de (esperar )?que) ?$"
)
# "Dejé de llamarla", "ya no la llamé", "marqué": a report in the first person's past, which
# folding the accent would make a request ("deje de llamar", "no la llame").
PAST_ES: Final = re.compile(r"\b(llam|yam|marqu|dej|contact|molest|habl)(é|É)\b")
