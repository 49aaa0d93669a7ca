"""What the workflow pages show: the read queries (locations, agents, numbers, workflows) and
the view models the templates render (the flow's cards, the trigger and audience in words, the
forecast with times in the location's zone). Reads only; every change goes through
`services/workflows/manage.py`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Location, PhoneNumber, VoiceAgent
from ringfence.adapters.db.workflows import Workflow
from ringfence.domain.tags import COMPLAINT_TAG, OPT_OUT_TAG, QA_TEST_TAG
from ringfence.domain.workflows.definition import (
    AddNote,
    Branch,
    CreateTask,
    SendWebhook,
    ShortNotice,
    Step,
    Trigger,
    VoiceAICall,
    Wait,
    WaitUntil,
    WorkflowDefinition,
    step_label,
)
from ringfence.domain.workflows.states import WorkflowStatus
from ringfence.entrypoints.forecast import ForecastOut
from ringfence.entrypoints.web.routes.workflows.section_forms import TRIGGER_LABELS
from ringfence.entrypoints.web.routes.workflows.step_forms import (
    ACTIONS_BY_TYPE,
    READ_ONLY_TYPES,
    Choice,
)
from ringfence.services.errors import NotFound
from ringfence.services.facts import aware
from ringfence.services.workflows import manage
from ringfence.services.workflows.forecast import WorkflowForecast

LIST_PATH: Final = "/app/workflows"


def editor_path(workflow_id: int) -> str:
    return f"{LIST_PATH}/{workflow_id}"


def list_path(location_id: int) -> str:
    return f"{LIST_PATH}?location={location_id}"


# --- the location and what it has --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocationView:
    location_id: int
    name: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class Resources:
    """The location's voice agents and caller IDs: the choices of a Voice AI Outbound Call."""

    agents: tuple[Choice, ...]
    numbers: tuple[Choice, ...]

    def missing(self, location: LocationView) -> tuple[str, ...]:
        """What the location lacks before a Voice AI Outbound Call can be set up, in words."""
        notes: list[str] = []
        if not self.agents:
            notes.append(
                f"{location.name} has no voice agents yet: a Voice AI Outbound Call needs an "
                "AI Agent. Create one with POST /api/v1/voice-agents; it then appears under "
                "AI Agents → Voice AI."
            )
        if not self.numbers:
            notes.append(
                f"{location.name} has no phone numbers yet: a Voice AI Outbound Call needs a "
                "From Phone Number to dial from. Add one with POST /api/v1/phone-numbers."
            )
        return tuple(notes)

    def agent_name(self, agent_id: int) -> str:
        return _named(self.agents, agent_id, "agent")

    def number_name(self, number_id: int) -> str:
        return _named(self.numbers, number_id, "number")


def _named(choices: Sequence[Choice], row_id: int, what: str) -> str:
    found = next((c.label for c in choices if c.value == str(row_id)), None)
    return found if found is not None else f"{what} #{row_id} (not at this location)"


def account_locations(session: Session, account_id: int) -> tuple[LocationView, ...]:
    return tuple(
        LocationView(row.id, row.name, row.time_zone)
        for row in session.scalars(
            select(Location).where(Location.account_id == account_id).order_by(Location.id)
        )
    )


def choose_location(
    locations: Sequence[LocationView], location_id: int | None
) -> LocationView | None:
    """The asked-for location (NotFound if it is not the account's), else the first."""
    if location_id is None:
        return locations[0] if locations else None
    for location in locations:
        if location.location_id == location_id:
            return location
    raise NotFound(f"location {location_id} does not exist")


def location_view(session: Session, location_id: int) -> LocationView:
    row = session.get(Location, location_id)
    assert row is not None  # a workflow's foreign key
    return LocationView(row.id, row.name, row.time_zone)


def resources_at(session: Session, *, account_id: int, location_id: int) -> Resources:
    agents = session.execute(
        select(VoiceAgent.id, VoiceAgent.name)
        .where(VoiceAgent.account_id == account_id, VoiceAgent.location_id == location_id)
        .order_by(VoiceAgent.name, VoiceAgent.id)
    ).all()
    numbers = session.execute(
        select(PhoneNumber.id, PhoneNumber.e164, PhoneNumber.label)
        .where(PhoneNumber.account_id == account_id, PhoneNumber.location_id == location_id)
        .order_by(PhoneNumber.e164)
    ).all()
    return Resources(
        agents=tuple(Choice(str(row_id), name) for row_id, name in agents),
        numbers=tuple(
            Choice(str(row_id), f"{e164} ({label})" if label else e164)
            for row_id, e164, label in numbers
        ),
    )


# --- times --------------------------------------------------------------------------------------


def local_time(value: datetime | str, time_zone: str) -> str:
    """`value` on the location's clock: "26 Nov 2026, 10:00 EST"."""
    at = aware(value).astimezone(ZoneInfo(time_zone))
    return f"{at.day} {at:%b %Y, %H:%M} {at.tzname()}"


def local_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


# --- the list ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkflowRow:
    workflow_id: int
    name: str
    trigger: str
    published: bool
    ever_published: bool
    unpublished_changes: bool
    updated: str


def workflow_rows(
    session: Session, *, account_id: int, location: LocationView
) -> tuple[WorkflowRow, ...]:
    workflows = session.scalars(
        select(Workflow)
        .where(Workflow.account_id == account_id, Workflow.location_id == location.location_id)
        .order_by(Workflow.updated_at.desc(), Workflow.id.desc())
    ).all()
    return tuple(
        WorkflowRow(
            workflow_id=w.id,
            name=w.name,
            trigger=trigger_text(manage.definition_of_draft(w).trigger),
            published=w.status is WorkflowStatus.PUBLISHED,
            ever_published=w.published_version_id is not None,
            unpublished_changes=manage.has_unpublished_changes(session, w),
            updated=local_time(w.updated_at, location.time_zone),
        )
        for w in workflows
    )


# --- the flow --------------------------------------------------------------------------------


def trigger_text(trigger: Trigger) -> str:
    text = TRIGGER_LABELS[trigger.kind]
    details = [
        f"{label} “{value}”"
        for label, value in (
            ("tag", trigger.tag),
            ("stage", trigger.stage),
            ("form", trigger.form_id),
            ("event", trigger.event_name),
            ("service contains", trigger.service_contains),
        )
        if value is not None and value != ""
    ]
    return text + (": " + ", ".join(details) if details else "")


def audience_lines(definition: WorkflowDefinition) -> tuple[str, ...]:
    audience = definition.audience
    lines: list[str] = []
    if definition.test_mode:
        lines.append(f"Test mode: only contacts tagged “{QA_TEST_TAG}”; every call is a Test call")
    if audience.require_crm_form_consent:
        lines.append("Opted in through a CRM-hosted form")
    if audience.exclude_voice_dnd:
        lines.append("No DND on voice")
    if audience.exclude_opt_out_tag:
        lines.append(f"Not tagged “{OPT_OUT_TAG}”")
    if audience.exclude_complaint_tag:
        lines.append(f"Not tagged “{COMPLAINT_TAG}”")
    if audience.has_tags:
        lines.append("Tagged " + " and ".join(f"“{t}”" for t in audience.has_tags))
    if audience.lacks_tags:
        lines.append("Not tagged " + " or ".join(f"“{t}”" for t in audience.lacks_tags))
    if audience.last_contacted_more_than_days is not None:
        days = audience.last_contacted_more_than_days
        lines.append(f"Last contacted more than {days} day{'s' if days != 1 else ''} ago")
    if audience.appointment_statuses:
        statuses = " or ".join(_words(s.value) for s in audience.appointment_statuses)
        lines.append(f"The appointment is {statuses}")
    if audience.opportunity_stages:
        stages = " or ".join(f"“{s}”" for s in audience.opportunity_stages)
        lines.append(f"An open opportunity in stage {stages}")
    if audience.has_upcoming_appointment is True:
        lines.append("Has an upcoming appointment")
    elif audience.has_upcoming_appointment is False:
        lines.append("Has no upcoming appointment")
    if not lines:
        lines.append("Every contact of the location (no filter)")
    return tuple(lines)


def _words(value: str) -> str:
    return value.replace("_", " ")


@dataclass(frozen=True, slots=True)
class BranchPath:
    label: str
    when: str
    steps: tuple[StepCard, ...]


@dataclass(frozen=True, slots=True)
class StepCard:
    """One step of the flow. `index`: its position in the top-level list (None inside a
    branch, where steps are shown read-only)."""

    index: int | None
    type: str
    kind: str
    title: str
    facts: tuple[tuple[str, str], ...]
    editable: bool
    paths: tuple[BranchPath, ...] = ()


_KIND_NAMES: Final = {
    **{action.type: action.name for action in ACTIONS_BY_TYPE.values()},
    "branch": "Branch",
    "send_webhook": "Send Webhook",
}


def step_cards(definition: WorkflowDefinition, resources: Resources) -> tuple[StepCard, ...]:
    return tuple(_card(step, index, resources) for index, step in enumerate(definition.steps))


def _card(step: Step, index: int | None, resources: Resources) -> StepCard:
    facts: tuple[tuple[str, str], ...] = ()
    title = step_label(step)
    paths: tuple[BranchPath, ...] = ()
    match step:
        case VoiceAICall():
            title = step.action_name
            facts = (
                ("AI Agent", resources.agent_name(step.agent_id)),
                ("From Phone Number", resources.number_name(step.from_number_id)),
                ("Call purpose", _words(step.purpose.value).capitalize()),
            )
        case Wait() if step.until is WaitUntil.BEFORE_APPOINTMENT:
            facts = (
                (
                    "Booked at shorter notice",
                    "call as soon as allowed"
                    if step.short_notice is ShortNotice.CALL_NOW
                    else "no call",
                ),
            )
        case CreateTask():
            facts = tuple(
                (label, value)
                for label, value in (
                    ("Due in", f"{step.due_in_hours} h"),
                    ("Priority", step.priority.value),
                    ("Assignee", step.assignee or ""),
                    ("Details", step.body),
                )
                if value
            )
        case AddNote():
            facts = (("Note", step.body),)
        case SendWebhook():
            facts = (("Signed", "HMAC-SHA256 with the step's secret (not shown)"),)
        case Branch():
            paths = (
                *(
                    BranchPath(
                        label=case.label or f"Case {number}",
                        when=" or ".join(_words(w.value) for w in case.when),
                        steps=tuple(_card(inner, None, resources) for inner in case.steps),
                    )
                    for number, case in enumerate(step.cases, start=1)
                ),
                BranchPath(
                    label="Otherwise",
                    when="none of the above",
                    steps=tuple(_card(inner, None, resources) for inner in step.otherwise),
                ),
            )
        case _:
            pass
    return StepCard(
        index=index,
        type=step.type,
        kind=_KIND_NAMES[step.type],
        title=title,
        facts=facts,
        editable=index is not None and step.type not in READ_ONLY_TYPES,
        paths=paths,
    )


def insert_positions(definition: WorkflowDefinition) -> frozenset[int]:
    """Where a "+" may add a step: before each step and after the last, except after a
    branch (it ends its path: each case holds the rest)."""
    steps = definition.steps
    ends_in_branch = bool(steps) and isinstance(steps[-1], Branch)
    return frozenset(range(len(steps) + (0 if ends_in_branch else 1)))


# --- the forecast ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ForecastView:
    """The forecast as the API answers it (`ForecastOut`), with times on the location's clock."""

    out: ForecastOut
    time_zone: str
    purpose: str | None
    as_of: str
    first_dial: str | None
    last_dial: str | None
    horizon_end: str
    schedule: tuple[tuple[str, int], ...]
    not_reached: Mapping[str, int]

    @property
    def deferred_total(self) -> int:
        return sum(item.count for item in self.out.deferred)

    @property
    def failed_total(self) -> int:
        return sum(item.count for item in self.out.failed)


def forecast_view(found: WorkflowForecast, time_zone: str) -> ForecastView:
    out = ForecastOut.build(found)
    return ForecastView(
        out=out,
        time_zone=time_zone,
        purpose=_words(out.purpose.value).capitalize() if out.purpose is not None else None,
        as_of=local_time(out.as_of, time_zone),
        first_dial=local_time(out.first_dial_at, time_zone) if out.first_dial_at else None,
        last_dial=local_time(out.last_dial_at, time_zone) if out.last_dial_at else None,
        horizon_end=local_time(out.horizon_end, time_zone),
        schedule=tuple((local_day(day.day), day.dials) for day in out.schedule),
        not_reached={item.reason: item.count for item in out.not_reached},
    )
