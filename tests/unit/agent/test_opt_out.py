"""Opt-out detection: both directions, by example and by property."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.agent.guardrails.opt_out import OptOutRule, detect_opt_out

EXPLICIT = [
    "stop calling me",
    # 2026-12-08: the calls pointless, nothing more to do with the practice
    "i'm not coming back so there's no point calling me",
    "there's no point in calling me anymore",
    "honestly no use calling us, we moved",
    "no point in you calling me",
    "it's pointless calling me",
    "theres no reason to ever call me again",
    "no reason to call me anymore",
    "remove me from your list",
    "I don't want this",
    "take me off",
    "take me off your list",
    "unsubscribe",
    "don't call me again",
    "Please STOP calling me!",
    "dont call me again",
    "do not call me",
    "I want to opt out",
    "opt me out",
    "I revoke my consent",
    "I withdraw my consent",
    "put me on your do not call list",
    "no more calls",
    "leave me alone",
    "lose my number",
    "delete my number",
    "quit calling me",
    "stop contacting me",
    "stop bothering me",
    "end these calls",
    "cancel these calls",
    "I don't want any more calls",
    "I do not want to be called",
    "never call me again",
    "you should not call me anymore",
    "get me off the list",
    "take my number off your list",
    "why don\u2019t you stop calling me",
    "I don't want you to call me",
]
BARE = [
    "stop",
    "Stop.",
    "STOP!",
    "please stop",
    "just stop",
    "I said stop",
    "stop it",
    "quit",
    "end",
    "revoke",
    "opt out",
    "cancel",
    "stop stop stop",
    "I want you to stop",
    "can you stop",
    "would you please just stop",
    "I'd like to stop",
    "stop I'm not interested",
]
NOT_OPT_OUT = [
    "can I cancel my appointment?",
    "there's no point calling me before noon",
    "no point calling me back today, i'm at work",
    "no need to call me, i'll be there",
    "there's no point calling me if you can't give me a saturday",
    "I want nothing to do with fillers ever again",
    "no point calling me to confirm, I already confirmed online",
    "no point calling me later, just email",
    "there's no reason to call me, my daughter made the appointment",
    "no reason to call me, everything went fine",
    "my husband wants nothing to do with your clinic but I do",
    "she wants nothing to do with your office",
    "i don't want anything to do with your clinic's new laser",
    "I want nothing to do with your office manager, can I speak to the doctor",
    "do you think I want nothing to do with you?",
    "it's not that I want nothing to do with you",
    "I need to cancel my appointment",
    "I need to cancel",
    "cancel it",
    "yes cancel it please",
    "don't stop, go on",
    "no, don't stop",
    "I'll stop by on Friday",
    "I can stop in after work",
    "I'll stop at the front desk",
    "the swelling won't stop",
    "I can't stop thinking about it",
    "I quit smoking last year",
    "at the end of the month works",
    "my weekend is busy",
    "the end of next week is better",
    "yes, I'll be there",
    "can we do Thursday at 3 pm instead?",
    "I'm not interested",
    "no thanks",
    "call me back tomorrow",
    "you have the wrong number",
    "should I stop taking aspirin before?",
    "stop taking retinol a week before?",
    "I don't want to opt out",
    "please don't remove me",
    "I don't want this appointment moved",
    "what time does it end?",
    "is this a robot?",
    "sounds good, see you then",
    "I had to stop at the pharmacy",
    "the bus stop is right outside",
    "that was nonstop fun",
    "don't cancel my appointment",
    "I'd like to keep my appointment",
    "yes this is Jane",
    "how much is a syringe of filler?",
    "the appointment should end by four",
]


@pytest.mark.parametrize("text", EXPLICIT)
def test_explicit_requests_are_opt_outs(text: str) -> None:
    assert detect_opt_out(text, appointment_in_context=True) is not None


@pytest.mark.parametrize("text", BARE)
def test_revocation_words_in_context_are_opt_outs(text: str) -> None:
    assert detect_opt_out(text, appointment_in_context=False) is not None


@pytest.mark.parametrize("text", NOT_OPT_OUT)
def test_non_opt_outs_never_trigger(text: str) -> None:
    assert detect_opt_out(text, appointment_in_context=True) is None


def test_cancel_without_an_appointment_in_context_is_a_revocation() -> None:
    for text in ("I want to cancel", "cancel it", "cancel"):
        assert detect_opt_out(text, appointment_in_context=False) is not None


def test_a_bare_cancel_is_honoured_even_with_an_appointment() -> None:
    match = detect_opt_out("Cancel.", appointment_in_context=True)
    assert match is not None
    assert match.rule is OptOutRule.ALONE


def test_rules_are_reported() -> None:
    assert detect_opt_out("stop calling me") == detect_opt_out("STOP CALLING ME")
    phrase = detect_opt_out("well, please remove me from the list")
    assert phrase is not None
    assert phrase.rule is OptOutRule.PHRASE
    leading = detect_opt_out("stop I am busy")
    assert leading is not None
    assert leading.rule is OptOutRule.LEADING


NEUTRAL = [
    "Hi there",
    "I got your message yesterday",
    "honestly",
    # Not "look": joined by a bare space after "I don't want this" it makes "I don't want this
    # look", which is about the treatment's result (opt_out.py excludes it on purpose).
    "listen",
    "I'm at work right now",
    "my husband said you called",
    "it was nice to meet the team",
    "the parking was easy last time",
    "okay",
    "so anyway",
    "I appreciate it",
    "that consultation was a while ago",
]
JOINERS = [". ", ", ", " ", "! ", "; ", " - ", "... "]
# Requests whose rule needs the clause to end with them ("I want nothing to do with you"; "...
# with your office manager" is about someone else): found between punctuated sentences.
CLAUSE_FINAL = [
    "I want nothing to do with you anymore, I have some bruising",
    "i don't want anything to do with your clinic",
    "i don't want nothing to do with y'all",
    "I want no part of your clinic",
    "we want nothing to do with you people",
    "Ya no quiero saber nada de ustedes, tengo un poco de moretón desde ayer.",
    "ya no quiero saber de ustedes",
    "no quiero saber nada mas de esa clinica",
    "no quiero tener nada que ver con ustedes",
    "no queremos saber nada de vosotros",
]


@given(
    before=st.lists(st.sampled_from(NEUTRAL), max_size=3),
    phrase=st.sampled_from(CLAUSE_FINAL),
    after=st.lists(st.sampled_from(NEUTRAL), max_size=3),
    joiner=st.sampled_from([". ", ", ", "! ", "; ", "... "]),
)
def test_clause_final_requests_are_found_between_punctuated_sentences(
    before: list[str], phrase: str, after: list[str], joiner: str
) -> None:
    assert detect_opt_out(joiner.join([*before, phrase, *after])) is not None


@given(
    before=st.lists(st.sampled_from(NEUTRAL), max_size=3),
    phrase=st.sampled_from(EXPLICIT),
    after=st.lists(st.sampled_from(NEUTRAL), max_size=3),
    joiner=st.sampled_from(JOINERS),
    upper=st.booleans(),
    appointment=st.booleans(),
)
def test_explicit_phrases_are_found_inside_any_surrounding_sentences(
    before: list[str],
    phrase: str,
    after: list[str],
    joiner: str,
    upper: bool,
    appointment: bool,
) -> None:
    text = joiner.join([*before, phrase, *after])
    text = text.upper() if upper else text
    assert detect_opt_out(text, appointment_in_context=appointment) is not None


@given(
    before=st.lists(st.sampled_from(NEUTRAL), max_size=3),
    word=st.sampled_from(["stop", "Stop!", "quit", "end", "unsubscribe", "opt out", "revoke"]),
    after=st.lists(st.sampled_from(NEUTRAL), max_size=3),
    joiner=st.sampled_from([". ", "! ", ", ", "? ", "; "]),
)
def test_revocation_words_said_on_their_own_are_found_anywhere(
    before: list[str], word: str, after: list[str], joiner: str
) -> None:
    text = joiner.join([*before, word, *after])
    assert detect_opt_out(text, appointment_in_context=True) is not None


@given(
    sentences=st.lists(st.sampled_from(NOT_OPT_OUT + NEUTRAL), min_size=1, max_size=4),
    joiner=st.sampled_from([". ", "? ", "! "]),
)
def test_a_corpus_of_non_opt_out_sentences_never_triggers(
    sentences: list[str], joiner: str
) -> None:
    assert detect_opt_out(joiner.join(sentences), appointment_in_context=True) is None


# -- Spanish (`opt_out_es`) ---------------------------------------------------------------------
EXPLICIT_ES = [
    "No me llame más, por favor.",
    "ya no nos marquen a este número",
    "Por favor, no me vuelvan a llamar.",
    "a mi papá ya no lo llamen",
    "no me sigan molestando con eso",
    "no me llaméis más, gracias",
    "ya no me hablen a este cel",
    "porfa ya no me yamen",
    "Dejen de llamarme.",
    "para de marcarme",
    "dejen de estar llamando a cada rato",
    "No quiero que me llamen.",
    "mi esposa no quiere que la sigan llamando",
    "no quiero recibir más llamadas",
    "no más mensajes por favor",
    "nada de llamadas, gracias",
    "ya basta de llamadas",
    "ya basta",
    "estoy harta de sus llamadas",
    "ya me tienen cansado con tanta llamada",
    "ya párenle con las llamaditas",
    "Quítenme de su lista.",
    "sáquenme de la lista por favor",
    "quiten mi número del sistema",
    "bórrenme",
    "pierdan mi número",
    "quiero darme de baja",
    "denme de baja de todo",
    "póngame en la lista de no llamar",
    "déjenme en paz",
    "retiro mi consentimiento",
    "yo nunca di permiso para esto",
    "le agradecería que no me llamara más",
    "favor de no llamarme",
    "cancelen estas llamadas",
    # Review findings: plain requests the first rules missed.
    "no señorita, le digo que no me llamen más",
    "no pues quiero que no me llamen",
    "déjenme de llamar",
    "ya no llamarme por favor",
    "no quiero ser contactada",
    "ya no estén llamando",
    "no tienen mi permiso para llamarme",
    "ya no quiero estar en su lista",
    "sí, ya no me llamen",
    "les escribo para que no me llamen más",
    # Second review: what the first fixes lost.
    "no me sigan hablando",
    "no me hablen por teléfono",
    "no me hablen ni me manden mensajes",
    "no quiero que me llamen de la clínica",
    "dejen de llamar a mi casa",
    "quiero darme de baja de las llamadas",
    "sí que no me llamen más",
    "les pido de que no me llamen",
    "tampoco quiero que me llamen",
    "dejen de estarme llamando",
    "borren mis datos",
]
NOT_OPT_OUT_ES = [
    "nadie me llamó para confirmar",
    "no quiero saber nada de la cirugia",
    "no quiero saber nada de ellos, me trataron mal",
    "no es que no quiera saber nada de ustedes",
    "no quiero saber nada de la clinica de mi hermana",
    "no quiero saber nada de la clínica vieja, por eso me cambié con ustedes",
    "no quiero saber nada de ustedes hasta el lunes, estoy de viaje",
    "no quiero saber de usted el resultado por telefono, mejor en persona",
    "mi esposo no quiere saber nada de esa clinica, pero yo sí quiero ir",
    "¿no quiere saber nada de ustedes?",
    "no me llamaron ayer",
    "¿no me van a llamar para la cita?",
    "nadie me llama de la clínica",
    "Llámeme más tarde, estoy manejando.",
    "me llamo Ana Torres",
    "No quiero que dejen de llamarme, se me olvidan las citas.",
    "no dejen de llamarme",
    "mi hijo tiene un robot que no deja de hablar",
    "dejen de hablar tan rápido, no le entiendo",
    "quíteme la cita del martes y póngame el jueves",
    "no me quite la cita, sí voy",
    "dejé de fumar hace un año",
    "para el jueves está bien",
    "baje el volumen por favor",
    "no estoy interesada en el paquete",
    "me borré de la app del gimnasio",
    "el doctor me dio permiso de hacer ejercicio",
    # Review findings: what the first rules read as requests.
    "si no me contestan no me dejen de llamar",
    "no me vaya a dejar de llamar",
    "no me hablen en inglés por favor",
    "no me hable tan rápido",
    "estoy harta de que no me llamen para confirmar",
    "basta con que me llamen un día antes",
    "quíteme de la lista de espera",
    "quiero darme de baja del plan de pagos",
    "bórreme de la cita del viernes y póngame el lunes",
    "quiten el número viejo y pongan este",
    "retiré mi permiso en el trabajo",
    "deja de molestar a tu hermana",
    "no quiero que me llame el doctor, quiero hablar con la enfermera",
    "no me llame la atención",
    "no me escriba al correo, mejor mándeme mensaje",
    "ya basta de hablar de precios",
    # Second review.
    "no me cancelen las llamadas de recordatorio",
    "no me llames mija, dime señora",
    "no me llame el doctor, mejor la enfermera",
    "la dejé de llamar",
    "ya no la llamé",
    "no me busquen en la lista de espera",
]
NEUTRAL_ES = ["sí, soy yo", "eh, este", "estoy en el trabajo", "oiga", "mire"]


@pytest.mark.parametrize("text", EXPLICIT_ES)
def test_spanish_requests_are_opt_outs(text: str) -> None:
    found = detect_opt_out(text, appointment_in_context=True)
    assert found is not None
    assert found.rule is OptOutRule.PHRASE


@pytest.mark.parametrize("text", NOT_OPT_OUT_ES)
def test_spanish_non_opt_outs_never_trigger(text: str) -> None:
    assert detect_opt_out(text, appointment_in_context=True) is None


@given(
    before=st.lists(st.sampled_from(NEUTRAL_ES), max_size=3),
    phrase=st.sampled_from(EXPLICIT_ES),
    after=st.lists(st.sampled_from(NEUTRAL_ES), max_size=3),
    joiner=st.sampled_from([". ", "? ", "! ", ", ", "; "]),
    accents=st.booleans(),
    upper=st.booleans(),
)
def test_spanish_requests_are_found_with_or_without_their_accents(
    before: list[str], phrase: str, after: list[str], joiner: str, accents: bool, upper: bool
) -> None:
    text = joiner.join([*before, phrase, *after])
    if not accents:
        text = text.translate(str.maketrans("áéíóúÁÉÍÓÚ", "aeiouAEIOU"))
    text = text.upper() if upper else text
    assert detect_opt_out(text, appointment_in_context=True) is not None
