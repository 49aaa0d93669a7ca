"""Builders for the simulation tests: contacts, locations and dials with readable defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from ringfence.domain.vocabulary import Channel, ConsentKind, ContactSource
from ringfence.simulation.audit import (
    AuditedConsent,
    AuditedContact,
    AuditedDial,
    AuditedLocation,
    AuditedOptOut,
)

CONSENT_AT = datetime(2025, 6, 1, tzinfo=UTC)
# Tuesday 13 January 2026: standard time everywhere in the US.
WINTER_DAY = date(2026, 1, 13)
# Tuesday 14 July 2026: daylight saving time (except Arizona and Hawaii).
SUMMER_DAY = date(2026, 7, 14)

NEW_YORK = "America/New_York"
LOS_ANGELES = "America/Los_Angeles"


def local(zone: str, day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """The UTC instant of a wall-clock time in `zone`."""
    wall = datetime.combine(day, time(hour, minute, second), tzinfo=ZoneInfo(zone))
    return wall.astimezone(UTC)


def number(npa: str, line: int = 100) -> str:
    """A valid US number in the area code (555 exchange, lines 0100 and up)."""
    return f"+1{npa}555{line:04d}"


def contact(
    contact_id: int = 1,
    phone: str | None = "+12125550100",
    *,
    location_id: int = 1,
    source: ContactSource = ContactSource.FORM,
    consents: tuple[AuditedConsent, ...] | None = None,
    dnd_voice_since: datetime | None = None,
    opted_out_at: datetime | None = None,
    opted_out_channel: Channel | None = None,
    opt_outs: tuple[AuditedOptOut, ...] = (),
) -> AuditedContact:
    return AuditedContact(
        contact_id=contact_id,
        location_id=location_id,
        phone_e164=phone,
        source=source,
        consents=(form_opt_in(CONSENT_AT),) if consents is None else consents,
        dnd_voice_since=dnd_voice_since,
        opted_out_at=opted_out_at,
        opted_out_channel=opted_out_channel,
        opt_outs=opt_outs,
    )


def form_opt_in(at: datetime, phone: str | None = None) -> AuditedConsent:
    """A voice CRM-form opt-in through a form that passed the consent scan."""
    return AuditedConsent(ConsentKind.CRM_FORM, at, phone_e164=phone, form_valid=True)


def location(
    location_id: int = 1,
    time_zone: str = NEW_YORK,
    *,
    account_id: int = 1,
    kyc_approved: bool = True,
    outbound_enabled: bool = True,
) -> AuditedLocation:
    return AuditedLocation(
        location_id=location_id,
        account_id=account_id,
        time_zone=time_zone,
        kyc_approved=kyc_approved,
        outbound_enabled=outbound_enabled,
    )


def dial(
    job_id: int, at: datetime, who: AuditedContact, *, location_id: int | None = None
) -> AuditedDial:
    """A dial of `who`'s number from its own location unless another is named."""
    return AuditedDial(
        job_id=job_id,
        location_id=who.location_id if location_id is None else location_id,
        contact_id=who.contact_id,
        phone_e164=who.phone_e164,
        dialed_at=at,
    )
