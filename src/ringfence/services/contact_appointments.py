"""One contact's appointments as the contact's page shows them: upcoming ones soonest first,
past ones newest first, each with its service, location and status in words.

Reads only, scoped by the signed-in account (a contact id of another account finds nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Appointment, Location
from ringfence.domain.vocabulary import AppointmentStatus
from ringfence.services.unit_of_work import TenantScope

# A contact page is not an appointment book: the nearest ones either side are enough.
SHOWN: Final = 20

# Total over the enum (tests/e2e/test_web_contacts_filters.py holds it to it): no raw code.
APPOINTMENT_STATUS_WORDS: Final[dict[AppointmentStatus, str]] = {
    AppointmentStatus.SCHEDULED: "Booked",
    AppointmentStatus.CONFIRMED: "Confirmed by the patient",
    AppointmentStatus.CANCELED: "Canceled",
    AppointmentStatus.NO_SHOW: "Missed (did not come)",
    AppointmentStatus.COMPLETED: "Attended",
}


@dataclass(frozen=True, slots=True)
class AppointmentLine:
    id: int
    starts_at: datetime
    service: str
    status: str  # in words
    location: str
    time_zone: str  # the appointment's location's


@dataclass(frozen=True, slots=True)
class ContactAppointments:
    upcoming: tuple[AppointmentLine, ...]  # soonest first
    past: tuple[AppointmentLine, ...]  # newest first
    more_upcoming: bool  # more than SHOWN on either side: the page says so
    more_past: bool


def contact_appointments(
    session: Session, scope: TenantScope, contact_id: int, *, now: datetime
) -> ContactAppointments:
    base = (
        select(
            Appointment.id,
            Appointment.starts_at,
            Appointment.service,
            Appointment.status,
            Location.name,
            Location.time_zone,
        )
        .join(Location, Location.id == Appointment.location_id)
        .where(Appointment.account_id == scope.account_id, Appointment.contact_id == contact_id)
    )
    upcoming = session.execute(
        base.where(Appointment.starts_at >= now)
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(SHOWN + 1)
    ).all()
    past = session.execute(
        base.where(Appointment.starts_at < now)
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        .limit(SHOWN + 1)
    ).all()

    def line(row: Row[int, datetime, str, AppointmentStatus, str, str]) -> AppointmentLine:
        id_, starts_at, service, status, location, time_zone = row
        return AppointmentLine(
            id_, starts_at, service, APPOINTMENT_STATUS_WORDS[status], location, time_zone
        )

    return ContactAppointments(
        upcoming=tuple(line(row) for row in upcoming[:SHOWN]),
        past=tuple(line(row) for row in past[:SHOWN]),
        more_upcoming=len(upcoming) > SHOWN,
        more_past=len(past) > SHOWN,
    )
