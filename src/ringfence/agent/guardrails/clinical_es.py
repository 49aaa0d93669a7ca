"""The clinical assessor's Spanish patterns (`guardrails.clinical`), matched on accent-folded
clauses ("está" -> "esta"), so a transcript with or without its accents reads the same.

Same labels as the English tables. "Peor" alone is a worse day, not a complication (as
"worse" in English): it counts only beside clinical words. Idioms that borrow the words
("qué dolor de cabeza" for a hassle, "casi me desmayo" at a price, "trabajo en urgencias")
are removed from a clause before it is read.
"""

from __future__ import annotations

from typing import Final

_COLOUR: Final = r"(blanc|gris|azul|morad|oscur|negr|palid|amoratad|verdos)\w*"
_BODY: Final = (
    r"(labios?|piel|nariz|punta|cachetes?|mejillas?|barbilla|menton|frente|cara|zona|dedos?|"
    r"parpados?|ojeras?|herida|incision|boca|encias?|orejas?|brazos?|piernas?|panza|abdomen|"
    r"pecho|cuello|senos?|pezon\w*|ceja)"
)

CLINICAL_ES: Final = {
    "symptom": r"\b(hinch\w*|inflam\w*|moreton\w*|moraton\w*|morados?|hematomas?|"
    r"bult(o|os|ito|itos)|bolit\w*|chipote|entumid\w*|entumecid\w*|adormecid\w*|"
    r"(labio|boca|cara|mejilla|cachete|frente|lengua|zona|piel|menton)s? (\w+ ){0,2}dormid[oa]s?|"
    r"se (me |le )?(durmio|duerme)|"
    r"comezon|picazon|picor|me pica|ronchas?|sarpullido|erupcion|enrojecid\w*|rojez\w*|"
    r"(esta|estan|se ve|se puso|quedo|muy|bien|piel|zona|cara|labios?|mejillas?|cachetes?|nariz) "
    r"(muy |bien )?(roj[oa]s?|colorad[oa]s?)|"
    r"(esta|estan|siento|tengo|la piel|muy|bien) sensibles?|"
    r"adolorid\w*|dolor|me duelen?|duele|ardor|arde|(me |le )?quem\w*|ampollas?|costras?|"
    r"cicatri\w*|sangr\w*|nauseas?|marea\w*|mareos?|asimetri\w*|disparej\w*|chuec[oa]|"
    r"hormigueo|granitos|reaccion|pelando|descamacion|punzadas?|palpitaciones)\b",
    "dosage": r"\b(dosis|cuantas (unidades|jeringas)|unidades de|\d+ unidades|miligramos?)\b",
    "side_effect": r"\b(efectos? (secundarios?|adversos?)|complicacion\w*|riesgos?|"
    r"(tiempo de )?recuperacion)\b",
    "normal_question": r"\b(es|sera|eso es|esto es) (normal|seguro)\b|"
    r"\bdebo (de )?preocupar\w*|\b(me preocupa|estoy preocupad\w*)\b|"
    r"\bpuedo (hacer ejercicio|ir al gimnasio|tomar el sol|broncear\w*|maquillar\w*|"
    r"ir a la playa|volar|acostarme|dormir boca)\b",
    "medication": r"\b(medicamentos?|medicinas?|pastillas?|receta|antibiotic\w*|"
    r"anticoagulantes?|ibuprofeno|aspirina|paracetamol|acetaminofen|tylenol|advil|"
    r"analgesic\w*|antiinflamatori\w*|antihistaminic\w*|benadryl|arnica|alcohol|"
    r"(tomar|beber) (vino|cerveza|tragos)|(puedo|se puede|podria) fumar|fumar (despues|antes)|"
    r"esteroides?|prednisona|vitamina e|"
    r"aceite de pescado|ozempic)\b",
    "pregnancy": r"\b(embaraz\w*|amamant\w*|lactancia|dando (el )?pecho|dando de mamar)\b",
    "allergy": r"\b(alergi\w*|alergic\w*|anafila\w*)\b",
}
URGENT_ES: Final = {
    # Counts only in a turn with a symptom (as "worse" in English).
    # "Extendiendo" needs its Spanish auxiliary: English "extending" shares its letters.
    "worsening": r"\b(peor|empeor\w*|extiende(n)?|expande(n)?|esparce(n)?|cada vez (peor|mas "
    r"(grande|hinchad\w*|inflamad\w*|roj\w*|morad\w*|fuerte|oscur\w*))|mas grande|"
    r"se (me |le )?(esta |ha |va )?(extendi|expandi|esparci)\w*|(esta|sigue|va) "
    r"(extendiendo|expandiendo|esparciendo)|regando|rego|"
    r"subiendo|avanza\w*|creciendo|crece)\b",
    "severe_pain": r"\b(dolor|hinchazon|inflamacion)( de cabeza)? (muy )?(fuerte|intens[oa]|"
    r"insoportable|terrible|horrible|espantos[oa])\b|\b(mucho|muchisimo|demasiado) dolor\b|"
    r"\bme duelen? (mucho|muchisimo|horrible|demasiado|un monton|bastante)\b|"
    r"\binsoportable\b|\bno (aguanto|soporto) el dolor\b",
    "vision": r"\b(no (veo|ve|ven|vemos) (bien|claro) (del|de un|de este|de ese|de mi|de su|con "
    r"el|con ese) ojo|no (veo|ve) bien desde|(veo|ve|viendo) (borroso|doble|nublado|manchas)|"
    r"vision (borrosa|doble|nublada)|vista (borrosa|nublada)|borros[oa]s?|"
    r"no puedo ver|cieg[oa]|ceguera|(perdi|pierdo|perdiendo) la (vista|vision))\b",
    # "Se puso blanco" always counts; "poniendo", "como", "medio" + a colour in context only
    # (`IN_CONTEXT_ES`).
    "blanching": r"\b(puso|volvi\w*|vuelto|quedo|torn\w*) (\w+ ){0,2}"
    + _COLOUR
    + r"|\b(piel|mancha|manchas|labio|labios|nariz|punta|cachete|mejilla|barbilla) (\w+ )?"
    + _COLOUR
    + r"|\b"
    + _COLOUR
    + r" y (frio|fria|helad\w*)\b|\b(palid\w*|amoratad\w*|moteada)\b",
    "fever": r"\b(fiebre|calentura|escalofrios|temperatura)\b",
    "infection": r"\b(infecci\w*|infectad\w*|pus|supur\w*|absceso|caliente al tacto|"
    r"(la|lo|los|las) siento caliente\w*|se siente caliente|" + _BODY + r" (\w+ ){0,2}caliente|"
    r"(sale|saca|bota|echa|saliendo) (un |una |como |un poco de |algo de )?(liquido|pus|agua)|"
    r"(sale|saca|bota|echa|saliendo) (\w+ )?materia|tiene materia)\b",
    "breathing": r"\b(no puedo|no puede|me cuesta|le cuesta|dificultad para|problemas? para|"
    r"trabajo para|sin poder) (respirar|tragar)\b|"
    r"\b(me falta el aire|le falta el aire|falta de aire|me ahog\w*|se ahog\w*|ahogando)\b|"
    r"\b(garganta|lengua) (\w+ ){0,2}(hinchad|cerrad|inflamad|apretad)\w*|"
    r"\bse (me |le )?(cierra|esta cerrando) la garganta\b",
    "drooping": r"\b((parpado|ceja|ojo|cara|boca|labio)s? (caid|colgad)\w*|se (me |le )?"
    r"(cae|cayo|esta cayendo|bajo|esta bajando) (el|la) (parpado|ojo|ceja|cara|boca)|"
    r"media cara|no (puedo|puede) (sonreir|abrir (bien )?el ojo|cerrar (bien )?el ojo)|"
    r"arrastr\w* (las palabras|la lengua)|ptosis)\b",
    "emergency": r"\b(emergencias?|hospital|urgencias|911|ambulancia|dolor (en el|de|del) pecho|"
    r"me duele el pecho|desmay\w*|perd\w* el conocimiento|vahido|patatus|soponcio|"
    r"coagulos?|trombo\w*)\b",
    "bleeding": r"\b(sangr\w* (mucho|muchisimo|demasiado|sin parar)|no (para|deja) de sangrar|"
    r"(sangr\w*|bleeding) (\w+ ){0,2}y no (para|se detiene|se para|se quita)|"
    r"(llevo|van|ya llevo|ya van) (como )?(dos|tres|cuatro|cinco|varias|muchas|\d+) (gasas|"
    r"vendas|apositos)|"
    r"sangrado (\w+ ){0,4}no (para|se detiene|se quita|deja)|"
    r"se (me |le )?abrio (la herida|la incision|la cicatriz)|(puntos|incision|herida|cicatriz|"
    r"sutura)( de (la|el|los|las) \w+)? se (me |le )?(abrio|abrieron|solto|soltaron|revento))\b",
    "necrosis": r"\b(necros\w*|piel (muerta|negra)|costra negra)\b",
}
# Urgent only in a clinical context (a part of the body or a treatment in the turn,
# `CONTEXT_ES`): said loosely, they have other senses ("mi mamá no ve bien para manejar",
# "la casa está muy caliente", "se está poniendo oscuro").
IN_CONTEXT_ES: Final = {
    "blanching": r"\b(pon\w*|quedando|como|medio|algo) (\w+ ){0,2}" + _COLOUR,
    "vision": r"\bno (veo|ve|vemos) (bien|claro)\b",
    "infection": r"\b(esta|estan|muy) caliente\b|\bhuele (mal|feo|maluco|raro|horrible)\b",
}
CONTEXT_ES: Final = (
    r"\b" + _BODY + r"\b|\b(ojos?|manos?|relleno|botox|inyec\w*|tratamiento|procedimiento|"
    r"cirugia|operacion|lipo\w*|laser|peeling|donde me)\b"
)
# Removed from a clause before it is read: the words in another sense.
IDIOMS_ES: Final = (
    # ... unless it is a severe headache ("es un dolor de cabeza muy fuerte").
    r"\b(que|vaya|menudo) dolor de (cabeza|muelas)\b(?! (muy |tan )?(fuerte|intens|horrib|"
    r"terrib|insoport))",
    r"\bes un (verdadero |autentico )?dolor de (cabeza|muelas)\b(?! (muy |tan )?(fuerte|"
    r"intens|horrib|terrib|insoport))",
    r"\bse puso (\w+ )?(negro|gris|oscuro|nublado) el (cielo|dia|tiempo)\b",
    r"\bel (cielo|dia|tiempo) se puso (\w+ )?(negro|gris|oscuro|nublado)\b",
    # The bill, not the wound: "me dio un patatus cuando vi la herida abierta" is a faint.
    r"\b(casi me (desmay\w*|muero)|me dio un (patatus|soponcio|vahido)) (con (el|la|los|las) "
    r"(precio|cuenta|factura|costo)|(cuando (vi|me dijeron|escuche|oi)|al ver) ((el|la) "
    r"(precio|cuenta|factura|costo)|cuanto (cuesta|costaba|cobran|era))|de (la )?risa)\b",
    r"\b(veo|viendo) doble de (tanto(?! en tanto)|tanta|puro|pura|cansancio|sueno)\b",
    r"\bme muero (por|de ganas)\b",
    r"\bmuert[oa]s? de (cansancio|hambre|risa|sueno|ganas|calor|frio)\b",
    r"\btrabaj\w* (de noche |de dia |por las noches |como \w+ )?(en|de) (el hospital|"
    r"un hospital|urgencias|emergencias|la sala de emergencias)\b",
    r"\bsoy (enfermer[oa]|doctor[a]?|medic[oa]|paramedic[oa]|camiller[oa]|recepcionista) "
    r"(en|de|del) (el |un |la )?(hospital|urgencias|emergencias)\b",
    r"\b(estamos|estoy|esta|estan) (sangrando|perdiendo) (plata|dinero|lana|billete)\b",
    r"\b(el precio|la cuenta|el costo) (me )?(dolio|duele)\b",
    r"\bme duele el bolsillo\b",
    r"\bemergencia (familiar|en (la familia|casa|el trabajo))\b",
    r"\bme (esta|estan) matando\b",
    r"\b(estoy que )?me desmayo (del|de) (hambre|cansancio|sueno|calor)\b",
    r"\bme ahog\w* (con|en) (tant[oa]s? |el |la |los |las )?(papel\w*|trabajo|tramites|deudas|"
    r"cuentas|tareas?)\b",
    r"\bse (me |le )?puso (\w+ ){0,2}(morad|negr|azul|blanc|gris)\w* (el|la|mi) (celular|"
    r"telefono|pantalla|compu\w*|carro|tele\w*)\b",
    r"\b(mi|tu|su|nuestra) vision (para|de) (este|el|los) (ano|anos|futuro|negocio)\b",
    r"\b(mi|tu|su|nuestra) vision es (hacer|hacerme|tener|lograr|ser|verme|quedar)\b",
    # A pet is never the patient: "mi perro tiene fiebre", "mi gato anda con la pata hinchada".
    # Up to five words, never past a conjunction ("mi perro está bien pero no puedo respirar").
    r"\b(mi|el|la|nuestr[oa]) (perr\w*|gat\w*|mascota) (tiene|tenia|tuvo|anda|esta|estaba|"
    r"amanecio|se)( (?!(y|pero|entonces|asi|ahora|yo|me|mi|se|no|perdon|porque)\b)\w+){0,5}",
)
