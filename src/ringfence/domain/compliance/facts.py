"""The facts about one prospective call: what the database layer gathers before asking.

Each group is a frozen dataclass that a handful of cheap queries can fill (see the field
comments). Every instant must be timezone-aware; naive datetimes are rejected on construction
because a naive instant would silently be read in the server's zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
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
    # The contact carries the "Opted Out" tag (the seed's own opt-out mechanism). Adding it
    # writes a suppression of the number too; the tag is read here as well, so a tag that
    # reached the row some other way still blocks.
    opt_out_tagged: bool = False

    def __post_init__(self) -> None:
        _require_aware_opt(self.opted_out_at, "opted_out_at")
        _require_aware_opt(self.last_engaged_at, "last_engaged_at")


@dataclass(frozen=True, slots=True)
class ConsentFact:
    """One consent record (records are append-only; a revocation is a record).

    `phone_e164` is the number the record covers: consent is given for a telephone number,
    so a record for another number says nothing about the one being dialed. `form_valid` is
    the consent scanner's verdict on the form version a `crm_form` record came through, at
    the time of the opt-in (None: not a form record). `held` marks a form submission that
    arrived while the number was suppressed and waits for staff confirmation.
    """

    kind: ConsentKind
    at: datetime
    phone_e164: str | None = None
    form_valid: bool | None = None
    held: bool = False

    def __post_init__(self) -> None:
        require_aware(self.at, "ConsentFact.at")

    @property
    def qualifies(self) -> bool:
        """Whether an opt-in record counts as consent (revocations never do)."""
        if self.kind is ConsentKind.CRM_FORM:
            return self.form_valid is True and not self.held
        return self.kind is ConsentKind.MANUAL_WRITTEN


@dataclass(frozen=True, slots=True)
class ConsentFacts:
    """The consent evidence for the number being dialed, within the practice (account).

    The first three fields decide: the latest qualifying CRM-form opt-in (through a form
    version that passed the voice-consent scan, not held), the latest staff-confirmed written
    consent, and the latest revocation on any channel. The other three only explain a
    failure: a form opt-in whose form text failed the scan, a submission held for staff
    confirmation, and another number that the contact's consent covers instead.
    """

    crm_form_opt_in_at: datetime | None = None
    manual_written_at: datetime | None = None
    revoked_at: datetime | None = None
    invalid_form_at: datetime | None = None
    held_at: datetime | None = None
    other_number: str | None = None

    def __post_init__(self) -> None:
        _require_aware_opt(self.crm_form_opt_in_at, "crm_form_opt_in_at")
        _require_aware_opt(self.manual_written_at, "manual_written_at")
        _require_aware_opt(self.revoked_at, "revoked_at")
        _require_aware_opt(self.invalid_form_at, "invalid_form_at")
        _require_aware_opt(self.held_at, "held_at")

    @property
    def newest_opt_in_on_file(self) -> datetime | None:
        """The newest qualifying opt-in, whenever it is stamped (even after `now`) and whether
        or not a revocation followed: a new opt-out is stamped past it, so no consent already
        on file can lift that opt-out later."""
        return max(
            (at for at in (self.crm_form_opt_in_at, self.manual_written_at) if at is not None),
            default=None,
        )

    @classmethod
    def from_records(cls, records: Iterable[ConsentFact], number: str | None) -> ConsentFacts:
        """Fold records into facts about `number`; records for other numbers only explain."""
        latest: dict[str, datetime] = {}
        other: str | None = None

        def keep(key: str, at: datetime) -> None:
            if key not in latest or at > latest[key]:
                latest[key] = at

        for record in records:
            if record.phone_e164 != number:
                if record.qualifies and record.phone_e164:
                    other = record.phone_e164
                continue
            if record.kind is ConsentKind.REVOCATION:
                keep("revoked", record.at)
            elif record.qualifies:
                keep(record.kind.value, record.at)
            elif record.held:
                keep("held", record.at)
            else:
                keep("invalid_form", record.at)
        return cls(
            crm_form_opt_in_at=latest.get(ConsentKind.CRM_FORM.value),
            manual_written_at=latest.get(ConsentKind.MANUAL_WRITTEN.value),
            revoked_at=latest.get("revoked"),
            invalid_form_at=latest.get("invalid_form"),
            held_at=latest.get("held"),
            other_number=other,
        )


class SuppressionSource(StrEnum):
    """Which opt-out path suppressed a number (every one of them writes the same entry)."""

    CALL_OPT_OUT = "call_opt_out"  # the agent heard "stop calling me"
    OPT_OUT_TAG = "opt_out_tag"  # the "Opted Out" tag was added
    OPT_OUT_FLAG = "opt_out_flag"  # the contact's opt-out flag was set (any channel)
    DND_VOICE = "dnd_voice"  # Do Not Disturb set on the voice channel
    REVOCATION = "revocation"  # a revocation recorded on any channel
    IMPORT = "import"  # a contact imported already opted out or on DND
    BACKFILL = "backfill"  # carried over from the contact rows when the ledger was created


@dataclass(frozen=True, slots=True)
class Suppression:
    """The practice-wide suppression of one number: the latest opt-out on any path, from any
    contact or location of the account that has the number. Only consent recorded after `at`
    lifts it."""

    at: datetime
    source: SuppressionSource

    def __post_init__(self) -> None:
        require_aware(self.at, "Suppression.at")

    def in_force(self, consent_at: datetime | None) -> bool:
        """Whether it still suppresses, given the number's latest qualifying consent (the
        gate's `check_consent` answer): only consent recorded after the opt-out lifts it.
        The one place this comparison is written; the gate and every writer ask it."""
        return consent_at is None or consent_at <= self.at


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
    # The number's practice-wide suppression entry, if it has one (lifted or not).
    suppression: Suppression | None = None
    # The call must dial before this instant (a workflow's "24-48 h before the appointment");
    # a call that cannot fails instead of being placed late.
    deadline: datetime | None = None

    def __post_init__(self) -> None:
        for index, dial in enumerate(self.number_dials):
            require_aware(dial, f"number_dials[{index}]")
        _require_aware_opt(self.deadline, "deadline")
