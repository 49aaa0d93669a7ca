"""When a wait step ends: a pure function of the step, what it waits on, and `now`.

Waits are re-evaluated every time an enrollment wakes, so a rescheduled appointment moves the
wait with it and a late-running worker never calls outside the step's window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ringfence.domain.vocabulary import AppointmentStatus
from ringfence.domain.workflows.definition import ShortNotice, Wait, WaitUntil

# With `short_notice = call_now`, a confirmation call is still never placed in the last two
# hours before the appointment: by then the patient is on their way.
SHORT_NOTICE_CUTOFF = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class AppointmentView:
    id: int
    starts_at: datetime
    status: AppointmentStatus
    service: str


@dataclass(frozen=True, slots=True)
class WaitFacts:
    """`entered_at`: when the enrollment reached the wait step. `appointment`: the trigger's
    appointment, as it is now. `last_treatment_at`: the contact's last completed appointment
    matching the step's `service_contains`."""

    entered_at: datetime
    appointment: AppointmentView | None = None
    last_treatment_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ResumeAt:
    """Wake at `at`; a call step reached next must dial before `call_deadline` (if set)."""

    at: datetime
    call_deadline: datetime | None = None


@dataclass(frozen=True, slots=True)
class EndPath:
    """The wait can never be satisfied: the enrollment leaves the workflow, saying why."""

    reason: str


WaitOutcome = ResumeAt | EndPath


def wait_outcome(step: Wait, facts: WaitFacts, now: datetime) -> WaitOutcome:
    match step.until:
        case WaitUntil.DURATION:
            return ResumeAt(facts.entered_at + timedelta(minutes=step.minutes))
        case WaitUntil.BEFORE_APPOINTMENT:
            return _before_appointment(step, facts.appointment, now)
        case WaitUntil.AFTER_LAST_TREATMENT:
            if facts.last_treatment_at is None:
                what = f" matching {step.service_contains!r}" if step.service_contains else ""
                return EndPath(f"no completed treatment{what} to time the reminder from")
            return ResumeAt(facts.last_treatment_at + timedelta(days=step.days))


def _before_appointment(
    step: Wait, appointment: AppointmentView | None, now: datetime
) -> WaitOutcome:
    if appointment is None:
        return EndPath("no appointment to time the wait from")
    if appointment.status not in (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED):
        return EndPath(f"the appointment is {appointment.status.value.replace('_', ' ')}")
    earliest = appointment.starts_at - timedelta(hours=step.earliest_hours_before)
    latest = appointment.starts_at - timedelta(hours=step.latest_hours_before)
    if now < latest:
        return ResumeAt(max(earliest, now), call_deadline=latest)
    # Booked (or reached) less than `latest_hours_before` ahead: the short-notice rule.
    if step.short_notice is ShortNotice.SKIP:
        return EndPath(
            f"the appointment is less than {step.latest_hours_before} h away "
            "(short-notice rule: skip the call)"
        )
    cutoff = appointment.starts_at - SHORT_NOTICE_CUTOFF
    if now >= cutoff:
        return EndPath("the appointment starts in less than 2 h: too late to call")
    return ResumeAt(now, call_deadline=cutoff)
