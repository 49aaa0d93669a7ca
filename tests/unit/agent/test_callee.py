"""Whole sandbox conversations, agent <-> persona, and the voicemail path."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from ringfence.adapters.telephony.sandbox import PERSONAS
from ringfence.agent.callee import (
    VOICEMAIL_BOX,
    SimulatedCallee,
    _screened,
    leave_voicemail,
    play_conversation,
    simulated_conversation,
)
from ringfence.agent.events import ConversationOutcome, EndReason, EventKind
from ringfence.agent.guardrails.outgoing import screen_utterance, service_withheld, time_withheld
from ringfence.agent.policies.base import Speaker
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import CallContext, CallDirection, ReplyTemplates
from ringfence.agent.session import AgentSession, session_from_json, session_to_json
from ringfence.agent.understanding.decision import Understanding
from ringfence.agent.understanding.labels import Label
from ringfence.agent.understanding.understander import MemoUnderstander
from ringfence.domain.vocabulary import CallPurpose, TaskPriority

from .factories import inbound, outbound, profile

EXPECTED = {
    # on a no-show call, "yes" means "yes, rebook me"
    "confirms": {
        ConversationOutcome.CONFIRMED,
        ConversationOutcome.BOOKING_REQUESTED,
        ConversationOutcome.RESCHEDULE_REQUESTED,
    },
    "reschedules": {
        ConversationOutcome.RESCHEDULE_REQUESTED,
        ConversationOutcome.BOOKING_REQUESTED,
    },
    "asks_if_robot": {
        ConversationOutcome.CONFIRMED,
        ConversationOutcome.BOOKING_REQUESTED,
        ConversationOutcome.RESCHEDULE_REQUESTED,
    },
    "clinical_question": {
        ConversationOutcome.CONFIRMED,
        ConversationOutcome.BOOKING_REQUESTED,
        ConversationOutcome.RESCHEDULE_REQUESTED,
        ConversationOutcome.STAFF_FOLLOW_UP,
    },
    "call_back_later": {ConversationOutcome.CALLBACK_REQUESTED},
    "not_interested": {ConversationOutcome.NOT_INTERESTED},
    "says_stop": {ConversationOutcome.OPTED_OUT},
    "wrong_number": {ConversationOutcome.WRONG_NUMBER},
    # No staff line in these contexts: a call-back task, never a transfer.
    "asks_for_person": {ConversationOutcome.STAFF_FOLLOW_UP},
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("purpose", list(CallPurpose))
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_every_persona_reaches_its_outcome(persona: str, purpose: CallPurpose, seed: int) -> None:
    conversation = play_conversation(profile(), outbound(purpose), ScriptedPolicy(), persona, seed)
    assert conversation.outcome in EXPECTED[persona]
    assert conversation.ended_by is not EndReason.MAX_TURNS
    kinds = [e.kind for e in conversation.events]
    if persona == "asks_if_robot":
        assert EventKind.AI_DISCLOSED in kinds
    if persona == "clinical_question":
        assert EventKind.STAFF_FOLLOW_UP in kinds
    if persona == "says_stop":
        assert conversation.ended_by is EndReason.OPT_OUT
    if persona == "asks_for_person":
        assert EventKind.TRANSFER_REQUESTED not in kinds
    first = conversation.transcript[0]
    assert first.speaker is Speaker.AGENT
    assert first.start_s < 2.0
    for earlier, later in zip(conversation.transcript, conversation.transcript[1:], strict=False):
        assert earlier.end_s <= later.start_s
        assert later.start_s < later.end_s


@pytest.mark.parametrize("persona", PERSONAS)
def test_inbound_conversations(persona: str) -> None:
    conversation = play_conversation(profile(), inbound(), ScriptedPolicy(), persona, seed=0)
    expected = EXPECTED[persona] | {ConversationOutcome.STAFF_FOLLOW_UP}
    asked = any(
        t.speaker is Speaker.AGENT and t.text == "Would you like us to stop calling this number?"
        for t in conversation.transcript
    )
    if persona == "not_interested" and asked:
        # "I got a call from you, but I'm not interested." is a possible opt-out: the agent
        # asks, and "No thanks, I'm not interested." is no clear no (confirm on doubt).
        expected |= {ConversationOutcome.OPTED_OUT}
    assert conversation.outcome in expected
    assert conversation.transcript[1].speaker is Speaker.CALLEE


def test_the_same_seed_replays_the_same_conversation() -> None:
    one = play_conversation(profile(), outbound(), ScriptedPolicy(), "clinical_question", 7)
    two = play_conversation(profile(), outbound(), ScriptedPolicy(), "clinical_question", 7)
    assert one == two


def test_some_clinical_seeds_are_urgent() -> None:
    priorities = set()
    for seed in range(12):
        conversation = play_conversation(
            profile(), outbound(), ScriptedPolicy(), "clinical_question", seed
        )
        priorities |= {
            e.priority for e in conversation.events if e.kind is EventKind.STAFF_FOLLOW_UP
        }  # type: ignore[union-attr]
    assert priorities == {TaskPriority.NORMAL, TaskPriority.URGENT}


def test_unknown_personas_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown persona"):
        SimulatedCallee("shouts")


def test_voicemail_says_only_practice_number_and_opt_out() -> None:
    conversation = leave_voicemail(profile(), outbound())
    (line,) = conversation.transcript
    assert line.text == (
        "Hi, this is the AI assistant for Glow Med Spa with a courtesy message for you. "
        "Please call us back at 305-555-0123. To opt out of future calls, call 305-555-0123 "
        "and say stop."
    )
    assert conversation.outcome is ConversationOutcome.VOICEMAIL_LEFT
    assert conversation.ended_by is EndReason.VOICEMAIL


def test_a_voicemail_script_that_says_too_much_is_replaced() -> None:
    chatty = profile(
        voicemail_script="Hi from {practice}! Your Botox is Friday. Call {callback_number}."
    )
    conversation = leave_voicemail(chatty, outbound())
    text = conversation.transcript[0].text
    assert "Botox" not in text
    assert "Friday" not in text
    assert "Jane" not in text
    assert EventKind.PHI_BLOCKED in [e.kind for e in conversation.events]


def test_voicemail_uses_the_opt_out_number_when_set() -> None:
    text = leave_voicemail(profile(opt_out_number="+18005550199"), outbound()).transcript[0].text
    assert text.endswith("call 800-555-0199 and say stop.")


def test_outbound_without_a_name_skips_the_identity_question() -> None:
    context = CallContext(CallDirection.OUTBOUND, CallPurpose.LEAD_REACTIVATION)
    conversation = play_conversation(profile(), context, ScriptedPolicy(), "confirms", 0)
    assert "Am I speaking with" not in conversation.transcript[0].text
    assert conversation.outcome is ConversationOutcome.BOOKING_REQUESTED


@pytest.mark.parametrize("callee", [*PERSONAS, VOICEMAIL_BOX])
def test_a_simulated_call_plays_once_and_its_completion_gets_the_same_conversation(
    callee: str,
) -> None:
    """The sandbox times the call by its conversation at dial time; the completion, holding
    only the session as stored (JSON), must get that conversation, not a different play."""
    session = AgentSession(profile(), outbound())
    at_dial = simulated_conversation(session, callee, 42)
    stored = json.loads(json.dumps(session_to_json(session)))
    at_completion = simulated_conversation(session_from_json(stored), callee, 42)
    assert at_completion is at_dial  # kept, not played again
    fresh = (
        leave_voicemail(session.profile, session.context)
        if callee == VOICEMAIL_BOX
        else play_conversation(session.profile, session.context, ScriptedPolicy(), callee, seed=42)
    )
    assert at_dial == fresh  # and it is the same conversation a new play gives
    assert simulated_conversation(session, callee, 43) is not at_dial  # keyed by contact too


class _CountingUnderstander:
    """An understander that records what it was asked to read (a fake)."""

    def __init__(self) -> None:
        self.read: list[tuple[str, bool]] = []

    def understand(self, text: str, *, appointment_call: bool) -> Understanding:
        self.read.append((text, appointment_call))
        return Understanding(Label.OTHER, probabilities={Label.OTHER: float(len(self.read))})


def test_the_memo_understander_reads_each_turn_once_and_keeps_the_latest() -> None:
    inner = _CountingUnderstander()
    memo = MemoUnderstander(inner, kept=2)
    first = memo.understand("Yes.", appointment_call=True)
    assert memo.understand("Yes.", appointment_call=True) is first  # kept, not read again
    assert memo.understand("Yes.", appointment_call=False) is not first  # keyed by both
    memo.understand("No.", appointment_call=True)  # a third: the least recent one goes
    memo.understand("Yes.", appointment_call=True)
    assert inner.read == [("Yes.", True), ("Yes.", False), ("No.", True), ("Yes.", True)]


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, Jane. I'm calling to confirm your Botox touch-up on Friday at 2 PM.",
        "I'm a real person, not a machine. Your Botox is Friday.",
        "Hi, this is Glow Med Spa. Goodbye!",
    ],
)
def test_the_personas_screen_says_what_the_screen_says(text: str) -> None:
    """The simulated calls screen the agent's words through a memo of `screen_utterance`."""
    withheld = [service_withheld("Botox touch-up"), time_withheld("Friday at 2 PM")]
    for allowed in ([], ["Botox touch-up"]):
        expected = screen_utterance(
            text, practice_name="Glow Med Spa", allowed=allowed, withheld=withheld
        )
        kept = _screened(text, practice_name="Glow Med Spa", allowed=allowed, withheld=withheld)
        assert kept == expected
        assert (
            _screened(text, practice_name="Glow Med Spa", allowed=allowed, withheld=withheld)
            is kept
        )


def test_the_session_snapshot_keeps_every_reply_template() -> None:
    """The replies are read field by field (no deep copy): the same dict `asdict` makes."""
    replies = ReplyTemplates(ask_confirm="Hi {first_name}, see you {time}?", closing="Bye.")
    session = AgentSession(profile(replies=replies), outbound())
    stored = session_to_json(session)
    assert stored["profile"]["replies"] == asdict(replies)
    assert list(stored["profile"]["replies"]) == list(asdict(replies))
    assert session_from_json(json.loads(json.dumps(stored))) == session
