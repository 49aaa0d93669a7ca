"""The agent's saved configuration (AgentProfile) and one call's facts (CallContext).

One agent serves both directions (spec, Step 2: "The same agent that handles inbound calls
can also place outbound calls ... detects call direction and adjusts its greeting"): the
profile holds an inbound greeting and one outbound opening per purpose, and the runtime is
told the call's direction and purpose in the CallContext.

Configured texts may use placeholders: openings, greetings and voicemails only
`{practice}` (nothing about the patient is said before identity is confirmed); reply
templates also `{first_name}`, `{service}`, `{time}`, `{callback_number}`, `{proposed}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from ringfence.agent.text import spoken_number
from ringfence.domain.inbound import OurCall, Recognition
from ringfence.domain.staff_hours import StaffLine
from ringfence.domain.vocabulary import CallPurpose


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class PolicyName(StrEnum):
    SCRIPTED = "scripted"  # the embedded deterministic policy
    LLM = "llm"  # an OpenAI-compatible chat-completions model


# Reasons for the call, one per purpose: generic on purpose (no service, no time).
_REASONS: Final[dict[CallPurpose, str]] = {
    CallPurpose.APPOINTMENT_CONFIRMATION: "I'm calling about your upcoming appointment with us.",
    CallPurpose.NO_SHOW_RECOVERY: "I'm calling about a recent appointment we missed you at.",
    CallPurpose.CONSULT_FOLLOW_UP: "I'm calling to follow up on your recent consultation.",
    CallPurpose.TREATMENT_REMINDER: "I'm calling with a reminder about your treatment schedule.",
    CallPurpose.LEAD_REACTIVATION: "I'm calling because you reached out to us a while back.",
}
OPT_OUT_OFFER: Final = "you can say stop at any time to opt out of these calls"


def default_opening(purpose: CallPurpose) -> str:
    """The safe opening for `purpose`: identification first, the reason second, and for
    marketing purposes the opt-out offer right after the identification (47 CFR
    64.1200(b)(3): within 2 seconds of it)."""
    if purpose.is_marketing:
        first = f"Hi, this is the AI assistant for {{practice}}, and {OPT_OUT_OFFER}."
    else:
        first = "Hi, this is the AI assistant for {practice}."
    return f"{first} {_REASONS[purpose]}"


DEFAULT_INBOUND_GREETING: Final = (
    "Thank you for calling {practice}. This is the practice's AI assistant. How can I help you?"
)
DEFAULT_VOICEMAIL: Final = (
    "Hi, this is the AI assistant for {practice} with a courtesy message for you. "
    "Please call us back at {callback_number}."
)


@dataclass(frozen=True, slots=True)
class ReplyTemplates:
    """The embedded policy's replies. `{service}` and `{time}` are only filled once the
    patient's identity is confirmed; before that they read "your appointment"."""

    ask_confirm: str = (
        "Thanks, {first_name}. I'm calling to confirm your {service} on {time}. "
        "Will you be able to make it?"
    )
    ask_rebook: str = (
        "We missed you at your {service} on {time}, and we'd be glad to find you a new time. "
        "Would you like to reschedule?"
    )
    ask_consult_booking: str = (
        "I'm following up on your recent {service} consultation. "
        "Would you like help booking your treatment?"
    )
    ask_treatment_booking: str = (
        "It's about time for your next {service}. Would you like to book an appointment?"
    )
    ask_lead_booking: str = (
        "We'd love to help with whatever you were looking for. "
        "Would you like to book a consultation?"
    )
    inbound_help: str = "How can I help you today?"
    ask_time: str = "No problem. What day and time would work better for you?"
    ask_preferred_time: str = "Great. What day and time usually work best for you?"
    offer_reschedule: str = "No problem. Would you like to pick a new time instead?"
    confirmed: str = "Wonderful, you're all set. We look forward to seeing you. Goodbye!"
    reschedule_noted: str = (
        "Thank you. I've noted {proposed}, and our team will call you to confirm the new time. "
        "Goodbye!"
    )
    booking_noted: str = (
        "Thank you. I've noted {proposed}, and our team will call you to book it. Goodbye!"
    )
    staff_will_call: str = "Thank you. Our team will call you to sort out the details. Goodbye!"
    canceled: str = (
        "Understood. I'll let our team know you'd like to cancel, and they'll confirm it. Goodbye!"
    )
    callback_noted: str = "Of course. We'll call you back {proposed}. Goodbye!"
    wrong_number: str = "I'm sorry about that. We'll update our records. Goodbye!"
    not_interested: str = "Understood, thank you for your time. Goodbye!"
    staff_question: str = "Good question. I'll have a member of our team get back to you on that."
    not_understood: str = "Sorry, I didn't catch that."
    closing: str = (
        "Thanks for your time. If you need anything, call us at {callback_number}. Goodbye!"
    )


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """The agent as saved (validated by `validate_agent` before it is saved or run)."""

    practice_name: str
    callback_number: str  # E.164, e.g. "+13055550123"
    system_prompt: str = ""
    inbound_greeting: str | None = None
    outbound_openings: Mapping[CallPurpose, str] = field(default_factory=dict)
    voicemail_script: str | None = None
    policy: PolicyName = PolicyName.SCRIPTED
    opt_out_number: str | None = None  # where a voicemail says to call to opt out
    replies: ReplyTemplates = field(default_factory=ReplyTemplates)

    def opening_template(self, purpose: CallPurpose) -> str:
        return self.outbound_openings.get(purpose) or default_opening(purpose)

    def opening(self, purpose: CallPurpose) -> str:
        return self.render(self.opening_template(purpose))

    def greeting(self) -> str:
        return self.render(self.inbound_greeting or DEFAULT_INBOUND_GREETING)

    @property
    def spoken_callback_number(self) -> str:
        return spoken_number(self.callback_number)

    @property
    def spoken_opt_out_number(self) -> str:
        return spoken_number(self.opt_out_number or self.callback_number)

    def render(self, template: str, **values: str) -> str:
        return template.format_map(
            {
                "practice": self.practice_name,
                "callback_number": self.spoken_callback_number,
                **values,
            }
        )


@dataclass(frozen=True, slots=True)
class CallContext:
    """One call's facts, gathered by the shell before the call is answered."""

    direction: CallDirection
    purpose: CallPurpose | None = None  # required for outbound calls
    patient_first_name: str | None = None
    appointment_service: str | None = None  # the service name only, e.g. "Botox touch-up"
    appointment_local_time: str | None = None  # as it should be said, e.g. "Friday at 2 PM"
    is_test: bool = False  # QA calls behave exactly like live ones; the flag is for the log
    # What a caller who asks for a person is offered (a transfer now, or a call-back and
    # when), decided at dial time from the agent's staff number and hours; None: a call-back
    # "during business hours".
    staff: StaffLine | None = None
    # Inbound only (agent/inbound.py). `caller`: who may be calling, from the caller's number
    # (domain/inbound.py `recognise_caller`); None: not recognised by the shell at all, and
    # the call is answered as before (the greeting, then the policy; no detail is ever said).
    # With a caller, the appointment fields above are the likely caller's upcoming
    # appointment only (ignored for a shared line or an unknown caller), and
    # `patient_first_name` is not used: the likely caller's name is asked about, never assumed.
    caller: Recognition | None = None
    returned_call: OurCall | None = None  # our call being returned (`returned_call`), if any
    returned_call_practice: str | None = None  # its practice's name; None: the profile's
    # The location's hours and address as one short spoken text, e.g. "We're open Monday to
    # Friday, 9 AM to 6 PM, at 455 Park Avenue South."; None: staff call back with them.
    location_text: str | None = None

    def __post_init__(self) -> None:
        if self.direction is CallDirection.OUTBOUND and self.purpose is None:
            raise ValueError("an outbound call needs a purpose")

    @property
    def needs_identity_check(self) -> bool:
        """Outbound live calls confirm the patient's first name before any appointment talk."""
        return self.direction is CallDirection.OUTBOUND and bool(self.patient_first_name)

    @property
    def has_appointment(self) -> bool:
        return self.purpose in (
            CallPurpose.APPOINTMENT_CONFIRMATION,
            CallPurpose.NO_SHOW_RECOVERY,
        ) or (self.direction is CallDirection.INBOUND and self.appointment_service is not None)
