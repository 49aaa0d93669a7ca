"""A held conversation survives the trip through JSON exactly, every event kind included."""

from __future__ import annotations

import json
import typing

import pytest

from ringfence.agent import events as ev
from ringfence.agent.callee import Conversation, TranscriptLine
from ringfence.agent.conversation_json import (
    conversation_from_json,
    conversation_to_json,
    event_from_json,
    event_to_json,
)
from ringfence.agent.policies.base import Speaker
from ringfence.domain.vocabulary import TaskPriority

EVERY_EVENT: tuple[ev.AgentEvent, ...] = (
    ev.AppointmentConfirmed(),
    ev.RescheduleRequested("Thursday at 3 pm"),
    ev.RescheduleRequested(None),
    ev.CancelRequested(),
    ev.CallbackRequested("tomorrow afternoon"),
    ev.BookingRequested(None),
    ev.WrongNumber(),
    ev.NotInterested(),
    ev.PatientUnavailable(),
    ev.StaffFollowUp(
        ev.FollowUpReason.POSSIBLE_COMPLICATION,
        TaskPriority.URGENT,
        "my lip is really swollen",
        ("swollen", "lip"),
    ),
    ev.OptOut("Please stop calling me.", "phrase", ev.DetectedBy.POLICY),
    ev.AiDisclosed("are you a robot?"),
    ev.HumanClaimBlocked("claims_human"),
    ev.PhiBlocked(("filler",)),
    ev.IdentityConfirmed(),
    ev.PolicyFallback("timeout"),
    ev.PolicyOutputBlocked(("phone_number", "ungrounded_action")),
    ev.VoicemailLeft(),
    ev.TransferRequested("+13055550199", "can I talk to someone at the front desk"),
    ev.TransferFailed("+13055550199", "the REFER was answered 403 Forbidden"),
    ev.CallerConfirmed(7),
    ev.CallerMessage("Tom Baker", "I need to cancel my appointment"),
    ev.CallEnded(ev.EndReason.OPT_OUT),
    ev.CallEnded(ev.EndReason.TRANSFERRED),
)


def test_every_event_kind_is_covered_here() -> None:
    assert {type(e) for e in EVERY_EVENT} == set(typing.get_args(ev.AgentEvent))


@pytest.mark.parametrize("event", EVERY_EVENT, ids=lambda e: type(e).__name__)
def test_each_event_round_trips_through_json_text(event: ev.AgentEvent) -> None:
    text = json.dumps(event_to_json(event))
    assert event_from_json(json.loads(text)) == event


def test_a_conversation_round_trips() -> None:
    conversation = Conversation(
        transcript=(
            TranscriptLine(Speaker.AGENT, "Hi, this is Glow.", 0.0, 2.5),
            TranscriptLine(Speaker.CALLEE, "Stop calling me.", 3.1, 4.0),
        ),
        events=EVERY_EVENT,
        outcome=ev.ConversationOutcome.OPTED_OUT,
        ended_by=ev.EndReason.OPT_OUT,
    )
    data = json.loads(json.dumps(conversation_to_json(conversation)))
    assert conversation_from_json(data) == conversation


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "teleport"}, "unknown event kind"),
        ({}, "unknown event kind"),
        ({"kind": "opt_out", "rule": "phrase"}, "lacks 'callee_said'"),
    ],
)
def test_unknown_or_incomplete_events_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        event_from_json(data)


def test_a_record_missing_its_parts_is_refused() -> None:
    with pytest.raises(ValueError, match="not a conversation record"):
        conversation_from_json({"transcript": []})
