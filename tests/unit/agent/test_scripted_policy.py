"""The embedded policy: intents and templated outcomes."""

from __future__ import annotations

import pytest

from ringfence.agent.events import (
    BookingRequested,
    CallbackRequested,
    CancelRequested,
    EventKind,
    NotInterested,
    RescheduleRequested,
    WrongNumber,
)
from ringfence.agent.policies.intents import Intent, extract_when, recognize_intent
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import ReplyTemplates
from ringfence.agent.runtime import ConversationRuntime
from ringfence.domain.vocabulary import CallPurpose

from .factories import outbound, profile


@pytest.mark.parametrize(
    ("text", "intent", "when"),
    [
        ("Yes, I'll be there.", Intent.CONFIRM, None),
        ("Sounds good, see you then", Intent.CONFIRM, None),
        ("Could we do Thursday at 3 pm instead?", Intent.RESCHEDULE, "Thursday at 3 pm"),
        ("Can we move it to next Monday morning?", Intent.RESCHEDULE, "next Monday morning"),
        ("I can't make it.", Intent.RESCHEDULE, None),
        ("Can I cancel my appointment?", Intent.CANCEL, None),
        ("Can you call me back tomorrow afternoon?", Intent.CALL_BACK_LATER, "tomorrow afternoon"),
        ("I'm driving right now.", Intent.CALL_BACK_LATER, "now"[:0] or None),
        ("You have the wrong number.", Intent.WRONG_NUMBER, None),
        ("No thanks, I'm not interested.", Intent.NOT_INTERESTED, None),
        ("How much does it cost?", Intent.QUESTION_FOR_STAFF, None),
        ("Can I talk to someone at the front desk?", Intent.QUESTION_FOR_STAFF, None),
        ("No.", Intent.DECLINE, None),
        ("Thursday at 3 pm", Intent.RESCHEDULE, "Thursday at 3 pm"),
        ("banana", Intent.UNKNOWN, None),
    ],
)
def test_intents(text: str, intent: Intent, when: str | None) -> None:
    match = recognize_intent(text)
    assert match.intent is intent
    assert match.when == when


def test_when_keeps_one_expression() -> None:
    assert extract_when("Thursday? I'm busy in the morning") == "Thursday"
    assert extract_when("how about June 3rd at 10:30 am") == "June 3rd at 10:30 am"


def play(purpose: CallPurpose, *said: str) -> ConversationRuntime:
    runtime = ConversationRuntime(profile(), outbound(purpose), ScriptedPolicy())
    runtime.start()
    runtime.respond("Yes, this is Jane.")
    for text in said:
        runtime.respond(text)
    return runtime


@pytest.mark.parametrize(
    ("purpose", "said", "outcome"),
    [
        (
            CallPurpose.APPOINTMENT_CONFIRMATION,
            ["Can we do Thursday at 3 pm?"],
            RescheduleRequested("Thursday at 3 pm"),
        ),
        (
            CallPurpose.APPOINTMENT_CONFIRMATION,
            ["I can't make it", "Friday morning"],
            RescheduleRequested("Friday morning"),
        ),
        (CallPurpose.APPOINTMENT_CONFIRMATION, ["No", "No"], CancelRequested()),
        (CallPurpose.APPOINTMENT_CONFIRMATION, ["Please cancel it"], CancelRequested()),
        (
            CallPurpose.NO_SHOW_RECOVERY,
            ["Yes", "Tuesday at 11 am"],
            RescheduleRequested("Tuesday at 11 am"),
        ),
        (
            CallPurpose.CONSULT_FOLLOW_UP,
            ["Yes please", "next Monday morning"],
            BookingRequested("next Monday morning"),
        ),
        (CallPurpose.TREATMENT_REMINDER, ["Sure", "whenever works"], BookingRequested(None)),
        (CallPurpose.LEAD_REACTIVATION, ["No"], NotInterested()),
        (CallPurpose.LEAD_REACTIVATION, ["Call me back later"], CallbackRequested(None)),
        (CallPurpose.TREATMENT_REMINDER, ["Wrong number, sorry"], WrongNumber()),
    ],
)
def test_outcomes_per_purpose(purpose: CallPurpose, said: list[str], outcome: object) -> None:
    runtime = play(purpose, *said)
    assert runtime.ended
    assert outcome in runtime.events


def test_questions_for_staff_open_a_task_and_repeat_the_question() -> None:
    runtime = play(CallPurpose.APPOINTMENT_CONFIRMATION)
    turn = runtime.respond("Where do I park?")
    assert [e.kind for e in turn.events] == [EventKind.STAFF_FOLLOW_UP]
    assert turn.text.endswith("Will you be able to make it?")


def test_two_misses_close_politely() -> None:
    runtime = play(CallPurpose.APPOINTMENT_CONFIRMATION)
    assert runtime.respond("banana").text.startswith("Sorry, I didn't catch that.")
    final = runtime.respond("banana")
    assert final.ended
    assert "305-555-0123" in final.text


def test_replies_come_from_the_profile() -> None:
    custom = ReplyTemplates(confirmed="Perfect, {first_name}, see you {time}. Goodbye!")
    runtime = ConversationRuntime(profile(replies=custom), outbound(), ScriptedPolicy())
    runtime.start()
    runtime.respond("Yes, this is Jane.")
    assert runtime.respond("Yes").text == "Perfect, Jane, see you Friday at 2 PM. Goodbye!"
