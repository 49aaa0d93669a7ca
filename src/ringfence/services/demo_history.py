"""The demo's past month, lived through rather than written: bookings arrive, workflows run,
the real dispatcher calls on the sandbox carrier, appointments are kept or missed, and
patients ring the practice (its agent answers them: services/demo_inbound.py).

`replay_history` steps a virtual clock from `start` to `end`. Each day at each location the
front desk books a few appointments (through `contact_records.create_appointment`, the path
the API takes, so the booking workflows enroll as they would); each appointment, once its time
has passed, is marked done or missed (a miss starts the no-show workflow), and a few are
canceled the day before. Between those events the workflow runner and the dispatcher run as
`ringfence worker` runs them, so every call in the history went through the gate, the calling
windows, the pacing and the agent: the dashboard shows what the product did, not numbers
written to look plausible. Deterministic for a given seed and start.

The clock jumps over idle stretches (nights, empty hours) to the next thing due: an event, an
enrollment's wait, a queued call's attempt, a location's pacing, one step while calls are live.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db import orm
from ringfence.adapters.db.calls import CallJob, LocationPacing
from ringfence.adapters.db.workflows import Enrollment
from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.clock import VirtualClock
from ringfence.domain.calls import IN_FLIGHT, PENDING
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.vocabulary import AppointmentStatus
from ringfence.domain.workflows.states import RUNNABLE
from ringfence.services.contact_records import create_appointment, update_appointment
from ringfence.services.demo import DemoResult, demo_account_id, seed_demo
from ringfence.services.demo_inbound import call_times, take_demo_call
from ringfence.services.dispatch import Dispatcher
from ringfence.services.facts import aware
from ringfence.services.unit_of_work import TenantScope, UnitOfWork
from ringfence.services.workflows.runner import WorkflowRunner

# One step while anything is live; the dispatcher's own pacing decides what a step may dial.
STEP = timedelta(minutes=1)
SERVICES = ("Botox", "Dermal filler", "HydraFacial", "Chemical peel", "Laser hair removal")
_ACTOR = "demo_history"

Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class HistoryReport:
    days: int
    bookings: int
    kept: int
    missed: int
    canceled: int
    calls: int
    ticks: int
    inbound: int = 0  # calls patients and strangers placed to the practice (demo_inbound.py)


@dataclass(order=True)
class _Event:
    at: datetime
    order: int
    kind: str = field(compare=False)  # "book", "kept", "missed", "cancel", "inbound"
    location_id: int = field(compare=False, default=0)
    appointment_id: int = field(compare=False, default=0)


@dataclass
class _Tally:
    bookings: int = 0
    kept: int = 0
    missed: int = 0
    canceled: int = 0
    inbound: int = 0


def set_up_demo_with_history(
    session_factory: sessionmaker[Session],
    *,
    now: datetime,
    days: int,
    progress: Progress | None = None,
) -> tuple[DemoResult, HistoryReport | None]:
    """The demo practice as it stands after `days` lived days (seeded `days` ago and replayed
    up to `now`), or as it is when it exists already; always a fresh demo API key, made now.
    In a database that holds other practices the demo is seeded without history (None)."""
    with session_factory() as session:
        existed = demo_account_id(session) is not None
        # The dispatcher and the workflow runner serve every account of a database: living a
        # month here would dial (on the sandbox, a month back) and advance other practices'
        # calls and enrollments too. So the history is lived only in a database of its own.
        others = session.scalar(select(func.count()).select_from(orm.Account)) or 0
    history = None
    if not existed and days > 0 and not others:
        start = now - timedelta(days=days)
        with session_factory() as session:
            seeded = seed_demo(session, now=start)
            session.commit()
        history = replay_history(
            session_factory, account_id=seeded.account_id, start=start, end=now, progress=progress
        )
    with session_factory() as session:
        result = seed_demo(session, now=now)  # seeds here only when there is no history
        session.commit()
    return replace(result, created=not existed), history


def replay_history(
    session_factory: sessionmaker[Session],
    *,
    account_id: int,
    start: datetime,
    end: datetime,
    seed: int = 20261126,
    progress: Progress | None = None,
) -> HistoryReport:
    """Live the account's days from `start` to `end` on a virtual clock (see the module)."""
    rng = random.Random(seed)
    clock = VirtualClock(start)
    scope = TenantScope(account_id=account_id, actor=_ACTOR)
    dispatcher = Dispatcher(
        session_factory=session_factory,
        carrier=SandboxCarrier(session_factory, clock, seed=seed),
        clock=clock,
        config=DispatchConfig(),
    )
    runner = WorkflowRunner(session_factory, clock)
    events: list[_Event] = []
    order = itertools.count()
    tally = _Tally()
    with session_factory() as session:
        locations = session.scalars(
            select(orm.Location).where(orm.Location.account_id == account_id)
        ).all()
        zones = {location.id: ZoneInfo(location.time_zone) for location in locations}
        for appointment in session.scalars(
            select(orm.Appointment).where(
                orm.Appointment.account_id == account_id,
                orm.Appointment.status == AppointmentStatus.SCHEDULED,
            )
        ):
            _plan_outcome(events, order, rng, appointment.id, aware(appointment.starts_at), end)
    day = start.date()
    while day <= end.date():
        for location_id, zone in zones.items():
            # The front desk books in the morning, each location on its own clock.
            at = datetime.combine(day, time(10, rng.randint(0, 59)), zone)
            if start <= at < end:
                heapq.heappush(events, _Event(at, next(order), "book", location_id=location_id))
            # Patients (and strangers) ring the practice, and its agent answers.
            for rings in call_times(at, zone, rng):
                if start <= rings < end:
                    heapq.heappush(
                        events, _Event(rings, next(order), "inbound", location_id=location_id)
                    )
        day += timedelta(days=1)

    ticks = 0
    with_calls_before = _calls(session_factory, account_id)
    while clock.now() < end:
        now = clock.now()
        while events and events[0].at <= now:
            event = heapq.heappop(events)
            _apply(session_factory, clock, scope, rng, event, events, order, end, tally)
        runner.run_due()
        dispatcher.tick()
        runner.run_due()  # a call that just ended moves its workflow on at once
        ticks += 1
        if progress is not None:
            progress(min(1.0, (now - start) / (end - start)))
        following = _next_instant(session_factory, now, events[0].at if events else None)
        clock.set(min(following, end))
    return HistoryReport(
        days=(end - start).days,
        bookings=tally.bookings,
        kept=tally.kept,
        missed=tally.missed,
        canceled=tally.canceled,
        calls=_calls(session_factory, account_id) - with_calls_before,
        ticks=ticks,
        inbound=tally.inbound,
    )


def _apply(
    session_factory: sessionmaker[Session],
    clock: VirtualClock,
    scope: TenantScope,
    rng: random.Random,
    event: _Event,
    events: list[_Event],
    order: Iterator[int],
    end: datetime,
    tally: _Tally,
) -> None:
    if event.kind == "inbound":
        answered = take_demo_call(session_factory, clock, location_id=event.location_id, rng=rng)
        tally.inbound += answered is not None
        return
    if event.kind == "book":
        for contact_id in _bookable(session_factory, scope.account_id, event.location_id, rng):
            zone = _zone(session_factory, event.location_id)
            local_day = event.at.astimezone(zone).date() + timedelta(days=rng.randint(2, 9))
            starts = datetime.combine(
                local_day, time(rng.randint(9, 17), rng.choice((0, 15, 30, 45))), zone
            )
            with UnitOfWork(session_factory, clock) as uow:
                appointment = create_appointment(
                    uow=uow,
                    scope=scope,
                    contact_id=contact_id,
                    fields={
                        "starts_at": starts,
                        "service": rng.choice(SERVICES),
                        "status": AppointmentStatus.SCHEDULED,
                    },
                )
                appointment_id = appointment.id
            tally.bookings += 1
            _plan_outcome(events, order, rng, appointment_id, starts, end)
        return
    status = {
        "kept": AppointmentStatus.COMPLETED,
        "missed": AppointmentStatus.NO_SHOW,
        "cancel": AppointmentStatus.CANCELED,
    }[event.kind]
    with UnitOfWork(session_factory, clock) as uow:
        appointment = uow.appointments.owned(scope, event.appointment_id)
        if appointment.status != AppointmentStatus.SCHEDULED:
            return  # the call changed it (a cancellation said on the phone): the patient's word
        update_appointment(
            uow=uow, scope=scope, appointment_id=event.appointment_id, changes={"status": status}
        )
    if event.kind == "kept":
        tally.kept += 1
    elif event.kind == "missed":
        tally.missed += 1
    else:
        tally.canceled += 1


def _plan_outcome(
    events: list[_Event],
    order: Iterator[int],
    rng: random.Random,
    appointment_id: int,
    starts: datetime,
    end: datetime,
) -> None:
    roll = rng.random()
    if roll < 0.05:
        kind, at = "cancel", starts - timedelta(hours=rng.randint(20, 30))
    elif roll < 0.17:
        kind, at = "missed", starts + timedelta(minutes=45)
    else:
        kind, at = "kept", starts + timedelta(hours=1)
    if at < end:
        heapq.heappush(events, _Event(at, next(order), kind, appointment_id=appointment_id))


def _bookable(
    session_factory: sessionmaker[Session], account_id: int, location_id: int, rng: random.Random
) -> list[int]:
    """A few of the location's reachable contacts with nothing booked yet."""
    with session_factory() as session:
        booked = select(orm.Appointment.contact_id).where(
            orm.Appointment.account_id == account_id,
            orm.Appointment.status == AppointmentStatus.SCHEDULED,
        )
        ids = list(
            session.scalars(
                select(orm.Contact.id)
                .where(
                    orm.Contact.account_id == account_id,
                    orm.Contact.location_id == location_id,
                    orm.Contact.phone_e164.is_not(None),
                    orm.Contact.id.not_in(booked),
                )
                .order_by(orm.Contact.id)
            )
        )
    return rng.sample(ids, min(len(ids), rng.randint(3, 7)))


def _zone(session_factory: sessionmaker[Session], location_id: int) -> ZoneInfo:
    with session_factory() as session:
        location = session.get(orm.Location, location_id)
        assert location is not None
        return ZoneInfo(location.time_zone)


def _next_instant(
    session_factory: sessionmaker[Session], now: datetime, next_event: datetime | None
) -> datetime:
    """One step while calls are live or due work can go; else the next thing that comes due."""
    soon = now + STEP
    with session_factory() as session:
        if session.scalar(select(func.count()).where(CallJob.status.in_(IN_FLIGHT))):
            return soon
        candidates = [
            next_event,
            session.scalar(
                select(func.min(Enrollment.resume_at)).where(Enrollment.state.in_(RUNNABLE))
            ),
            session.scalar(
                select(func.min(CallJob.next_attempt_at)).where(
                    CallJob.status.in_(PENDING), CallJob.next_attempt_at > now
                )
            ),
            session.scalar(
                select(func.min(LocationPacing.ready_at)).where(LocationPacing.ready_at > now)
            ),
        ]
        due_now = session.scalar(
            select(func.count())
            .select_from(CallJob)
            .join(LocationPacing, LocationPacing.location_id == CallJob.location_id, isouter=True)
            .where(
                CallJob.status.in_(PENDING),
                (CallJob.next_attempt_at.is_(None)) | (CallJob.next_attempt_at <= now),
                (LocationPacing.ready_at.is_(None)) | (LocationPacing.ready_at <= now),
            )
        )
    if due_now:
        return soon
    later = [aware(at) for at in candidates if at is not None]
    return max(soon, min(later)) if later else now + timedelta(hours=1)


def _calls(session_factory: sessionmaker[Session], account_id: int) -> int:
    with session_factory() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(CallJob)
                .where(CallJob.account_id == account_id, CallJob.dialed_at.is_not(None))
            )
            or 0
        )
