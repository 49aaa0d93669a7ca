"""What a conversation produces for the shell: typed events, the call's outcome, why it ended.

The runtime is a functional core: it decides, and the shell (database side) applies. Every
event is a small frozen dataclass with a stable `kind`; the shell matches on the class.
docs/agent.md lists what the shell must do with each one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from ringfence.domain.vocabulary import TaskPriority


class EventKind(StrEnum):
    OPT_OUT = "opt_out"
    AI_DISCLOSED = "ai_disclosed"
    HUMAN_CLAIM_BLOCKED = "human_claim_blocked"
    PHI_BLOCKED = "phi_blocked"
    STAFF_FOLLOW_UP = "staff_follow_up"
    IDENTITY_CONFIRMED = "identity_confirmed"
    APPOINTMENT_CONFIRMED = "appointment_confirmed"
    RESCHEDULE_REQUESTED = "reschedule_requested"
    CANCEL_REQUESTED = "cancel_requested"
    CALLBACK_REQUESTED = "callback_requested"
    BOOKING_REQUESTED = "booking_requested"
    WRONG_NUMBER = "wrong_number"
    NOT_INTERESTED = "not_interested"
    PATIENT_UNAVAILABLE = "patient_unavailable"
    POLICY_FALLBACK = "policy_fallback"
    POLICY_OUTPUT_BLOCKED = "policy_output_blocked"
    VOICEMAIL_LEFT = "voicemail_left"
    TRANSFER_REQUESTED = "transfer_requested"
    TRANSFER_FAILED = "transfer_failed"
    CALL_ENDED = "call_ended"
    CALLER_CONFIRMED = "caller_confirmed"
    CALLER_MESSAGE = "caller_message"


class DetectedBy(StrEnum):
    RUNTIME = "runtime"  # the deterministic guardrail, before the policy
    POLICY = "policy"  # the dialogue policy flagged it (e.g. an LLM's opt_out tool call)


class FollowUpReason(StrEnum):
    CLINICAL_QUESTION = "clinical_question"
    POSSIBLE_COMPLICATION = "possible_complication"
    QUESTION_FOR_STAFF = "question_for_staff"
    AMBIGUOUS_CANCEL = "ambiguous_cancel"  # "cancel" on an appointment call: honoured as opt-out
    POLICY_FAILURE = "policy_failure"
    HUMAN_REQUESTED = "human_requested"  # the callee asked for a person: call back
    TRANSFER_FAILED = "transfer_failed"  # handed to staff, but the carrier could not connect
    SPANISH_SPEAKER = "spanish_speaker"  # the callee spoke Spanish: a Spanish-speaking call-back


class EndReason(StrEnum):
    OPT_OUT = "opt_out"
    COMPLETED = "completed"  # the agent closed the call after an outcome
    URGENT_FOLLOW_UP = "urgent_follow_up"
    POLICY_FAILURE = "policy_failure"
    MAX_TURNS = "max_turns"
    CALLEE_HUNG_UP = "callee_hung_up"
    VOICEMAIL = "voicemail"
    TRANSFERRED = "transferred"  # handed to the practice's staff line (a warm transfer)


@dataclass(frozen=True, slots=True)
class OptOut:
    """The callee revoked consent. Always ends the call; never argued with."""

    kind: ClassVar[EventKind] = EventKind.OPT_OUT
    callee_said: str
    rule: str  # which detector rule matched (docs/agent.md, "Opt-out phrase rules")
    detected_by: DetectedBy = DetectedBy.RUNTIME


@dataclass(frozen=True, slots=True)
class AiDisclosed:
    kind: ClassVar[EventKind] = EventKind.AI_DISCLOSED
    callee_said: str


@dataclass(frozen=True, slots=True)
class HumanClaimBlocked:
    """An utterance claiming to be human was replaced by a disclosure before it was said."""

    kind: ClassVar[EventKind] = EventKind.HUMAN_CLAIM_BLOCKED
    rule: str


@dataclass(frozen=True, slots=True)
class PhiBlocked:
    """Sentences were withheld; `terms` are term-list labels, never the withheld text."""

    kind: ClassVar[EventKind] = EventKind.PHI_BLOCKED
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PolicyOutputBlocked:
    """A model's words or action were not used: `checks` names what failed (the output
    verifier's checks, or `ungrounded_action`), never the blocked words themselves."""

    kind: ClassVar[EventKind] = EventKind.POLICY_OUTPUT_BLOCKED
    checks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StaffFollowUp:
    """A task for staff. `callee_said` is the patient's own words (for the task body)."""

    kind: ClassVar[EventKind] = EventKind.STAFF_FOLLOW_UP
    reason: FollowUpReason
    priority: TaskPriority
    callee_said: str
    signals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IdentityConfirmed:
    kind: ClassVar[EventKind] = EventKind.IDENTITY_CONFIRMED


@dataclass(frozen=True, slots=True)
class AppointmentConfirmed:
    kind: ClassVar[EventKind] = EventKind.APPOINTMENT_CONFIRMED


@dataclass(frozen=True, slots=True)
class RescheduleRequested:
    kind: ClassVar[EventKind] = EventKind.RESCHEDULE_REQUESTED
    proposed: str | None  # the callee's own words for the time ("Thursday at 3 pm")


@dataclass(frozen=True, slots=True)
class CancelRequested:
    kind: ClassVar[EventKind] = EventKind.CANCEL_REQUESTED


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    kind: ClassVar[EventKind] = EventKind.CALLBACK_REQUESTED
    when: str | None


@dataclass(frozen=True, slots=True)
class BookingRequested:
    """A marketing call's yes: staff book the treatment or consult (preferred time if said)."""

    kind: ClassVar[EventKind] = EventKind.BOOKING_REQUESTED
    preferred: str | None


@dataclass(frozen=True, slots=True)
class WrongNumber:
    kind: ClassVar[EventKind] = EventKind.WRONG_NUMBER


@dataclass(frozen=True, slots=True)
class NotInterested:
    kind: ClassVar[EventKind] = EventKind.NOT_INTERESTED


@dataclass(frozen=True, slots=True)
class PatientUnavailable:
    """Someone else answered (or identity could not be confirmed): nothing was disclosed."""

    kind: ClassVar[EventKind] = EventKind.PATIENT_UNAVAILABLE


@dataclass(frozen=True, slots=True)
class PolicyFallback:
    """The dialogue policy failed (timeout, HTTP error, bad reply): a safe line was said."""

    kind: ClassVar[EventKind] = EventKind.POLICY_FALLBACK
    error: str


@dataclass(frozen=True, slots=True)
class VoicemailLeft:
    kind: ClassVar[EventKind] = EventKind.VOICEMAIL_LEFT


@dataclass(frozen=True, slots=True)
class TransferRequested:
    """The callee asked for a person while staff are reachable: once the agent's last words
    have played, the carrier hands the call to `to` (E.164, the agent's staff line)."""

    kind: ClassVar[EventKind] = EventKind.TRANSFER_REQUESTED
    to: str
    callee_said: str


@dataclass(frozen=True, slots=True)
class TransferFailed:
    """Added by the carrier's shell, not the runtime: the transfer was refused or never
    connected (`why`, the carrier's words). Staff get a call-back task."""

    kind: ClassVar[EventKind] = EventKind.TRANSFER_FAILED
    to: str
    why: str


@dataclass(frozen=True, slots=True)
class CallerConfirmed:
    """An inbound caller confirmed as one contact (always beside IdentityConfirmed): the
    shell applies the call's appointment outcomes to, and files the call under, `contact_id`."""

    kind: ClassVar[EventKind] = EventKind.CALLER_CONFIRMED
    contact_id: int


@dataclass(frozen=True, slots=True)
class CallerMessage:
    """An inbound caller not confirmed as a contact left a message: staff call them back.
    Both fields are the caller's own words (`reason`: what they asked for)."""

    kind: ClassVar[EventKind] = EventKind.CALLER_MESSAGE
    caller_name: str
    reason: str

    @property
    def task_text(self) -> str:
        return f"Call back {self.caller_name}: {self.reason}"


@dataclass(frozen=True, slots=True)
class CallEnded:
    kind: ClassVar[EventKind] = EventKind.CALL_ENDED
    reason: EndReason


PolicyOutcome = (
    AppointmentConfirmed
    | RescheduleRequested
    | CancelRequested
    | CallbackRequested
    | BookingRequested
    | WrongNumber
    | NotInterested
    | PatientUnavailable
    | StaffFollowUp
    | OptOut
)
AgentEvent = (
    PolicyOutcome
    | AiDisclosed
    | HumanClaimBlocked
    | PhiBlocked
    | IdentityConfirmed
    | PolicyFallback
    | PolicyOutputBlocked
    | VoicemailLeft
    | TransferRequested
    | TransferFailed
    | CallerConfirmed
    | CallerMessage
    | CallEnded
)


class ConversationOutcome(StrEnum):
    """The one structured result of a conversation (the call log's disposition)."""

    OPTED_OUT = "opted_out"
    CONFIRMED = "confirmed"
    RESCHEDULE_REQUESTED = "reschedule_requested"
    CANCEL_REQUESTED = "cancel_requested"
    CALLBACK_REQUESTED = "callback_requested"
    BOOKING_REQUESTED = "booking_requested"
    WRONG_NUMBER = "wrong_number"
    NOT_INTERESTED = "not_interested"
    PATIENT_UNAVAILABLE = "patient_unavailable"
    STAFF_FOLLOW_UP = "staff_follow_up"
    VOICEMAIL_LEFT = "voicemail_left"
    TRANSFERRED = "transferred"
    NO_RESOLUTION = "no_resolution"


_OUTCOME_OF: dict[EventKind, ConversationOutcome] = {
    EventKind.APPOINTMENT_CONFIRMED: ConversationOutcome.CONFIRMED,
    EventKind.RESCHEDULE_REQUESTED: ConversationOutcome.RESCHEDULE_REQUESTED,
    EventKind.CANCEL_REQUESTED: ConversationOutcome.CANCEL_REQUESTED,
    EventKind.CALLBACK_REQUESTED: ConversationOutcome.CALLBACK_REQUESTED,
    EventKind.BOOKING_REQUESTED: ConversationOutcome.BOOKING_REQUESTED,
    EventKind.WRONG_NUMBER: ConversationOutcome.WRONG_NUMBER,
    EventKind.NOT_INTERESTED: ConversationOutcome.NOT_INTERESTED,
    EventKind.PATIENT_UNAVAILABLE: ConversationOutcome.PATIENT_UNAVAILABLE,
    EventKind.VOICEMAIL_LEFT: ConversationOutcome.VOICEMAIL_LEFT,
    EventKind.TRANSFER_REQUESTED: ConversationOutcome.TRANSFERRED,
    EventKind.CALLER_MESSAGE: ConversationOutcome.STAFF_FOLLOW_UP,
}


def outcome_of(events: Iterable[AgentEvent]) -> ConversationOutcome:
    """An opt-out wins over everything; a failed transfer is a staff task; else the last
    outcome event; else a staff task."""
    kinds = [event.kind for event in events]
    if EventKind.OPT_OUT in kinds:
        return ConversationOutcome.OPTED_OUT
    if EventKind.TRANSFER_FAILED in kinds:
        return ConversationOutcome.STAFF_FOLLOW_UP
    for kind in reversed(kinds):
        if kind in _OUTCOME_OF:
            return _OUTCOME_OF[kind]
    if EventKind.STAFF_FOLLOW_UP in kinds:
        return ConversationOutcome.STAFF_FOLLOW_UP
    return ConversationOutcome.NO_RESOLUTION


def time_slot(outcome: PolicyOutcome | None) -> str | None:
    """The day/time words an outcome carries (a reschedule's proposal, a call-back's "when", a
    booking's preference), or None."""
    match outcome:
        case RescheduleRequested(proposed=when) | CallbackRequested(when=when):
            return when
        case BookingRequested(preferred=when):
            return when
        case _:
            return None
