"""A caller who asks for a person: a warm transfer while the staff line is open, otherwise a
call-back task and when to expect it; never both, never before an opt-out."""

from __future__ import annotations

from dataclasses import replace

from ringfence.agent.events import ConversationOutcome as Outcome
from ringfence.agent.events import (
    EndReason,
    OptOut,
    StaffFollowUp,
    TransferRequested,
    outcome_of,
)
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.runtime import ConversationRuntime
from ringfence.domain.staff_hours import StaffLine

from .factories import outbound, profile

STAFF = "+13055550199"
OPEN = StaffLine(STAFF, "today")
CLOSED = StaffLine(None, "tomorrow after 9 AM")


def runtime(staff: StaffLine | None) -> ConversationRuntime:
    call = ConversationRuntime(profile(), replace(outbound(), staff=staff), ScriptedPolicy())
    call.start()
    return call


def test_while_staff_are_in_the_caller_is_transferred() -> None:
    call = runtime(OPEN)
    call.respond("Yes, this is Jane.")
    turn = call.respond("Can I talk to someone at the front desk, please?")
    assert turn.ended
    assert "transferring you to a member of our team" in turn.text
    assert TransferRequested(STAFF, "Can I talk to someone at the front desk, please?") in (
        turn.events
    )
    assert not [e for e in turn.events if isinstance(e, StaffFollowUp)]
    assert call.ended_by is EndReason.TRANSFERRED
    assert outcome_of(call.events) is Outcome.TRANSFERRED


def test_a_transfer_needs_no_identity_check_and_says_nothing_of_the_appointment() -> None:
    call = runtime(OPEN)
    turn = call.respond("I'd rather speak with a member of your staff. Can you put me through?")
    assert call.ended_by is EndReason.TRANSFERRED
    assert "Botox" not in turn.text
    assert "Friday" not in turn.text


def test_after_hours_the_caller_hears_when_to_expect_a_call_back() -> None:
    call = runtime(CLOSED)
    call.respond("Yes, this is Jane.")
    turn = call.respond("Can I talk to a human please")
    assert "call you back tomorrow after 9 AM" in turn.text
    assert not [e for e in turn.events if isinstance(e, TransferRequested)]
    assert call.ended_by is EndReason.COMPLETED


def test_without_a_staff_line_it_is_a_call_back_during_business_hours() -> None:
    call = runtime(None)
    call.respond("Yes, this is Jane.")
    assert "during business hours" in call.respond("Let me speak to a real person").text


def test_a_spanish_speaker_is_told_in_spanish() -> None:
    call = runtime(OPEN)
    call.respond("Sí, soy Jane, pero no hablo mucho inglés.")
    turn = call.respond("¿Puedo hablar con alguien de la recepción, por favor?")
    assert call.ended_by is EndReason.TRANSFERRED
    assert "Le paso ahora" in turn.text


def test_a_stop_request_is_never_transferred() -> None:
    call = runtime(OPEN)
    turn = call.respond("Put me through to someone so I can tell them to stop calling me.")
    assert call.ended_by is EndReason.OPT_OUT
    assert [e for e in turn.events if isinstance(e, OptOut)]
    assert not [e for e in turn.events if isinstance(e, TransferRequested)]


def test_a_bare_word_the_model_reads_as_a_request_for_a_person_ends_nothing() -> None:
    call = runtime(OPEN)
    turn = call.respond("Please.")
    assert not turn.ended
    assert not [e for e in turn.events if isinstance(e, (TransferRequested, StaffFollowUp))]
