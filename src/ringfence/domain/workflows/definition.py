"""A workflow's definition: one trigger, audience filters and an ordered list of steps.

Plain frozen dataclasses, so the rules that read them stay pure. The same classes are the
API's schema (pydantic validates stdlib dataclasses, discriminated on each step's `type`) and
the stored JSON, so there is one description of a workflow, not three.

Steps form a tree: a `branch` step is the last step of its list and each of its cases holds
the rest of that path. A position in the tree is a `StepPath` of indexes (see walk.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Final, Literal, TypeVar, dataclass_transform

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from ringfence.domain.outbound_urls import url_refusal
from ringfence.domain.vocabulary import AppointmentStatus, CallPurpose, TaskPriority

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, kw_only_default=True)
def spec(cls: type[_T]) -> type[_T]:
    """A frozen, keyword-only dataclass that rejects unknown fields when validated: a typo in
    a workflow's JSON must be an error naming the field, not a silently ignored setting."""
    made = dataclass(frozen=True, slots=True, kw_only=True)(cls)
    made.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    return made


class TriggerKind(StrEnum):
    """What starts a workflow for a contact (the product description's trigger examples plus
    the five use cases' natural starting points)."""

    APPOINTMENT_SCHEDULED = "appointment_scheduled"
    APPOINTMENT_RESCHEDULED = "appointment_rescheduled"
    APPOINTMENT_CANCELED = "appointment_canceled"
    APPOINTMENT_NO_SHOW = "appointment_no_show"
    APPOINTMENT_COMPLETED = "appointment_completed"
    CONTACT_TAG_ADDED = "contact_tag_added"
    OPPORTUNITY_STAGE_CHANGED = "opportunity_stage_changed"
    FORM_SUBMITTED = "form_submitted"
    CONSULT_COMPLETED_WITHOUT_BOOKING = "consult_completed_without_booking"
    CUSTOM = "custom"

    @property
    def about_appointment(self) -> bool:
        return self in _APPOINTMENT_TRIGGERS


_APPOINTMENT_TRIGGERS = frozenset(
    {
        TriggerKind.APPOINTMENT_SCHEDULED,
        TriggerKind.APPOINTMENT_RESCHEDULED,
        TriggerKind.APPOINTMENT_CANCELED,
        TriggerKind.APPOINTMENT_NO_SHOW,
        TriggerKind.APPOINTMENT_COMPLETED,
        TriggerKind.CONSULT_COMPLETED_WITHOUT_BOOKING,
    }
)


# The trigger's and audience's input limits: a tag's, stage's or custom event's name (a
# contact's tag and an event's name have the same limit), a service's text, and how many names
# one audience filter lists. Checked when a definition is saved (`checks.structural_problems`),
# not when a stored one is read: a definition saved before the limits must still load.
MAX_NAME_LENGTH: Final = 100
MAX_SERVICE_LENGTH: Final = 200
MAX_NAMES: Final = 50


@spec
class Trigger:
    """`tag`, `stage`, `form_id` and `event_name` narrow the trigger of the matching kind:
    "contact tag added" with `tag="Botox"` fires only for that tag."""

    kind: TriggerKind
    tag: str | None = None
    stage: str | None = None
    form_id: int | None = None
    event_name: str | None = None
    # Appointment triggers: only appointments whose service contains this text (any case).
    service_contains: str | None = None


@spec
class Audience:
    """Who may be enrolled, and who may still be called at each call step.

    The defaults are the product description's "Build your workflow audiences carefully":
    CRM-form opt-in only, no voice DND, no opt-out tag, no recent complaint. Loosening them is
    possible (a practice with manually confirmed written consent) but the compliance gate
    still fails every call it must.
    """

    has_tags: tuple[str, ...] = ()
    lacks_tags: tuple[str, ...] = ()
    require_crm_form_consent: bool = True
    exclude_voice_dnd: bool = True
    exclude_opt_out_tag: bool = True
    exclude_complaint_tag: bool = True
    # "Add a 'last contacted' filter so you don't blow through the 4-calls-in-14-days limit."
    last_contacted_more_than_days: Annotated[int | None, Field(ge=1, le=3650)] = None
    # The trigger's appointment must be in one of these statuses (appointment triggers only).
    appointment_statuses: tuple[AppointmentStatus, ...] = ()
    # The contact must have an open opportunity in one of these stages.
    opportunity_stages: tuple[str, ...] = ()
    # The contact must (True) / must not (False) have an upcoming scheduled/confirmed
    # appointment: no-show recovery stops once the patient has rebooked.
    has_upcoming_appointment: bool | None = None


class ShortNotice(StrEnum):
    """What a "24-48 h before the appointment" wait does with an appointment booked less than
    `latest_hours_before` ahead."""

    SKIP = "skip"  # no call: the patient just booked, a confirmation call would be noise
    CALL_NOW = "call_now"  # call as soon as allowed, until `SHORT_NOTICE_CUTOFF` before start


@spec
class VoiceAICall:
    """The "Voice AI Outbound Call" action and its three required fields, plus the purpose."""

    type: Literal["voice_ai_call"] = "voice_ai_call"
    # A blank label identifies nothing: it is as missing as no label.
    action_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    agent_id: Annotated[int, Field(ge=1)]
    from_number_id: Annotated[int, Field(ge=1)]
    purpose: CallPurpose


@spec
class AddTag:
    type: Literal["add_tag"] = "add_tag"
    tag: Annotated[str, Field(min_length=1, max_length=100)]


@spec
class RemoveTag:
    type: Literal["remove_tag"] = "remove_tag"
    tag: Annotated[str, Field(min_length=1, max_length=100)]


@spec
class CreateTask:
    type: Literal["create_task"] = "create_task"
    title: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(max_length=5000)] = ""
    assignee: Annotated[str | None, Field(max_length=200)] = None
    due_in_hours: Annotated[int, Field(ge=0, le=24 * 365)] = 24
    priority: TaskPriority = TaskPriority.NORMAL


@spec
class MoveOpportunity:
    """Moves the trigger's opportunity, else the contact's most recently updated one."""

    type: Literal["move_opportunity"] = "move_opportunity"
    stage: Annotated[str, Field(min_length=1, max_length=100)]


@spec
class AddNote:
    type: Literal["add_note"] = "add_note"
    body: Annotated[str, Field(min_length=1, max_length=5000)]


def _public_url(url: str) -> str:
    """A webhook may only go to the public internet (server-side request forgery): a URL
    naming a local or private address is refused when the workflow is saved; names are
    checked again, resolved, at each delivery (adapters/http/guarded.py)."""
    refusal = url_refusal(url)
    if refusal is not None:
        raise ValueError(refusal)
    return url


@spec
class SendWebhook:
    """POSTs a JSON event (ids and outcome only, never transcript text) signed with
    HMAC-SHA256 of the body under `secret` (header `X-Ringfence-Signature: sha256=<hex>`)."""

    type: Literal["send_webhook"] = "send_webhook"
    url: Annotated[
        str,
        Field(min_length=8, max_length=2000, pattern=r"^https?://"),
        AfterValidator(_public_url),
    ]
    secret: Annotated[str, Field(min_length=16, max_length=200)]


class WaitUntil(StrEnum):
    DURATION = "duration"
    BEFORE_APPOINTMENT = "before_appointment"
    AFTER_LAST_TREATMENT = "after_last_treatment"


@spec
class Wait:
    """Three ways to wait (timing.py computes each):

    - `duration`: `minutes` after the step is reached ("wait N days after the consult").
    - `before_appointment`: until `earliest_hours_before` the trigger's appointment starts;
      the next call step must then dial before `latest_hours_before` ("24-48 hours before").
    - `after_last_treatment`: `days` after the contact's last completed appointment whose
      service contains `service_contains` ("Botox at 3 months").
    """

    type: Literal["wait"] = "wait"
    until: WaitUntil = WaitUntil.DURATION
    minutes: Annotated[int, Field(ge=0, le=60 * 24 * 400)] = 0
    earliest_hours_before: Annotated[int, Field(ge=1, le=24 * 30)] = 48
    latest_hours_before: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    short_notice: ShortNotice = ShortNotice.SKIP
    days: Annotated[int, Field(ge=1, le=3650)] = 90
    service_contains: Annotated[str | None, Field(max_length=200)] = None


class BranchOn(StrEnum):
    """What the previous call step ended with (outcomes.py decides which hold)."""

    CONNECTED = "connected"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    FAILED = "failed"  # the carrier failed it, or the gate rejected it before dialing
    DEFERRED_THEN_FAILED = "deferred_then_failed"  # deferred at least once, then failed
    APPOINTMENT_CONFIRMED = "appointment_confirmed"
    RESCHEDULE_REQUESTED = "reschedule_requested"
    OPTED_OUT = "opted_out"
    CLINICAL_QUESTION = "clinical_question"  # handed to staff (a task was created)


@spec
class BranchCase:
    """Taken when any of `when` holds; the first matching case wins."""

    when: Annotated[tuple[BranchOn, ...], Field(min_length=1)]
    steps: tuple[Step, ...] = ()
    label: Annotated[str, Field(max_length=100)] = ""


@spec
class Branch:
    type: Literal["branch"] = "branch"
    cases: Annotated[tuple[BranchCase, ...], Field(min_length=1, max_length=10)]
    otherwise: tuple[Step, ...] = ()


Step = Annotated[
    VoiceAICall
    | AddTag
    | RemoveTag
    | CreateTask
    | MoveOpportunity
    | AddNote
    | SendWebhook
    | Wait
    | Branch,
    Field(discriminator="type"),
]


@spec
class WorkflowDefinition:
    trigger: Trigger
    audience: Audience = field(default_factory=Audience)
    steps: tuple[Step, ...] = ()
    # Test mode: only contacts carrying the QA test tag are enrolled, and every call is a
    # Test call (excluded from dashboard metrics).
    test_mode: bool = False


def step_label(step: Step) -> str:
    """How the editor and the enrollment log name a step."""
    match step:
        case VoiceAICall():
            return f"Voice AI Outbound Call: {step.action_name}"
        case AddTag():
            return f"Add tag {step.tag!r}"
        case RemoveTag():
            return f"Remove tag {step.tag!r}"
        case CreateTask():
            return f"Create task {step.title!r}"
        case MoveOpportunity():
            return f"Move opportunity to {step.stage!r}"
        case AddNote():
            return "Add note"
        case SendWebhook():
            return f"Send webhook to {step.url}"
        case Wait():
            return wait_label(step)
        case Branch():
            return "Branch on the call's outcome"


def wait_label(step: Wait) -> str:
    if step.until is WaitUntil.BEFORE_APPOINTMENT:
        return (
            f"Wait until {step.earliest_hours_before}-{step.latest_hours_before} h "
            "before the appointment"
        )
    if step.until is WaitUntil.AFTER_LAST_TREATMENT:
        what = f" ({step.service_contains})" if step.service_contains else ""
        return f"Wait until {step.days} days after the last treatment{what}"
    days, minutes = divmod(step.minutes, 60 * 24)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n]
    return "Wait " + (" ".join(parts) if parts else "0 min")
