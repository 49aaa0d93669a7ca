"""The pre-flight forecast of a workflow: gather its audience's facts, replay the dispatcher on
them (domain/workflows/forecast.py), and count. It only reads; nothing is enrolled or dialed.

The audience is the draft's (what publishing would run), judged now. For each contact the walk
to the first Voice AI call step is timed the way the runner would time it: duration waits add
up, a "before the appointment" wait uses the contact's next scheduled or confirmed appointment
(the trigger's appointment is not known before the event), an "after the last treatment" wait
their last completed one; a wait that can never be satisfied ends the path ("not reached").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob, LocationPacing
from ringfence.adapters.db.orm import Appointment, Contact, Location
from ringfence.adapters.db.workflows import Workflow
from ringfence.domain.calls import PENDING
from ringfence.domain.compliance import DEFAULT_POLICY, PlatformPolicy
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.vocabulary import AppointmentStatus, CallPurpose
from ringfence.domain.workflows.definition import (
    Branch,
    Step,
    VoiceAICall,
    Wait,
    WaitUntil,
    WorkflowDefinition,
    step_label,
)
from ringfence.domain.workflows.forecast import (
    DEFAULT_HORIZON,
    Cadence,
    Forecast,
    ForecastCall,
    ForecastInput,
    LocationState,
    forecast,
)
from ringfence.domain.workflows.timing import AppointmentView, EndPath, WaitFacts, wait_outcome
from ringfence.services.facts import ContactSnapshot, Prospect, aware, gather, load_snapshots
from ringfence.services.workflows.contact_views import UPCOMING, appointment_view
from ringfence.services.workflows.manage import audience_ids, definition_of_draft


@dataclass(frozen=True, slots=True)
class WorkflowForecast:
    """The forecast of one workflow's draft, as of `as_of`.

    `audience`: contacts the filters admit now; `calls`: those whose path reaches the call step
    (the others are in `not_reached`, by reason). `fourteen_day_limit`: calls whose number's
    dials in the last 14 days, plus the pending calls to it from any workflow, plus this one,
    exceed the 4-in-14-days limit. `contacts` maps each simulated call's key to its contact.
    """

    workflow_id: int
    as_of: datetime
    call_step: str | None
    purpose: CallPurpose | None
    audience: int
    calls: int
    not_reached: Mapping[str, int]
    fourteen_day_limit: int
    competing_jobs: int
    cadence: Cadence
    result: Forecast
    contacts: Mapping[int, int]


def dispatch_cadence(dispatch_interval: float) -> Cadence:
    """The worker's cadence: a tick every `Settings.dispatch_interval` seconds, deciding the
    dispatcher's default number of candidates per location."""
    return Cadence(
        tick=timedelta(seconds=dispatch_interval),
        candidates_per_tick=DispatchConfig().candidates_per_location,
    )


@dataclass(frozen=True, slots=True)
class _Reach:
    at: datetime
    deadline: datetime | None


def forecast_workflow(
    session: Session,
    workflow: Workflow,
    *,
    now: datetime,
    cadence: Cadence,
    policy: PlatformPolicy = DEFAULT_POLICY,
    horizon: timedelta = DEFAULT_HORIZON,
) -> WorkflowForecast:
    definition = definition_of_draft(workflow)
    leading, call = _first_call(definition)
    audience = audience_ids(session, workflow, definition, now)
    reaches: dict[int, _Reach] = {}
    not_reached: Counter[str] = Counter()
    if call is not None:
        for contact_id, reached in _reach_call(session, leading, audience, now).items():
            if isinstance(reached, EndPath):
                not_reached[reached.reason] += 1
            else:
                reaches[contact_id] = reached

    location = session.get(Location, workflow.location_id)
    assert location is not None  # the foreign key guarantees it
    row = session.get(LocationPacing, workflow.location_id)
    # Jobs already waiting at the location take its slots first (lower ids, earlier due).
    queued_jobs = session.execute(
        select(
            CallJob.id,
            CallJob.contact_id,
            CallJob.purpose,
            CallJob.deadline_at,
            CallJob.next_attempt_at,
        ).where(CallJob.location_id == workflow.location_id, CallJob.status.in_(PENDING))
    ).all()
    snapshots = load_snapshots(session, [*reaches, *(job.contact_id for job in queued_jobs)])
    queued_prospects = [
        (job_id, due or now, Prospect(snapshots[contact_id], job_purpose, deadline))
        for job_id, contact_id, job_purpose, deadline, due in queued_jobs
        if contact_id in snapshots
    ]
    # The runner enqueues calls in (reach time, enrollment) order, after every existing job.
    offset = max((job.id for job in queued_jobs), default=0) + 1
    ordered = sorted(reaches, key=lambda cid: (reaches[cid].at, cid))
    purpose = call.purpose if call is not None else None
    new_prospects = [
        (offset + rank, reaches[cid].at, Prospect(snapshots[cid], purpose, reaches[cid].deadline))
        for rank, cid in enumerate(ordered)
        if purpose is not None
    ]
    everyone = [*queued_prospects, *new_prospects]
    facts = gather(
        session,
        [prospect for _key, _due, prospect in everyone],
        now,
        pacing={row.location_id: row} if row is not None else {},
    )
    history = {
        prospect.contact.phone_e164: job_facts.number_dials
        for (_key, _due, prospect), job_facts in zip(everyone, facts, strict=True)
        if prospect.contact.phone_e164
    }
    calls = [
        ForecastCall(key, job_facts, due)
        for (key, due, _prospect), job_facts in zip(everyone, facts, strict=True)
    ]
    result = forecast(
        ForecastInput(
            now=now,
            location=_location_state(location, row),
            calls=tuple(calls[len(queued_prospects) :]),
            queued=tuple(calls[: len(queued_prospects)]),
            history=history,
            cadence=cadence,
            horizon=horizon,
            policy=policy,
        )
    )
    return WorkflowForecast(
        workflow_id=workflow.id,
        as_of=now,
        call_step=step_label(call) if call is not None else None,
        purpose=purpose,
        audience=len(audience),
        calls=len(reaches),
        not_reached=dict(not_reached),
        fourteen_day_limit=_over_fourteen_day_limit(
            session,
            workflow.account_id,
            [snapshots[cid] for cid in reaches],
            history,
            now,
            policy,
        ),
        competing_jobs=len(queued_prospects),
        cadence=cadence,
        result=result,
        contacts={key: prospect.contact.id for key, _due, prospect in new_prospects},
    )


def _first_call(definition: WorkflowDefinition) -> tuple[tuple[Step, ...], VoiceAICall | None]:
    """The steps before the first call step on the main path, and that step (None: the
    workflow never calls). A branch needs a call before it, so one found first ends the search."""
    for index, step in enumerate(definition.steps):
        if isinstance(step, VoiceAICall):
            return definition.steps[:index], step
        if isinstance(step, Branch):
            break
    return definition.steps, None


def _reach_call(
    session: Session, leading: Sequence[Step], contact_ids: Sequence[int], now: datetime
) -> dict[int, _Reach | EndPath]:
    """When each contact would reach the call step, and the deadline a wait set for it."""
    waits = [step for step in leading if isinstance(step, Wait)]
    appointments = (
        _next_appointments(session, contact_ids, now)
        if any(w.until is WaitUntil.BEFORE_APPOINTMENT for w in waits)
        else {}
    )
    treatments = {
        id(w): _last_treatments(session, contact_ids, w.service_contains)
        for w in waits
        if w.until is WaitUntil.AFTER_LAST_TREATMENT
    }
    found: dict[int, _Reach | EndPath] = {}
    for contact_id in contact_ids:
        reached: _Reach | EndPath = _Reach(now, None)
        for wait in waits:
            assert isinstance(reached, _Reach)
            facts = WaitFacts(
                entered_at=reached.at,
                appointment=appointments.get(contact_id),
                last_treatment_at=treatments.get(id(wait), {}).get(contact_id),
            )
            outcome = wait_outcome(wait, facts, reached.at)
            if isinstance(outcome, EndPath):
                reached = outcome
                break
            # Each wait sets (or clears) the deadline of the call that follows it.
            reached = _Reach(max(reached.at, outcome.at), outcome.call_deadline)
        found[contact_id] = reached
    return found


def _next_appointments(
    session: Session, contact_ids: Iterable[int], now: datetime
) -> dict[int, AppointmentView]:
    rows = session.scalars(
        select(Appointment)
        .where(
            Appointment.contact_id.in_(sorted(set(contact_ids))),
            Appointment.status.in_(UPCOMING),
            Appointment.starts_at >= now,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    found: dict[int, AppointmentView] = {}
    for row in rows:
        found.setdefault(row.contact_id, appointment_view(row))
    return found


def _last_treatments(
    session: Session, contact_ids: Iterable[int], service_contains: str | None
) -> dict[int, datetime]:
    """As the runner's `_wait_facts`: the last completed appointment, matching the service."""
    query = (
        select(Appointment.contact_id, func.max(Appointment.starts_at))
        .where(
            Appointment.contact_id.in_(sorted(set(contact_ids))),
            Appointment.status == AppointmentStatus.COMPLETED,
        )
        .group_by(Appointment.contact_id)
    )
    if service_contains:
        query = query.where(func.lower(Appointment.service).contains(service_contains.lower()))
    return {contact_id: aware(at) for contact_id, at in session.execute(query) if at is not None}


def _location_state(location: Location, row: LocationPacing | None) -> LocationState:
    if row is None:
        return LocationState(time_zone=location.time_zone)
    return LocationState(
        time_zone=location.time_zone,
        day_start=row.day_start,
        dials_today=row.dials_today,
        last_dial_at=row.last_dial_at,
        ready_at=row.ready_at,
    )


def _over_fourteen_day_limit(
    session: Session,
    account_id: int,
    contacts: Sequence[ContactSnapshot],
    history: Mapping[str, Sequence[datetime]],
    now: datetime,
    policy: PlatformPolicy,
) -> int:
    """Calls that would go past "4 calls per phone number in any 14-day window" once every call
    already planned is counted: the number's dials in the window, its queued or deferred calls
    from any workflow (they will dial first), and this workflow's call."""
    phones = sorted({c.phone_e164 for c in contacts if c.phone_e164})
    if not phones:
        return 0
    pending: dict[str, int] = {
        phone: count
        for phone, count in session.execute(
            select(Contact.phone_e164, func.count(CallJob.id))
            .join(Contact, Contact.id == CallJob.contact_id)
            .where(
                CallJob.account_id == account_id,
                CallJob.status.in_(PENDING),
                Contact.phone_e164.in_(phones),
            )
            .group_by(Contact.phone_e164)
        )
        if phone is not None
    }
    window_start = now - policy.number_window
    over = 0
    for contact in contacts:
        phone = contact.phone_e164
        if not phone:
            continue
        dialed = sum(1 for dial in history.get(phone, ()) if window_start < dial <= now)
        if dialed + pending.get(phone, 0) + 1 > policy.number_window_cap:
            over += 1
    return over
