"""The agent understands people, not keywords (issue 15): the learned model with the rules,
confirm-on-doubt, Spanish, a request for a person, and the corpora it is judged on."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from importlib import resources

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.agent.events import (
    AiDisclosed,
    AppointmentConfirmed,
    EndReason,
    EventKind,
    FollowUpReason,
    OptOut,
    StaffFollowUp,
    WrongNumber,
)
from ringfence.agent.lines import (
    OPT_OUT_QUESTION,
)
from ringfence.agent.policies.intents import Intent
from ringfence.agent.policies.scripted import ScriptedPolicy, scheduling_intent
from ringfence.agent.runtime import (
    CONFIRMED_ON_DOUBT,
    UNANSWERED_DOUBT,
    ConversationRuntime,
)
from ringfence.agent.understanding.answers import is_clear_no, is_clear_yes
from ringfence.agent.understanding.corpus import (
    DEV_ES_HARD,
    TEST_FROZEN,
    TEST_FROZEN_ES_OPT_OUT,
    TEST_FROZEN_V2,
    TEST_FROZEN_V3,
    TEST_FROZEN_V4,
    TRAINING,
    parse_lines,
    shipped,
    training_corpus,
)
from ringfence.agent.understanding.decision import DEFAULT_THRESHOLDS, Understanding, decide
from ringfence.agent.understanding.evaluation import evaluate
from ringfence.agent.understanding.labels import Label, Language
from ringfence.agent.understanding.linear import LinearScorer
from ringfence.agent.understanding.model import default_model, model_text
from ringfence.agent.understanding.understander import LearnedUnderstander
from ringfence.domain.vocabulary import CallPurpose, TaskPriority

from .factories import PRACTICE, inbound, outbound, profile

UNDERSTANDER = LearnedUnderstander()


def confirmed(purpose: CallPurpose = CallPurpose.APPOINTMENT_CONFIRMATION) -> ConversationRuntime:
    runtime = ConversationRuntime(profile(), outbound(purpose), ScriptedPolicy())
    runtime.start()
    runtime.respond("Yes, this is Jane.")
    return runtime


def kinds(events: tuple[object, ...]) -> list[EventKind]:
    return [e.kind for e in events]  # type: ignore[attr-defined]


# -- the findings, as conversations ------------------------------------------------
@pytest.mark.parametrize(
    "said",
    [
        "I'd prefer you didn't call this number",
        "enough with the calls",
        "don't you ever call me again",
        "can you uh not call me no more",
        "no me llame más",
        "hang up and don't call back",
        "Listen, I don't want you calling me, ok?",
    ],
)
def test_fresh_ways_of_saying_stop_end_the_call_and_never_confirm(said: str) -> None:
    runtime = confirmed()
    turn = runtime.respond(said)
    if not turn.ended:  # in doubt: asked, and nothing else said
        assert turn.text.endswith(("stop calling this number?", "llamar a este número?"))
        turn = runtime.respond("yes")
    assert turn.end_reason is EndReason.OPT_OUT
    assert not any(isinstance(e, AppointmentConfirmed) for e in runtime.events)
    assert any(isinstance(e, OptOut) for e in runtime.events)


@pytest.mark.parametrize(
    "said", ["you're a robot, aren't you", "is this prerecorded", "I'm not a robot, are you?"]
)
def test_any_doubt_about_a_machine_gets_the_disclosure(said: str) -> None:
    turn = confirmed().respond(said)
    assert turn.text.startswith(f"I'm an AI assistant for {PRACTICE}.")
    assert any(isinstance(e, AiDisclosed) for e in turn.events)


def test_a_negated_cancel_is_a_confirmation() -> None:
    runtime = confirmed()
    runtime.respond("no don't cancel it, I'm coming")
    assert any(isinstance(e, AppointmentConfirmed) for e in runtime.events)


def test_a_request_for_a_person_is_a_call_back_task_said_aloud() -> None:
    turn = confirmed().respond("Can I talk to a human please")
    assert turn.ended
    assert "call you back during business hours" in turn.text
    tasks = [e for e in turn.events if isinstance(e, StaffFollowUp)]
    assert [t.reason for t in tasks] == [FollowUpReason.HUMAN_REQUESTED]


# -- confirm on doubt -----------------------------------------------------------------------
DOUBTFUL = "ugh, this again"


class DoubtfulUnderstander:
    """A fake: in doubt about `DOUBTFUL`, the learned understanding for everything else."""

    def understand(self, text: str, *, appointment_call: bool) -> Understanding:
        if text == DOUBTFUL:
            return Understanding(Label.OPT_OUT, doubt=True)
        return UNDERSTANDER.understand(text, appointment_call=appointment_call)


def doubting() -> ConversationRuntime:
    runtime = ConversationRuntime(
        profile(), outbound(), ScriptedPolicy(), understander=DoubtfulUnderstander()
    )
    runtime.start()
    runtime.respond("Yes, this is Jane.")
    return runtime


def test_in_doubt_the_agent_asks_and_a_clear_no_goes_back_to_its_question() -> None:
    runtime = doubting()
    pending = runtime.history[-1].text.split(". ")[-1]
    asked = runtime.respond(DOUBTFUL)
    assert asked.text == OPT_OUT_QUESTION
    assert asked.events == ()
    kept = runtime.respond("No, that's fine.")
    assert not kept.ended
    assert kept.text.startswith("Okay, thank you.")
    assert pending.rstrip("?") in kept.text


@pytest.mark.parametrize("answer", ["yes", "sure", "I guess", "whatever", "hmm", "yes please"])
def test_in_doubt_anything_but_a_clear_no_is_an_opt_out(answer: str) -> None:
    runtime = doubting()
    runtime.respond(DOUBTFUL)
    turn = runtime.respond(answer)
    assert turn.end_reason is EndReason.OPT_OUT
    opt_outs = [e for e in turn.events if isinstance(e, OptOut)]
    assert [o.rule for o in opt_outs] == [CONFIRMED_ON_DOUBT]


def test_a_no_that_also_says_stop_is_an_opt_out() -> None:
    runtime = doubting()
    runtime.respond(DOUBTFUL)
    assert runtime.respond("no, just stop calling").end_reason is EndReason.OPT_OUT


@pytest.mark.parametrize("said", ["No.", "Yes.", "Yeah that's me", "Sure.", "nope"])
def test_a_bare_yes_or_no_is_read_by_the_dialogue_not_as_a_doubt(said: str) -> None:
    heard = UNDERSTANDER.understand(said, appointment_call=False)
    assert heard.label is not Label.OPT_OUT


# -- Spanish ----------------------------------------------------------------------------------
def test_a_spanish_opt_out_is_acknowledged_in_spanish_and_never_called_back() -> None:
    runtime = ConversationRuntime(profile(), inbound(), ScriptedPolicy())
    runtime.start()
    turn = runtime.respond("por favor ya no me llamen a este número")
    if not turn.ended:
        assert turn.text == "¿Quiere que dejemos de llamar a este número?"
        turn = runtime.respond("sí")
    assert turn.end_reason is EndReason.OPT_OUT
    assert turn.text.startswith("Entendido. No recibirá más llamadas de")
    # No call-back of any kind to someone who just opted out.
    assert [e for e in runtime.events if isinstance(e, StaffFollowUp)] == []


def test_the_disclosure_is_said_in_spanish_to_a_spanish_speaker() -> None:
    runtime = confirmed()
    turn = runtime.respond("¿estoy hablando con una persona real o es una grabación?")
    assert turn.text.startswith(f"Soy un asistente de inteligencia artificial de {PRACTICE}.")


# -- the decision, pure -----------------------------------------------------------------------
probabilities = st.fixed_dictionaries({label: st.floats(0, 1) for label in Label}).map(
    lambda p: {k: v / (sum(p.values()) or 1) for k, v in p.items()}
)


@given(probabilities, st.floats(0, 1))
def test_more_opt_out_probability_never_turns_an_opt_out_into_something_else(
    p: dict[Label, float], more: float
) -> None:
    text = "well I was thinking about what you said earlier"
    before = decide(text, appointment_call=True, probabilities=p)
    raised = dict(p, **{Label.OPT_OUT: max(p[Label.OPT_OUT], more)})
    after = decide(text, appointment_call=True, probabilities=raised)
    if before.label is Label.OPT_OUT:
        assert after.label is Label.OPT_OUT
        assert not (after.doubt and not before.doubt)


@given(probabilities)
def test_the_bars_are_where_the_thresholds_say(p: dict[Label, float]) -> None:
    text = "well I was thinking about what you said earlier"  # no rule matches it
    heard = decide(text, appointment_call=True, probabilities=p)
    opt_out = p[Label.OPT_OUT]
    if opt_out >= DEFAULT_THRESHOLDS.opt_out_certain:
        assert (heard.label, heard.doubt) == (Label.OPT_OUT, False)
    elif opt_out >= DEFAULT_THRESHOLDS.opt_out_doubt:
        assert (heard.label, heard.doubt) == (Label.OPT_OUT, True)
    else:
        assert heard.label is not Label.OPT_OUT


def test_without_an_appointment_cancel_can_only_mean_the_calls() -> None:
    p = dict.fromkeys(Label, 0.0) | {Label.CANCEL: 0.9, Label.OTHER: 0.1}
    assert decide("uh whatever", appointment_call=True, probabilities=p).label is Label.CANCEL
    no_appointment = decide("uh whatever", appointment_call=False, probabilities=p)
    assert (no_appointment.label, no_appointment.doubt) == (Label.OPT_OUT, False)


def test_the_model_alone_is_never_certain_of_an_opt_out_that_reports_a_complication() -> None:
    p = dict.fromkeys(Label, 0.0) | {Label.OPT_OUT: 0.75, Label.OTHER: 0.25}  # over "certain"
    fainted = decide("me desmayé", appointment_call=True, probabilities=p)
    assert (fainted.label, fainted.doubt) == (Label.OPT_OUT, True)
    assert fainted.clinical is not None
    assert fainted.clinical.urgent
    # A rule still makes it certain, and a turn with nothing clinical in it is unchanged.
    said = decide("stop calling me, my lip is blue", appointment_call=True, probabilities=p)
    assert (said.label, said.doubt) == (Label.OPT_OUT, False)
    plain = decide("uh whatever", appointment_call=True, probabilities=p)
    assert (plain.label, plain.doubt) == (Label.OPT_OUT, False)
    # Review finding (2026-12-08): nor of one with clinical words that are no complication:
    # "ya no me duele" (it no longer hurts) was a certain opt-out at 0.88.
    better = decide("ya no me duele", appointment_call=True, probabilities=p)
    assert better.clinical is not None
    assert not better.clinical.urgent
    assert (better.label, better.doubt) == (Label.OPT_OUT, True)
    # Review finding: clinical words that report no complication leave a clear refusal clear.
    reaction = decide(
        "quitenme de su lista tuve una reaccion horrible", appointment_call=True, probabilities=p
    )
    assert reaction.clinical is not None
    assert (reaction.label, reaction.doubt) == (Label.OPT_OUT, False)


def test_a_rule_the_model_contradicts_is_asked_about_not_ignored() -> None:
    p = dict.fromkeys(Label, 0.0) | {Label.OTHER: 1.0}
    heard = decide("please stop calling me", appointment_call=True, probabilities=p)
    assert (heard.label, heard.doubt) == (Label.OPT_OUT, True)
    assert heard.opt_out_rule is not None


@pytest.mark.parametrize(
    ("text", "no", "yes"),
    [
        ("No.", True, False),
        ("no, you can keep calling", True, False),
        ("no, está bien", True, False),
        ("no, just don't call", False, False),
        ("Yes, that's me.", False, True),
        ("this is she", False, True),
        ("sí", False, True),
        ("yes but stop calling", False, False),
    ],
)
def test_clear_answers(text: str, no: bool, yes: bool) -> None:
    assert (is_clear_no(text), is_clear_yes(text)) == (no, yes)


def test_contractions_keep_their_negation_for_the_model() -> None:
    assert model_text("I CAN'T make it, I won\u2019t, don't call") == (
        "i can not make it, i will not, do not call"
    )


# -- the corpora -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("split", "note"),
    [
        (TEST_FROZEN, "TEST_SPLIT.md"),
        (TEST_FROZEN_V2, "TEST_SPLIT_V2.md"),
        (TEST_FROZEN_V3, "TEST_SPLIT_V3.md"),
        (TEST_FROZEN_V4, "TEST_SPLIT_V4.md"),
    ],
)
def test_the_frozen_splits_are_the_ones_written_before_training(split: str, note: str) -> None:
    """Each SHA-256 is recorded in its note when it was frozen; any edit shows here."""
    folder = resources.files("ringfence.agent").joinpath("data", "understanding")
    data = folder.joinpath(split).read_bytes()
    recorded = re.findall(r"\b[0-9a-f]{64}\b", folder.joinpath(note).read_text(encoding="utf-8"))
    assert hashlib.sha256(data).hexdigest() == recorded[-1]


def test_the_frozen_split_never_leaks_into_training() -> None:
    """Compared case-, accent- and punctuation-insensitively (TRAIN.md, Decontamination)."""

    def key(text: str) -> str:
        folded = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore")
        return " ".join(re.sub(r"[^\w\s]", " ", folded.decode()).split())

    trained = {key(u.text) for u in training_corpus()}
    splits = (TEST_FROZEN, TEST_FROZEN_V2, TEST_FROZEN_V3, TEST_FROZEN_V4, TEST_FROZEN_ES_OPT_OUT)
    for split in (*splits, DEV_ES_HARD):
        leaked = sum(key(u.text) in trained for u in shipped(split))
        assert leaked == 0, split  # counted, never printed: a held-out line stays unread


def test_the_corpora_are_big_enough_and_cover_every_label_in_both_languages() -> None:
    train, test = training_corpus(), shipped(TEST_FROZEN)
    assert len(train) + len(test) >= 2000
    for corpus in (train, test):
        counts = Counter((u.label, u.lang) for u in corpus)
        for label in Label:
            assert counts[(label, Language.EN)] >= 20, label
        assert sum(n for (_, lang), n in counts.items() if lang is Language.ES) >= 100


def test_a_bad_corpus_line_names_the_line_and_field() -> None:
    with pytest.raises(ValueError, match=r"x.jsonl:2: label"):
        parse_lines(
            ['{"text": "hi", "label": "other"}', '{"text": "hi", "label": "nope"}'], "x.jsonl"
        )


def test_the_evaluation_counts_asked_opt_outs_for_recall_not_precision() -> None:
    corpus = parse_lines(
        [
            '{"text": "please stop calling me", "label": "opt_out"}',
            '{"text": "Can you stop?", "label": "opt_out"}',
            '{"text": "I will stop by on friday", "label": "other"}',
        ],
        "tiny",
    )
    report = evaluate("tiny", corpus, UNDERSTANDER)
    score = report.score(Label.OPT_OUT)
    assert score.support == 2
    assert score.recall == 1.0
    assert score.acted <= 2


# -- found in review ------------------------------------------------------------------------
def test_a_hang_up_after_the_opt_out_question_is_an_opt_out() -> None:
    runtime = confirmed()
    runtime.respond("Cancel.")  # a bare cancel: asked about
    events = runtime.callee_hung_up()
    opt_outs = [e for e in events if isinstance(e, OptOut)]
    assert [o.rule for o in opt_outs] == [UNANSWERED_DOUBT]
    reasons = [e.reason for e in events if isinstance(e, StaffFollowUp)]
    assert reasons == [FollowUpReason.AMBIGUOUS_CANCEL]


def test_no_question_is_asked_on_the_last_turn_the_call_allows() -> None:
    runtime = ConversationRuntime(
        profile(),
        outbound(),
        ScriptedPolicy(),
        max_callee_turns=2,
        understander=DoubtfulUnderstander(),
    )
    runtime.start()
    runtime.respond("Yes, this is Jane.")
    turn = runtime.respond(DOUBTFUL)
    assert turn.end_reason is EndReason.OPT_OUT


@pytest.mark.parametrize("said", ["no", "no no", "nope"])
def test_a_bare_no_does_not_switch_the_call_to_spanish(said: str) -> None:
    runtime = confirmed()
    runtime.respond(said)
    turn = runtime.respond("wait, are you a robot?")
    assert turn.text.startswith(f"I'm an AI assistant for {PRACTICE}.")
    assert not any(
        isinstance(e, StaffFollowUp) and e.reason is FollowUpReason.SPANISH_SPEAKER
        for e in runtime.events
    )


@pytest.mark.parametrize(
    "said",
    [
        "no, I'm not coming",
        "i won't be coming",
        "I don't think I'll make it",
        "no, we're not still on",
        "unfortunately no",
        "sadly not",
    ],
)
def test_a_negated_answer_is_never_a_confirmation_or_a_wrong_number(said: str) -> None:
    runtime = confirmed()
    runtime.respond(said)
    assert not any(isinstance(e, AppointmentConfirmed | WrongNumber) for e in runtime.events)


def test_an_urgent_complication_said_with_an_opt_out_still_reaches_staff() -> None:
    runtime = confirmed()
    turn = runtime.respond(
        "stop calling me, and my lips are turning white since the filler and it's getting worse"
    )
    assert turn.end_reason is EndReason.OPT_OUT
    urgent = [
        e for e in turn.events if isinstance(e, StaffFollowUp) and e.priority is TaskPriority.URGENT
    ]
    assert len(urgent) == 1
    assert "911" in turn.text


# -- the policy's reading of the model's scheduling labels (scripted.scheduling_intent) ------
@pytest.mark.parametrize(
    "said",
    [
        "no worries, I'll be there",
        "I won't miss it",
        "wait no, don't cancel it, I'm coming",
        "no need to move it, I'll be there",
        "nope, I'm not rescheduling, see you then",
        "no, no la cancele, sí voy",
        "sí, sí, cómo no, ahí llego",
        "i can't wait, see you friday",
    ],
)
def test_a_negation_that_refuses_nothing_leaves_the_confirmation(said: str) -> None:
    assert scheduling_intent(said, Label.CONFIRM).intent is Intent.CONFIRM


@pytest.mark.parametrize(
    "said",
    [
        "no, I'm not coming",
        "I can't change my shift, so no",
        "no worries, but I can't make it",
        "no don't cancel it, I can't come though, move it",
        "can we do friday at 2 instead",
        "no, not friday",
    ],
)
def test_a_refusal_or_a_new_time_is_never_a_confirmation_on_the_models_word(said: str) -> None:
    assert scheduling_intent(said, Label.CONFIRM).intent is not Intent.CONFIRM


@pytest.mark.parametrize(
    ("said", "understood"),
    [
        ("nah, don't cancel it, i'm keeping it", Label.CANCEL),
        ("no i don't want to cancel, i'll be there", Label.CANCEL),
        ("ni la cancele, voy a ir", Label.CANCEL),
        ("nope, no need to reschedule, monday works", Label.RESCHEDULE),
        ("no i don't want to move it, it's fine like that", Label.RESCHEDULE),
        ("sí, no voy a faltar", Label.CONFIRM),
        ("i'm good for wednesday", Label.CONFIRM),
        ("we're all set for the 3 o'clock", Label.CONFIRM),
    ],
)
def test_a_change_the_turn_refuses_is_a_confirmation(said: str, understood: Label) -> None:
    """The model heard "cancel" / "reschedule"; the turn keeps the appointment
    (docs/agent-labels.md: "no don't cancel it, I'm coming" is `confirm`)."""
    assert scheduling_intent(said, understood).intent is Intent.CONFIRM


@pytest.mark.parametrize(
    ("said", "understood"),
    [
        ("no la cancele, nomás cámbiela de día", Label.CANCEL),
        ("don't cancel, just push it a week", Label.CANCEL),
        ("i don't want to cancel but i can't come thursday", Label.CANCEL),
        ("no need to cancel, can we do friday instead", Label.RESCHEDULE),
        ("no quiero cancelar, pero no puedo ir", Label.CANCEL),
        ("i'm good for now, thanks", Label.CONFIRM),
        ("i'm good for today, thank you", Label.CONFIRM),
    ],
)
def test_a_refused_change_with_another_request_or_a_no_is_no_confirmation(
    said: str, understood: Label
) -> None:
    assert scheduling_intent(said, understood).intent is not Intent.CONFIRM


@pytest.mark.parametrize("understood", [Label.CANCEL, None])
@pytest.mark.parametrize(
    "said", ["no la cancele, sí voy", "please don't cancel my appointment", "no quiero cancelar"]
)
def test_a_negated_cancel_is_never_a_cancellation(said: str, understood: Label | None) -> None:
    assert scheduling_intent(said, understood).intent is not Intent.CANCEL


def test_the_rules_read_a_cancel_said_with_accents() -> None:
    assert scheduling_intent("no voy a poder ir, cancélela", None).intent is Intent.CANCEL


@pytest.mark.parametrize(
    ("said", "wrong_number"),
    [
        ("no soy yo, es mi hermana", True),
        ("no conozco a nadie con ese nombre", True),
        ("no, this isn't carla", True),
        ("unfortunately no", False),
        ("nope, sorry", False),
    ],
)
def test_a_negated_wrong_number_stands_only_where_it_says_who(
    said: str, wrong_number: bool
) -> None:
    found = scheduling_intent(said, Label.WRONG_PERSON).intent is Intent.WRONG_NUMBER
    assert found is wrong_number


def test_the_tuning_corpus_is_trained_on_and_follows_the_format() -> None:
    assert "train_tuning.jsonl" in TRAINING
    folder = resources.files("ringfence.agent").joinpath("data", "understanding")
    rows = [
        json.loads(line)
        for line in folder.joinpath("train_tuning.jsonl").read_text("utf-8").splitlines()
    ]
    assert 200 <= len(rows) <= 600
    assert len({row["text"].casefold() for row in rows}) == len(rows)
    for row in rows:
        assert row["lang"] in ("en", "es")
        # tuning-review-2026-12-08: eight Spanish lines for turns a review found asked about
        # ("Estoy ocupada.", "Bueno, diga"; TRAIN.md)
        assert row["source"] in ("tuning-v4", "tuning-review-2026-12-08")
        assert "appointment_call" not in row


def test_the_pattern_corpus_is_trained_on_and_follows_the_format() -> None:
    assert "train_patterns.jsonl" in TRAINING
    folder = resources.files("ringfence.agent").joinpath("data", "understanding")
    rows = [
        json.loads(line)
        for line in folder.joinpath("train_patterns.jsonl").read_text("utf-8").splitlines()
    ]
    assert 500 <= len(rows) <= 800
    scheduling = {Label.CANCEL.value, Label.RESCHEDULE.value, Label.CONFIRM.value}
    for row in rows:
        assert row["lang"] in ("en", "es")
        assert row["source"] == "pattern"
        assert not (row.get("appointment_call") is False and row["label"] in scheduling)


def test_the_fast_scorer_gives_scikit_learns_probabilities_on_every_text() -> None:
    """`LinearScorer` replaces `predict_proba` on every turn: it must be the same function of
    the text (the training corpus, the development sets and texts it never saw)."""
    model = default_model()
    texts = [model_text(u.text) for u in training_corpus()] + [
        model_text(t)
        for t in ("", "   ", "¿qué?", "zzzz qqqq", "STOP!!! calling 555-0100", "a" * 500)
    ]
    for pipeline in (model.intents, model.languages):
        scorer = LinearScorer(pipeline)
        assert scorer.classes == tuple(str(c) for c in pipeline.classes_)
        expected = pipeline.predict_proba(texts)
        got = np.vstack([scorer.proba(text) for text in texts])
        assert np.allclose(got, expected, rtol=0, atol=1e-9)
