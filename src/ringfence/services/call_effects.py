"""What a finished conversation causes, as data: the tasks, tags, notes, confirmations and
opt-out its events call for, in order, and the signals workflow branches test.

Pure: the per-call shell `apply_conversation` (services/call_outcomes.py) and the bulk writer of
a tick's completions (services/call_outcomes_bulk.py) both apply these, so they cannot drift
apart in what a conversation causes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ringfence.agent.callee import Conversation
from ringfence.agent.events import (
    AppointmentConfirmed,
    BookingRequested,
    CallbackRequested,
    CallerMessage,
    CancelRequested,
    FollowUpReason,
    NotInterested,
    OptOut,
    RescheduleRequested,
    StaffFollowUp,
    TransferFailed,
    TransferRequested,
    WrongNumber,
)
from ringfence.domain.tags import NOT_INTERESTED_TAG, WRONG_NUMBER_TAG
from ringfence.domain.vocabulary import TaskPriority


@dataclass(frozen=True, slots=True)
class MakeTask:
    title: str
    body: str
    priority: TaskPriority = TaskPriority.NORMAL


def task_due(priority: TaskPriority, created: datetime) -> datetime:
    """When a task a call opens is due: an urgent one within the hour, any other the next day."""
    return created + (timedelta(hours=1) if priority is TaskPriority.URGENT else timedelta(days=1))


@dataclass(frozen=True, slots=True)
class ApplyTag:
    name: str


@dataclass(frozen=True, slots=True)
class AddNote:
    body: str


@dataclass(frozen=True, slots=True)
class ConfirmAppointment:
    pass


@dataclass(frozen=True, slots=True)
class NoteTransfer:
    to: str


@dataclass(frozen=True, slots=True)
class ApplyOptOut:
    event: OptOut


Effect = MakeTask | ApplyTag | AddNote | ConfirmAppointment | NoteTransfer | ApplyOptOut


def effects_of(conversation: Conversation) -> tuple[list[Effect], list[str]]:
    """The changes a finished conversation causes, in order, and what it produced (the signals
    workflow branches test, sorted)."""
    effects: list[Effect] = []
    produced: set[str] = set()
    opted_out = any(isinstance(event, OptOut) for event in conversation.events)
    for event in conversation.events:
        signal = _SIGNALS.get(type(event))
        if signal is not None:
            produced.add(signal)
        if isinstance(event, StaffFollowUp) and event.reason in _CLINICAL:
            produced.add("clinical_question")
        match event:
            case OptOut():
                effects.append(ApplyOptOut(event))
            case StaffFollowUp() if opted_out and event.reason in _CALL_BACKS:
                pass  # no call-back to someone who opted out in the same call
            case StaffFollowUp():
                title = (
                    "Urgent: possible complication"
                    if event.priority is TaskPriority.URGENT
                    else (f"Follow up: {event.reason.value.replace('_', ' ')}")
                )
                effects.append(
                    MakeTask(title, f'The patient said: "{event.callee_said}"', event.priority)
                )
            case AppointmentConfirmed():
                effects.append(ConfirmAppointment())
            case RescheduleRequested():
                effects.append(
                    MakeTask(
                        "Reschedule appointment", f"Proposed time: {event.proposed or 'not given'}"
                    )
                )
            case CancelRequested():
                effects.append(
                    MakeTask("Confirm cancellation", "The patient asked to cancel the appointment.")
                )
            case CallbackRequested():
                effects.append(
                    MakeTask("Call the patient back", f"Requested: {event.when or 'later'}")
                )
            case BookingRequested():
                effects.append(
                    MakeTask(
                        "Book the patient", f"Preferred time: {event.preferred or 'not given'}"
                    )
                )
            case WrongNumber():
                effects.append(ApplyTag(WRONG_NUMBER_TAG))
                effects.append(AddNote("The person who answered said this is a wrong number."))
            case NotInterested():
                effects.append(ApplyTag(NOT_INTERESTED_TAG))
            case TransferRequested():
                effects.append(NoteTransfer(event.to))
            case TransferFailed():
                effects.append(failed_transfer_task(event, conversation))
            case CallerMessage():
                # An inbound caller the agent could not confirm as a contact left a message.
                effects.append(MakeTask("Call back a caller", event.task_text))
            case _:
                pass  # disclosures, filters, identity: recorded in the transcript only
    return effects, sorted(produced)


def failed_transfer_task(event: TransferFailed, conversation: Conversation) -> MakeTask:
    asks = [e for e in conversation.events if isinstance(e, TransferRequested)]
    asked = asks[0].callee_said if asks else ""
    return MakeTask(
        "Call the patient back",
        f"The patient asked for a person; the transfer to {event.to} did not "
        f'connect ({event.why}). The patient said: "{asked}"',
    )


# The conversation events a workflow branch can test (domain/workflows/outcomes.py).
_SIGNALS: dict[type, str] = {
    OptOut: "opted_out",
    AppointmentConfirmed: "appointment_confirmed",
    RescheduleRequested: "reschedule_requested",
    CancelRequested: "cancel_requested",
    CallbackRequested: "callback_requested",
    BookingRequested: "booking_requested",
    WrongNumber: "wrong_number",
    NotInterested: "not_interested",
}
_CLINICAL = frozenset({FollowUpReason.CLINICAL_QUESTION, FollowUpReason.POSSIBLE_COMPLICATION})
# Tasks whose point is to call the patient back: dropped when the call ended in an opt-out.
_CALL_BACKS = frozenset({FollowUpReason.SPANISH_SPEAKER, FollowUpReason.HUMAN_REQUESTED})
