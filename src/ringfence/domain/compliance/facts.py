"""The facts about one prospective call: what the database layer gathers before asking.

Each group is a frozen dataclass that a handful of cheap queries can fill (see the field
comments). Every instant must be timezone-aware; naive datetimes are rejected on construction
because a naive instant would silently be read in the server's zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ringfence.domain.vocabulary import (
    CallPurpose,
    Channel,
    ConsentKind,
    ContactSource,
    KycStatus,
)


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone reached the compliance engine."""


def require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{name} must be a timezone-aware datetime (UTC), got naive {value.isoformat()}"
        )


def _require_aware_opt(value: datetime | None, name: str) -> None:
    if value is not None:
        require_aware(value, name)


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """From the account row."""

    kyc_status: KycStatus
    outbound_enabled: bool


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """From the contact row.

    `opted_out_channel` None with `opted_out_at` set means an opt-out from every channel.
    `postal_code` is the contact's US ZIP code when known (anything else is ignored).
    """

    phone_e164: str | None
    source: ContactSource
    dnd_voice: bool = False
    opted_out_at: datetime | None = None
    opted_out_channel: Channel | None = None
    postal_code: str | None = None
    last_engaged_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware_opt(self.opted_out_at, "opted_out_at")
        _require_aware_opt(self.last_engaged_at, "last_engaged_at")


@dataclass(frozen=True, slots=True)
class ConsentFact:
    """One consent record (records are append-only; a revocation is a record)."""

    kind: ConsentKind
    at: datetime

    def __post_init__(self) -> None:
        require_aware(self.at, "ConsentFact.at")


@dataclass(frozen=True, slots=True)
class ConsentFacts:
    """The latest instant of each kind of consent record for this contact.

    One grouped query fills it: `SELECT kind, max(recorded_at) ... GROUP BY kind`, where the
    CRM-form rows are the ones whose consent text covers AI voice calls.
    """

    crm_form_opt_in_at: datetime | None = None
    manual_written_at: datetime | None = None
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware_opt(self.crm_form_opt_in_at, "crm_form_opt_in_at")
        _require_aware_opt(self.manual_written_at, "manual_written_at")
        _require_aware_opt(self.revoked_at, "revoked_at")

    @classmethod
    def from_records(cls, records: Iterable[ConsentFact]) -> ConsentFacts:
        latest: dict[ConsentKind, datetime] = {}
        for record in records:
            previous = latest.get(record.kind)
            if previous is None or record.at > previous:
                latest[record.kind] = record.at
        return cls(
            crm_form_opt_in_at=latest.get(ConsentKind.CRM_FORM),
            manual_written_at=latest.get(ConsentKind.MANUAL_WRITTEN),
            revoked_at=latest.get(ConsentKind.REVOCATION),
        )


@dataclass(frozen=True, slots=True)
class LocationFacts:
    """The calling location: its IANA zone and today's dial count.

    `dials_today` counts this location's dials whose instant falls in the location's local
    calendar day containing `now` (`location_day_bounds(now, time_zone)` gives the UTC bounds
    to query with); `last_dial_at` is its most recent dial. A count plus one instant is all the
    per-day cap and the per-minute pacing need, so the query is one aggregate, not a list of up
    to 100 rows per verdict.
    """

    time_zone: str
    dials_today: int = 0
    last_dial_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware_opt(self.last_dial_at, "last_dial_at")
        if self.dials_today < 0:
            raise ValueError("dials_today cannot be negative")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {self.time_zone!r}") from exc


@dataclass(frozen=True, slots=True)
class CallFacts:
    """Everything the engine needs about one prospective call.

    `number_dials` holds the instants of this phone number's dials in at least the last 14
    days (older ones are ignored; order does not matter). Only dials count: attempts that
    failed before dialling must not be in it. The same list answers the 14-day cap, the
    per-day cap (the location's calendar day) and the state per-24-hour caps, so the database
    layer runs one indexed query on (phone_e164, dialed_at). Its scope (this location or the
    whole account) is the data layer's choice; the engine counts what it is given.
    """

    purpose: CallPurpose
    account: AccountFacts
    contact: ContactFacts
    consent: ConsentFacts
    location: LocationFacts
    number_dials: tuple[datetime, ...] = ()
    # The call must dial before this instant (a workflow's "24-48 h before the appointment");
    # a call that cannot fails instead of being placed late.
    deadline: datetime | None = None

    def __post_init__(self) -> None:
        for index, dial in enumerate(self.number_dials):
            require_aware(dial, f"number_dials[{index}]")
        _require_aware_opt(self.deadline, "deadline")
