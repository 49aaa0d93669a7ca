"""A possible complication reaches staff as URGENT, in Spanish too, and the callee hears the
911 line in their language (issue 15: Spanish clinical questions; docs/agent-evaluation.md,
"Urgency")."""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import pytest

from ringfence.agent.events import (
    AiDisclosed,
    EndReason,
    EventKind,
    FollowUpReason,
    StaffFollowUp,
)
from ringfence.agent.guardrails.clinical import ClinicalConcern, assess_clinical
from ringfence.agent.lines import (
    CLINICAL_DEFERRAL_ES,
    EMERGENCY_LINE_ES,
    OPT_OUT_QUESTION_ES,
    URGENT_DEFERRAL_ES,
    URGENT_FLAG_ES,
    URGENT_GOODBYE_ES,
)
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.runtime import (
    ConversationRuntime,
    _as_an_answer,
)
from ringfence.agent.understanding.decision import Understanding
from ringfence.agent.understanding.labels import Label
from ringfence.agent.understanding.understander import LearnedUnderstander
from ringfence.agent.understanding.urgency_corpus import (
    TEST_FROZEN,
    TEST_FROZEN_V2,
    TEST_FROZEN_V3,
    TEST_FROZEN_V4,
    TEST_FROZEN_V6,
    TEST_FROZEN_V8,
    TRAINING,
    Urgency,
    load_cases,
    shipped,
)
from ringfence.agent.urgency_evaluation import evaluate, predict
from ringfence.domain.vocabulary import TaskPriority

from .factories import PRACTICE, outbound, profile

UNDERSTANDER = LearnedUnderstander()


def confirmed() -> ConversationRuntime:
    runtime = ConversationRuntime(
        profile(), outbound(), ScriptedPolicy(), understander=UNDERSTANDER
    )
    runtime.start()
    runtime.respond("Yes, this is Jane.")
    return runtime


def staff_tasks(runtime: ConversationRuntime) -> list[StaffFollowUp]:
    clinical = {FollowUpReason.POSSIBLE_COMPLICATION, FollowUpReason.CLINICAL_QUESTION}
    return [e for e in runtime.events if isinstance(e, StaffFollowUp) and e.reason in clinical]


# -- the assessor, Spanish and idioms ---------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("desde el relleno no puedo respirar bien", True),
        ("a mi hermana se le está poniendo morada la nariz", True),
        ("tengo fiebre y la mejilla me supura", True),
        ("veo borroso del ojo izquierdo desde ayer", True),
        ("se me cayó el párpado después del botox", True),
        ("la hinchazón va cada vez peor", True),
        ("tengo un dolor insoportable en los labios", True),
        ("la herida no deja de sangrar", True),
        ("mi mamá se desmayó esta mañana después de la lipo", True),
        ("tengo un poco de moretón, ¿es normal?", False),
        ("¿puedo tomar ibuprofeno antes de la cita?", False),
        ("estoy embarazada, ¿puedo hacerme el botox?", False),
        ("tengo el labio un poco dormido todavía", False),
    ],
)
def test_spanish_clinical_words_and_complications(text: str, urgent: bool) -> None:
    concern = assess_clinical(text)
    assert concern is not None
    assert concern.urgent is urgent


@pytest.mark.parametrize(
    "text",
    [
        "ay qué dolor de cabeza con el tráfico, pero sí voy",
        "casi me desmayo cuando vi la cuenta",
        "me muero por ver los resultados",
        "trabajo en urgencias, ¿tienen citas por la tarde?",
        "el martes es peor para mí",
        "mi mamá está dormida, llame más tarde",
        "this whole thing is a pain in the neck, can we do Friday",
        "I nearly fainted at the price",
        "I work nights at the hospital so mornings are best",
        "I'm dying to see the results",
    ],
)
def test_words_in_another_sense_are_not_clinical(text: str) -> None:
    assert assess_clinical(text) is None


@pytest.mark.parametrize(
    "text",
    [
        # Review findings: ordinary turns that ended the call with the 911 line.
        "I'm going to White Plains on Tuesday, can we do Thursday instead?",
        "Do you take Blue Cross? I was looking at Blue Shield too",
        "I'm going pale just thinking about the needle, but yes I'll come",
        "Is the face treatment lower in price now?",
        "Can I spread the payments out? How much botox would I need?",
        "I'm moving up to Boston next month, will the swelling be gone by then?",
        "The swelling is going down to almost nothing now, thanks",
        "I passed out on the couch and missed your call",
        "Tuesday is worse, Wednesday seems more sensible",
        "We're expanding the business so I'm busy, can I take ibuprofen before?",
        "mi mamá no ve bien para manejar, ¿puede ser más tarde?",
        "hace calor, la casa está muy caliente, ¿podemos cambiar la cita?",
        "se puso negro el cielo, va a llover",
        "la zona azul del estacionamiento está llena",
        "el moretón está cada vez más pequeño, ¿es normal?",
        "el martes está peor, ¿puedo tomar ibuprofeno?",
        "it's grey and cold out today, can we reschedule?",
        "I went to White Plains last week, can we do Monday?",
        "se está poniendo oscuro afuera, mejor mañana",
    ],
)
def test_ordinary_turns_with_borrowed_words_are_not_urgent(text: str) -> None:
    concern = assess_clinical(text)
    assert concern is None or not concern.urgent, concern


@pytest.mark.parametrize(
    "text",
    [
        # Review findings: complications an idiom or a missing context hid.
        "I collapsed at work and woke up in the hospital",
        "I was at work and ended up in the ER last night after the filler",
        "trabajaba cuando terminé en urgencias por el relleno",
        "tengo un dolor de cabeza muy fuerte desde el botox",
        "I nearly fainted after the injection",
        "My lip is blistering. It's getting worse.",
        # Second review: what the first review's precision fixes had stopped reading.
        "It turned white.",
        "Where they injected it went white.",
        "My lips, um, they're turning blue.",
        "Se puso blanco.",
        "Me pusieron relleno en el labio. Ahora se está poniendo blanco.",
        "The redness has spread.",
        "My lip is swollen, and, um, honestly, it's getting worse.",
        "It's getting worse, my lip is so swollen.",
        "My eyelid is lower than the other one.",
        "no veo bien, todo borroso",
        "la hinchazón se extiende",
        "I passed out on the bed after the treatment",
        "es un dolor de cabeza muy fuerte desde el botox",
        "tengo el labio hinchado y está muy caliente",
    ],
)
def test_complications_beside_borrowed_words_stay_urgent(text: str) -> None:
    concern = assess_clinical(text)
    assert concern is not None
    assert concern.urgent, concern


@pytest.mark.parametrize(
    "text",
    [
        "no fever no chills, just tired honestly",
        "no tengo fiebre ni escalofrios, nomas cansancio",
        "it's not getting worse, my lip is a little swollen",
        "just tender where the drain was, no redness no pus nothing like that",
        "sin fiebre, solo un poco sensible la zona",
        "nothing is drooping, my forehead just feels heavy",
        "ya no tengo el parpado caido, se me arreglo solito",
        "not a lot of pain, just tender",
    ],
)
def test_a_denied_sign_keeps_the_turn_clinical_not_urgent(text: str) -> None:
    concern = assess_clinical(text)
    assert concern is not None
    assert not concern.urgent


@pytest.mark.parametrize(
    "text",
    [
        "no my lip turned white",  # an answer, then the complication: no comma from the ASR
        "No. It turned white.",
        "i have no vision in my left eye",  # no vision is the sign itself
        "ya no puedo respirar",
        "sin fiebre pero me sale pus de la herida",
        "me desperte sin poder respirar",
        "she is unable to breathe since the filler",
        # Review findings: a bare "no" answer before an article, a sign with its own negation,
        # "never had ... like this", Mexican "no más", a fever with its reading.
        "no the stitches popped open",
        "no the tongue is swollen",
        "no the throat feels tight",
        "no the lips are blue",
        "no the fever won't go down",
        "no the pain is unbearable",
        "no el labio esta morado",
        "no la piel esta gris",
        "no la fiebre sigue igual de alta",
        "no me baja ni la fiebre",
        "no no puedo respirar",
        "no can't breathe",
        "no mas tengo calentura",
        "i've never had a fever this high",
        "nunca tenia escalofrios asi",
        "no a fever since last night",
        "no tengo fiebre de 39",
    ],
)
def test_a_denial_elsewhere_leaves_the_sign_urgent(text: str) -> None:
    concern = assess_clinical(text)
    assert concern is not None
    assert concern.urgent


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("anoche perdi el conocimiento un momento, me operaron el viernes", True),
        ("me dio un vahido al pararme despues de la lipo", True),
        ("le esta saliendo un liquido amarillo de la herida", True),
        ("la herida tiene materia y huele feo", True),
        ("the incision smells funny", True),
        ("mi perro tiene fiebre, por eso no fui", False),
        ("se me puso negra la pantalla del telefono, por eso no conteste", False),
        ("my phone screen went all white so I missed your text", False),
        ("estoy que me desmayo del hambre, le marco despues", False),
        ("me ahogo con tanto papeleo, que documentos llevo", False),
        ("mi hija tiene una materia nueva en la escuela", False),
        ("la cicatriz de la panza se me abrio", True),
        ("me estan revisando la pierna por un coagulo", True),
        ("they think it's a blood clot in her calf", True),
        ("el sangrado de los puntos no para", True),
        ("estoy viendo doble desde las inyecciones", True),
        ("my vision for my skin is a long term plan, i want the package", False),
        ("mi vision es hacerme el tratamiento completo", False),
        ("estoy viendo doble de tanto trabajo, pero si voy", False),
        ("me dio un patatus cuando vi el precio", False),
        ("my vision for the last two days is blurry", True),
        # Review findings: the words in another sense must not swallow the patient's own sign.
        ("sorry the dog was barking i can't breathe", True),
        ("sorry my dog is barking my lip turned white", True),
        ("el perro esta ladrando perdon me desmaye hace rato", True),
        ("perdon el perro esta ladrando no puedo respirar bien", True),
        ("i lost my vision for a few seconds after the filler", True),
        ("my vision for like an hour was gone after the filler", True),
        ("desde el botox veo doble de tanto en tanto", True),
        ("me dio un patatus cuando vi la herida abierta", True),
        ("casi me desmayo cuando vi cuanto costaba", False),
        # ... and the same words beside a real sign leave the sign alone.
        ("in the car my lip went white", True),
        ("my dog is fine but i can not breathe", True),
        ("i was walking my dog when my eyelid started drooping", True),
        ("mi perro esta bien pero no puedo respirar", True),
    ],
)
def test_more_ways_of_saying_a_sign_and_more_words_in_another_sense(
    text: str, urgent: bool
) -> None:
    concern = assess_clinical(text)
    assert (concern is not None and concern.urgent) is urgent


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        # Signs said without the textbook word.
        ("since the botox he keeps seeing two of everything", True),
        ("she felt faint and collapsed after the treatment", True),
        ("i got up after the procedure and hit the floor, my wife says i came round quick", True),
        ("the stitches are weeping a greenish fluid", True),
        ("the incision by my ear, it really reeks", True),
        ("she's soaked through two pads of gauze since the lipo", True),
        ("my cheek's swole and getting worse", True),
        ("la herida sigue sangrando y no para", True),
        ("ya llevo cuatro gasas de la lipo", True),
        # Their other senses.
        ("we hit the floor running on monday, so friday works", False),
        ("i'm a nurse at the hospital, can we do a late slot", False),
        ("soy enfermera de urgencias, me toca de noche", False),
        ("estamos perdiendo dinero con la obra, mejor lo movemos", False),
        ("the shop is bleeding money, call me next month", False),
        ("we're making a vision board for the new year", False),
        ("my cat's eye is swollen, vet at noon, can we move it", False),
        ("felt pretty blue this week but i'm keeping the date", False),
        # A fever had and gone is a past issue; a fever had and still there is not.
        ("i had a slight fever on monday but it went away", False),
        ("tuve una calentura leve pero ya se me quito", False),
        ("i had a fever last night and now the chills", True),
        ("i had a fever yesterday and it's still there", True),
        ("i had a fever, it's gone, but my lip turned white", True),
        ("the swelling went away but now i have a fever", True),
        # Asked, not reported; said fine, not changed.
        ("will it make the swelling worse if i fly", False),
        ("my eyesight is perfectly fine, just a headache", False),
        ("my eyesight is blurry since the filler", True),
        # Someone who is not the patient, in a turn with no treatment or body in it ...
        ("my grandson has a fever so i need another day", False),
        ("mi nieto tiene calentura, no voy a poder ir", False),
        # ... the patient's own sign, or a caller speaking for a patient, is always heard.
        ("my niece is in the hospital since the filler you did", True),
        ("my mom has a fever since her facelift", True),
        ("my mom has a fever", True),
        ("my grandson has a fever and my lip is going numb and white", True),
        ("my cousin is visiting and i can not breathe well", True),
        # Review findings: an adult relative may be the patient, and a child's sign beside
        # another sign leaves that sign alone.
        ("my nephew is in the hospital, i'm driving up", True),
        ("my aunt has a fever", True),
        ("my niece is having trouble breathing", True),
        ("my niece collapsed after her appointment", True),
        ("mi tia esta viendo doble", True),
        ("my grandson has a fever and can't breathe", True),
        ("my kid has a fever since the laser treatment", True),
        ("i had a fever, it went away and came back", True),
        # ... a fever gone only when it is the fever that went, and did not come back.
        ("i had a fever that hasn't gone away", True),
        ("i had a fever it never went away", True),
        ("i had a fever it went away and came back", True),
        ("the swelling went away but i had a fever last night and still have it", True),
        ("i've had a fever for three days now the bruise went away", True),
        ("tenia fiebre y se me bajo un poco pero sigo caliente", True),
        # ... "nada" is a denial only as "nada de": "pues nada" is a filler.
        ("pues nada tengo fiebre desde ayer", True),
        ("no me duele nada tengo fiebre", True),
        ("nada de pus, solo un poco roja del peeling", False),
        # ... "felt blue" beside a part of the body is a colour.
        ("her lips felt so blue and cold", True),
        # ... and their other senses.
        ("honestly it stinks that i have to reschedule my botox", False),
        ("should i soak a towel in cold water and put it on the bruise", False),
        ("llevo tres toallas a la playa y tengo un moreton", False),
        ("the deal collapsed after the procedure talk", False),
        ("i'm draining the green pool this weekend", False),
        ("everything looks double since the botox", True),
        ("i'm seeing 2 of everything", True),
        # Second review: the caller's own sign beside a child's, a fever masked or on and off,
        # a wound that stinks, a faint felt.
        ("my kids are visiting us in the hospital", True),
        ("my grandson has a fever and so do i", True),
        ("mi nieto tiene fiebre y yo también", True),
        ("i had a temperature of 102 and it went away with advil", True),
        ("i had a fever and it's gone now but it keeps coming and going", True),
        ("my incision stinks", True),
        ("i felt faint after the filler", True),
    ],
)
def test_round_five_signs_and_their_other_senses(text: str, urgent: bool) -> None:
    concern = assess_clinical(text)
    assert (concern is not None and concern.urgent) is urgent


def test_a_family_emergency_is_not_a_complication() -> None:
    for said in ("I had a family emergency, I need to cancel", "tuve una emergencia familiar"):
        concern = assess_clinical(said)
        assert concern is None or not concern.urgent


# -- the runtime says it in the callee's language ---------------------------------------------
def test_a_spanish_complication_is_urgent_and_the_911_line_is_spanish() -> None:
    runtime = confirmed()
    turn = runtime.respond("oiga desde el relleno se me está poniendo gris el labio y me arde")
    assert turn.end_reason is EndReason.URGENT_FOLLOW_UP
    assert turn.text == URGENT_DEFERRAL_ES
    [task] = staff_tasks(runtime)
    assert task.priority is TaskPriority.URGENT
    assert task.reason is FollowUpReason.POSSIBLE_COMPLICATION


@pytest.mark.parametrize("said", ["veo borroso", "labio morado"])
def test_a_short_spanish_complication_hears_the_911_line_in_spanish(said: str) -> None:
    """Review finding: two words are too few to switch the call to Spanish, and the urgent
    line was said in English."""
    runtime = confirmed()
    turn = runtime.respond(said)
    assert turn.end_reason is EndReason.URGENT_FOLLOW_UP
    assert turn.text == URGENT_DEFERRAL_ES


@pytest.mark.parametrize("said", ["me desmayé", "está rojo caliente y cada vez más grande boludo"])
def test_a_complication_the_model_hears_as_a_refusal_is_asked_about_not_obeyed(said: str) -> None:
    """The intent model read "me desmayé" as an opt-out (0.65, over the certain bar): the
    patient who said she fainted had her number suppressed. Now the urgent flag and the
    question come first; a clear no keeps her calls, anything else still opts out."""
    for answer, opted_out in (("no", False), ("sí, ya no llamen", True)):
        runtime = confirmed()
        asked = runtime.respond(said)
        assert not asked.ended
        assert asked.text.startswith(URGENT_FLAG_ES)
        assert [t.priority for t in staff_tasks(runtime)] == [TaskPriority.URGENT]
        turn = runtime.respond(answer)
        kinds = [e.kind for e in runtime.events]
        assert (EventKind.OPT_OUT in kinds) is opted_out
        if opted_out:
            assert turn.end_reason is EndReason.OPT_OUT
            assert turn.text.endswith(EMERGENCY_LINE_ES)
        else:
            assert (turn.text, turn.end_reason) == (URGENT_GOODBYE_ES, EndReason.URGENT_FOLLOW_UP)
        assert [t.priority for t in staff_tasks(runtime)] == [TaskPriority.URGENT]


@pytest.mark.parametrize(
    "said",
    # ("me molesta un poquito donde pincharon" was one until the Spanish hard negatives were
    # trained on, 2026-12-08: "molestar" in its other sense is no longer read as a refusal.)
    ["ya no me duele pero me molesta", "si me duele un poco pero ya va mejorando"],
)
def test_a_possible_opt_out_with_clinical_words_still_sends_them_to_staff(said: str) -> None:
    """The intent model reads some Spanish reports of a mild effect as a possible opt-out
    (0.2-0.7): the agent asked only "¿Quiere que dejemos de llamar...?" and the clinical words
    reached no one. Now the clinical deferral and a normal staff task come with the question."""
    runtime = confirmed()
    asked = runtime.respond(said)
    assert not asked.ended
    assert asked.text.startswith(CLINICAL_DEFERRAL_ES)
    assert asked.text.endswith(OPT_OUT_QUESTION_ES)
    [task] = staff_tasks(runtime)
    assert (task.priority, task.reason) == (TaskPriority.NORMAL, FollowUpReason.CLINICAL_QUESTION)


def test_an_answer_that_reports_a_complication_is_not_read_as_a_bare_answer() -> None:
    """Review finding: on the inbound desk, a turn only the model heard as an AI question is
    read as an answer ("My name is..."); the complication in it was dropped with the label."""
    urgent = ClinicalConcern(urgent=True, signals=("blanching",))
    heard = Understanding(Label.AI_QUESTION, ai_doubt=True, clinical=urgent)
    read = _as_an_answer(heard, "Maria Lopez. my lip went white after the filler")
    assert read.label is Label.CLINICAL_QUESTION
    assert read.clinical == urgent


def test_a_spanish_clinical_question_is_deferred_in_spanish() -> None:
    runtime = confirmed()
    turn = runtime.respond("¿es normal tener un poco de moretón después del relleno?")
    assert turn.text.startswith(CLINICAL_DEFERRAL_ES)
    assert not turn.ended
    [task] = staff_tasks(runtime)
    assert task.priority is TaskPriority.NORMAL


def test_a_spanish_opt_out_with_a_complication_ends_with_the_spanish_911_line() -> None:
    runtime = confirmed()
    turn = runtime.respond("ya no me llamen más, y tengo la cara hinchada y no puedo respirar")
    if not turn.ended:  # asked first: the urgent flag comes with the question
        assert turn.text.startswith(URGENT_FLAG_ES)
        turn = runtime.respond("sí")
        assert turn.text.endswith(EMERGENCY_LINE_ES)
    else:
        assert turn.text.endswith(EMERGENCY_LINE_ES)
    assert turn.end_reason is EndReason.OPT_OUT
    assert [t.priority for t in staff_tasks(runtime)] == [TaskPriority.URGENT]


def test_after_a_spanish_urgent_flag_a_clear_no_says_goodbye_in_spanish() -> None:
    runtime = confirmed()
    # Read by the model alone as a possible opt-out (a rule's "deje de llamarme" would be
    # certain): the agent flags it and asks.
    asked = runtime.respond("me desmayé")
    assert asked.text.startswith(URGENT_FLAG_ES)
    turn = runtime.respond("no")
    assert turn.text == URGENT_GOODBYE_ES
    assert turn.end_reason is EndReason.URGENT_FOLLOW_UP


def test_an_ai_question_with_a_complication_gets_the_disclosure_and_the_urgent_task() -> None:
    """Before, a turn that asked whether the agent was a machine got the disclosure alone: the
    complication in the same words reached no one."""
    runtime = confirmed()
    turn = runtime.respond("Am I talking to a robot? My lip is turning white since the filler.")
    assert turn.text.startswith(f"I'm an AI assistant for {PRACTICE}.")
    assert "911" in turn.text
    assert turn.end_reason is EndReason.URGENT_FOLLOW_UP
    assert [e.kind for e in turn.events] == [
        EventKind.AI_DISCLOSED,
        EventKind.STAFF_FOLLOW_UP,
        EventKind.CALL_ENDED,
    ]
    assert [t.priority for t in staff_tasks(runtime)] == [TaskPriority.URGENT]


def test_an_ai_question_with_a_clinical_question_gets_both_answers() -> None:
    runtime = confirmed()
    said = "Is this a recording? Also is it normal to have a little bruising?"
    turn = runtime.respond(said)
    assert turn.text.startswith(f"I'm an AI assistant for {PRACTICE}.")
    assert "clinical team" in turn.text
    assert not turn.ended
    assert AiDisclosed(said) in turn.events
    [task] = staff_tasks(runtime)
    assert task.priority is TaskPriority.NORMAL


# -- the evaluation ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("split", "notes"),
    [
        (TEST_FROZEN, "TEST_FROZEN.md"),
        (TEST_FROZEN_V2, "TEST_FROZEN_V2.md"),
        (TEST_FROZEN_V3, "TEST_FROZEN_V3.md"),
        (TEST_FROZEN_V4, "TEST_FROZEN_V4.md"),
        (TEST_FROZEN_V6, "TEST_FROZEN_V6.md"),
        (TEST_FROZEN_V8, "TEST_FROZEN_V8.md"),
    ],
)
def test_the_held_out_splits_are_the_ones_frozen(split: str, notes: str) -> None:
    folder = resources.files("ringfence.agent").joinpath("data", "urgency")
    digest = hashlib.sha256(folder.joinpath(split).read_bytes()).hexdigest()
    written = folder.joinpath(notes).read_text(encoding="utf-8")
    assert re.search(rf"\b{digest}\b", written), f"{split} changed after it was frozen"


def test_bad_lines_are_named() -> None:
    with pytest.raises(ValueError, match=r"f:2: label 'severe' is not urgent"):
        load_cases(
            ['{"text": "a", "label": "none"}', '{"text": "b", "label": "severe"}'], source="f"
        )
    with pytest.raises(ValueError, match=r"f:1: lang 'fr'"):
        load_cases(['{"text": "a", "label": "none", "lang": "fr"}'], source="f")
    with pytest.raises(ValueError, match=r"f:1: not JSON"):
        load_cases(["{"], source="f")


def test_the_evaluation_reads_turns_as_the_runtime_does() -> None:
    """`predict` restates the runtime's choice; run the runtime itself on every training turn
    and compare, so the figures in docs/agent-evaluation.md are the runtime's."""
    for case in (case for name in TRAINING for case in shipped(name)):
        runtime = confirmed()
        runtime.respond(case.text)
        tasks = staff_tasks(runtime)
        if any(t.priority is TaskPriority.URGENT for t in tasks):
            ran = Urgency.URGENT
        elif tasks:
            ran = Urgency.CLINICAL
        else:
            ran = Urgency.NONE
        assert predict(case.text, UNDERSTANDER) is ran, case.text


def test_scores_count_both_directions() -> None:
    cases = load_cases(
        [
            '{"text": "my lip is turning white since the filler", "label": "urgent"}',
            '{"text": "is a little bruising normal?", "label": "urgent"}',
            '{"text": "tuesday is worse for me", "label": "none"}',
            '{"text": "my face is swollen and it keeps getting worse", "label": "clinical"}',
        ]
    )
    report = evaluate(cases, UNDERSTANDER)
    assert (report.overall.urgent_found, report.overall.urgent) == (1, 2)
    assert (report.overall.false_urgent, report.overall.not_urgent) == (1, 2)
    assert (report.overall.to_staff, report.overall.clinical_support) == (3, 3)
    assert len(report.misses) == 2


def test_a_hang_up_after_the_urgent_flag_raises_no_second_urgent_task() -> None:
    """The urgent task is raised with the opt-out question; a hang-up before the answer
    records the opt-out and, before, a second urgent task for the same words."""
    runtime = confirmed()
    runtime.respond("Stop calling me, my face is swollen and I can't breathe since the filler.")
    runtime.callee_hung_up()
    assert EventKind.OPT_OUT in [e.kind for e in runtime.events]
    assert [t.priority for t in staff_tasks(runtime)] == [TaskPriority.URGENT]


def test_the_urgency_head_flags_a_complication_the_patterns_miss() -> None:
    """Described, not named: no pattern of the assessor reads these as urgent, the learned
    urgency head does (trained on data/urgency/train*.jsonl, never on a held-out split)."""
    for said in (
        "my leg is fat and sore on one side since the lipo",
        "tengo la pierna hinchada y dura de un solo lado desde la lipo",
    ):
        found = assess_clinical(said)
        assert found is None or not found.urgent, said
        runtime = confirmed()
        turn = runtime.respond(said)
        assert turn.end_reason is EndReason.URGENT_FOLLOW_UP, said
        [task] = staff_tasks(runtime)
        assert "learned_urgent" in task.signals
