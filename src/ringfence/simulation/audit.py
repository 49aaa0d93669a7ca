"""An independent audit of a stored call log against every platform rule.

The dispatcher issue: "an independent audit that re-reads the stored call log and checks every
platform rule: window per candidate zone, per-minute, per-day, per-number, 14-day,
consent/DND/opt-out at dial time". This module is that audit. It never imports
`ringfence.domain.compliance`: each rule is re-implemented here from the product description
(quoted on each check), with different algorithms (per-instant local-time checks, sorted sweeps
over the whole log) so that a bug in the engine is caught, not repeated.

The caller (the simulation) fills the input dataclasses from the database; `audit_dials` returns
an `AuditReport` with one `Violation` per (dial, broken rule).

Readings, where the description leaves room (each one is stated where it is enforced):

- Every instant "on record at or before the dial" counts against it: a DND flag, an opt-out or a
  revocation recorded at the very instant of the dial makes it a violation, and a consent
  recorded at that instant counts as given.
- Per-number caps are counted per *account* by default (`NumberScope.ACCOUNT`): a patient called
  by two locations of one practice is still one person being called, and the engine's
  eligibility layer counts the same way. `NumberScope.PLATFORM` (stricter) and
  `NumberScope.LOCATION` (looser) are available.
- "Calls per day per location" means the location's calendar day (its IANA zone). "Calls per
  day per phone number" means the contact's calendar day: the calendar day of *every* candidate
  zone of the number (below), so two dials of a number that share a local date in any of its
  zones break it, wherever the dialing locations are; a number with no usable zones (not a
  valid US geographic number, flagged anyway) counts on the dialing location's day.
- Postal codes are **not** used to widen the candidate zones: the audit has no independent
  postal-code table. The engine only *adds* zones for a postal code, so ignoring them can only
  make the audit more lenient for contacts with a postal code, never flag a lawful dial. A
  caller with an independent source may pass `AuditedContact.extra_zones`.
- Non-geographic US numbers (toll-free, premium rate, personal 5XX) are flagged: they have no
  "phone-number time zone" to check the window against.
- Consent and opt-outs are facts about a **number within the account** (the practice): a
  dial's consent is any qualifying voice opt-in recorded for that number by any contact of the
  account (a form opt-in only through a form that passed the scan, never one held for staff),
  revoked by a revocation of the number on any channel; and an opt-out of the number by any
  of the account's contacts (its DND, its opt-out flag on any channel, the "Opted Out" tag
  added, a revocation) suppresses the number until consent for it is recorded later
  (`number_suppressed`). A contact's own DND and opt-out flag block it whatever consent follows
  while they are set.
- A form opt-in counts only with the scan's verdict on record: `form_valid` True. An unknown
  verdict (None) is not a pass.
- Clearing a flag does not clear the opt-out: every instant at which a DND or opt-out flag was
  switched on, or the "Opted Out" tag added, is kept (`AuditedContact.opt_outs`, the contact's
  opt-out history) and suppresses the number from then on, even after the flag is cleared or
  the tag removed, until consent for the number is recorded after that instant.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType
from phonenumbers.tzdata import TIMEZONE_DATA

from ringfence.domain.vocabulary import Channel, ConsentKind, ContactSource

__all__ = [
    "FIFTY_STATES_ZONES",
    "OVERLAY_GROUPS",
    "PLATFORM_LIMITS",
    "AuditLimits",
    "AuditReport",
    "AuditRule",
    "AuditedConsent",
    "AuditedContact",
    "AuditedDial",
    "AuditedLocation",
    "AuditedOptOut",
    "NumberScope",
    "OptOutHow",
    "Violation",
    "audit_dials",
    "candidate_zones",
    "contact_problems",
    "index_contacts",
    "index_locations",
    "location_problem",
    "number_groups",
    "number_problem",
    "zones_for_area_code",
]


class AuditRule(StrEnum):
    """What a violation broke. Codes match the engine's reason codes where the rule is the same,
    so a simulation can line the two up; the order is the report order."""

    DIALED_TWICE = "dialed_twice"
    KYC_NOT_APPROVED = "kyc_not_approved"
    OUTBOUND_DISABLED = "outbound_disabled"
    NUMBER_MISSING = "number_missing"
    NUMBER_INVALID = "number_invalid"
    NUMBER_NOT_US = "number_not_us"
    NUMBER_NOT_GEOGRAPHIC = "number_not_geographic"
    NO_CONSENT = "no_consent"
    CONSENT_REVOKED = "consent_revoked"
    DND_VOICE = "dnd_voice"
    OPTED_OUT = "opted_out"
    NUMBER_SUPPRESSED = "number_suppressed"
    OUTSIDE_WINDOW = "outside_window"
    LOCATION_PACING = "location_pacing"
    LOCATION_DAILY_CAP = "location_daily_cap"
    NUMBER_DAILY_CAP = "number_daily_cap"
    FOURTEEN_DAY_CAP = "fourteen_day_cap"


_RULE_ORDER = {rule: index for index, rule in enumerate(AuditRule)}


class NumberScope(StrEnum):
    """Whose dials count toward a phone number's per-day and 14-day caps."""

    LOCATION = "location"
    ACCOUNT = "account"
    PLATFORM = "platform"


@dataclass(frozen=True, slots=True)
class AuditLimits:
    """The platform's fixed values, from the product description's throttles table and window.

    The description says they "are not configurable"; they are a parameter here only so tests
    can shrink them (a cap of 2 instead of 100) and so the audit states its numbers in one
    place. The window is a same-day local interval: `[window_start, window_end)`.
    """

    window_start: time = time(10, 0)
    window_end: time = time(18, 0)
    pacing: timedelta = timedelta(seconds=60)
    location_daily_cap: int = 100
    number_daily_cap: int = 1
    number_rolling_cap: int = 4
    number_rolling_window: timedelta = timedelta(days=14)

    def __post_init__(self) -> None:
        if not self.window_start < self.window_end:
            raise ValueError("the calling window must start before it ends on the same day")
        if self.pacing <= timedelta(0) or self.number_rolling_window <= timedelta(0):
            raise ValueError("pacing and the rolling window must be positive")
        if min(self.location_daily_cap, self.number_daily_cap, self.number_rolling_cap) < 1:
            raise ValueError("caps must be at least 1")


PLATFORM_LIMITS = AuditLimits()


@dataclass(frozen=True, slots=True)
class AuditedConsent:
    """One consent record (records are append-only; a revocation is a record).

    `phone_e164`: the number it covers (None: the contact's own number); `form_valid` False: a
    form opt-in through text that failed the scan; `held`: waiting for staff confirmation.
    """

    kind: ConsentKind
    at: datetime
    channel: Channel = Channel.VOICE
    phone_e164: str | None = None
    form_valid: bool | None = None
    held: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.at, "AuditedConsent.at")


class OptOutHow(StrEnum):
    """How a contact opted out (for the report; every kind suppresses the number alike)."""

    DND_VOICE = "dnd_voice"
    OPT_OUT_FLAG = "opt_out_flag"
    OPT_OUT_TAG = "opt_out_tag"


@dataclass(frozen=True, slots=True)
class AuditedOptOut:
    """One instant at which a contact opted out of a number: voice DND or the opt-out flag
    switched on (whether or not it was cleared later), or the "Opted Out" tag added (whether or
    not it was removed later). `phone_e164`: the number it covers (None: the contact's own
    number)."""

    at: datetime
    how: OptOutHow = OptOutHow.OPT_OUT_FLAG
    phone_e164: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self.at, "AuditedOptOut.at")


@dataclass(frozen=True, slots=True)
class AuditedContact:
    """What the audit needs to know about a contact, as it stood over the simulated time.

    `dnd_voice_since`: DND on the voice channel from that instant on (None: not set at the end
    of the simulated time). `opted_out_at`: the opt-out flag, if set at the end;
    `opted_out_channel`: None means an opt-out from every channel. `opt_outs`: the contact's
    opt-out history, flags since cleared and tags included (the flags in force may be listed
    there too). `extra_zones`: IANA zones to add to the phone number's candidates (e.g. from an
    independent postal-code source); empty by default, see the module docstring.
    """

    contact_id: int
    location_id: int
    phone_e164: str | None
    source: ContactSource = ContactSource.FORM
    consents: tuple[AuditedConsent, ...] = ()
    dnd_voice_since: datetime | None = None
    opted_out_at: datetime | None = None
    opted_out_channel: Channel | None = None
    extra_zones: frozenset[str] = field(default_factory=frozenset)
    opt_outs: tuple[AuditedOptOut, ...] = ()

    def __post_init__(self) -> None:
        _require_aware(self.dnd_voice_since, "AuditedContact.dnd_voice_since")
        _require_aware(self.opted_out_at, "AuditedContact.opted_out_at")


@dataclass(frozen=True, slots=True)
class AuditedLocation:
    """A location, its zone (whose calendar day the daily caps count) and its account's gates.

    `kyc_approved` / `outbound_enabled`: the account's state over the simulated time ("KYC
    approval is required", "Outbound calling must be explicitly enabled for your account").
    """

    location_id: int
    account_id: int
    time_zone: str
    kyc_approved: bool = True
    outbound_enabled: bool = True

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # fail early on a zone name the audit cannot use


@dataclass(frozen=True, slots=True)
class AuditedDial:
    """One dial from the call log: a job whose `dialed_at` is set, with the number as dialed."""

    job_id: int
    location_id: int
    contact_id: int
    phone_e164: str | None
    dialed_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.dialed_at, "AuditedDial.dialed_at")


@dataclass(frozen=True, slots=True)
class Violation:
    job_id: int
    rule: AuditRule
    detail: str
    dialed_at: datetime
    location_id: int


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Every violation, ordered by dial instant, job id, then rule (the `AuditRule` order)."""

    dials_checked: int
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def violating_job_ids(self) -> frozenset[int]:
        return frozenset(v.job_id for v in self.violations)

    @property
    def dialed_twice(self) -> tuple[int, ...]:
        """Job ids that appear more than once in the log (once per extra appearance)."""
        return tuple(v.job_id for v in self.violations if v.rule is AuditRule.DIALED_TWICE)

    def count_by_rule(self) -> dict[AuditRule, int]:
        counts = Counter(v.rule for v in self.violations)
        return {rule: counts[rule] for rule in AuditRule if counts[rule]}


# --- candidate time zones ------------------------------------------------------------------

# Area codes that serve the same area (from the reference notes: their areas span two zones, and
# libphonenumber's data gives the overlay only one zone, or none). Every member gets the union of
# the group's zones. Kept here on purpose, apart from the engine's own table.
OVERLAY_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"541", "458"}),
    frozenset({"850", "448"}),
    frozenset({"270", "364"}),
    frozenset({"812", "930"}),
    frozenset({"208", "986"}),
    frozenset({"423", "729"}),
)

# One zone per distinct rule set among the 50 states: the candidates of a US number whose area
# code the time-zone data does not know ("all 50-state zones when unknown").
FIFTY_STATES_ZONES: frozenset[str] = frozenset(
    {
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Phoenix",
        "America/Los_Angeles",
        "America/Anchorage",
        "America/Adak",
        "Pacific/Honolulu",
    }
)


@lru_cache(maxsize=1)
def _zones_by_area_code() -> dict[str, frozenset[str]]:
    """Area code -> every zone of every NANP key that starts with it (one pass over the data).

    Keys are "1" + area code (+ exchange digits). The bare "1" key (the whole of NANP) is not an
    area code's data and is skipped.
    """
    found: defaultdict[str, set[str]] = defaultdict(set)
    for prefix, zones in TIMEZONE_DATA.items():
        if len(prefix) >= 4 and prefix[0] == "1":
            found[prefix[1:4]].update(zones)
    return {npa: frozenset(zones) for npa, zones in found.items()}


@lru_cache(maxsize=2048)
def zones_for_area_code(npa: str) -> frozenset[str]:
    """Candidate zones of an area code: every zone libphonenumber lists for any prefix under it
    (not the longest-prefix match: numbers are portable), widened by its overlay partners, or
    every 50-state zone when the data knows none.

    The description: "Outbound AI calls are only placed between 10:00 AM and 6:00 PM in the
    contact's phone-number time zone. The platform calculates the contact's time zone
    automatically based on their phone number area code."
    """
    group: frozenset[str] = frozenset({npa})
    for overlay in OVERLAY_GROUPS:
        if npa in overlay:
            group = group | overlay
    table = _zones_by_area_code()
    zones = frozenset().union(*(table.get(code, frozenset()) for code in group))
    return zones or FIFTY_STATES_ZONES


def candidate_zones(phone_e164: str, extra_zones: frozenset[str] = frozenset()) -> frozenset[str]:
    """Candidate zones of a +1 number (its area code's, see `zones_for_area_code`) plus extras."""
    if not phone_e164.startswith("+1") or len(phone_e164) < 5:
        raise ValueError(f"not a NANP number: {phone_e164!r}")
    zones = zones_for_area_code(phone_e164[2:5])
    return zones | extra_zones if extra_zones else zones


# --- numbers -------------------------------------------------------------------------------

_E164 = re.compile(r"\+[1-9]\d{1,14}")
_NANP = re.compile(r"\+1\d{10}")
_GEOGRAPHIC_TYPES = frozenset(
    {PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


@lru_cache(maxsize=1 << 17)
def number_problem(phone_e164: str | None) -> AuditRule | None:
    """Why a number may not be called at all, or None for a valid US geographic number.

    The description: "Allowed countries | United States only" and "missing number" among the
    Failed conditions. "United States" is libphonenumber's region US: Canada and the Caribbean
    share +1 but are other regions, and so are the US territories (PR, VI, GU, AS, MP).
    Cached per number: a long log dials the same numbers again.
    """
    if phone_e164 is None or not phone_e164.strip():
        return AuditRule.NUMBER_MISSING
    if not _E164.fullmatch(phone_e164):
        return AuditRule.NUMBER_INVALID
    if _NANP.fullmatch(phone_e164):
        # Built directly: parsing an already-E.164 NANP string would only repeat this split.
        number = PhoneNumber(country_code=1, national_number=int(phone_e164[2:]))
    else:
        try:
            number = phonenumbers.parse(phone_e164, None)
        except phonenumbers.NumberParseException:
            return AuditRule.NUMBER_INVALID
    # For +1, libphonenumber answers region US only for a number valid in the US plan (the US
    # has no leading-digits shortcut), so US needs no second validity check; others do.
    region = phonenumbers.region_code_for_number(number)
    if region is None:
        return AuditRule.NUMBER_INVALID
    if region != "US":
        valid = phonenumbers.is_valid_number(number)
        return AuditRule.NUMBER_NOT_US if valid else AuditRule.NUMBER_INVALID
    if phonenumbers.number_type(number) not in _GEOGRAPHIC_TYPES:
        return AuditRule.NUMBER_NOT_GEOGRAPHIC
    return None


# --- contact and account state at an instant ---------------------------------------------

# Every channel: consent may be revoked "by any reasonable means" (FCC 24-24, "revoke all").
_OPT_OUT_COVERS_VOICE = frozenset({Channel.VOICE, Channel.SMS, Channel.EMAIL, None})


def location_problem(location: AuditedLocation) -> AuditRule | None:
    """The account gates: "KYC approval is required" and "Outbound calling must be explicitly
    enabled for your account"."""
    if not location.kyc_approved:
        return AuditRule.KYC_NOT_APPROVED
    if not location.outbound_enabled:
        return AuditRule.OUTBOUND_DISABLED
    return None


def contact_problems(
    contact: AuditedContact,
    at: datetime,
    number_group: Iterable[AuditedContact] = (),
) -> tuple[AuditRule, ...]:
    """Every consent / DND / opt-out problem of a dial to `contact` at instant `at` (empty:
    none). `number_group`: the other contacts of the account that have, or had, the same
    number (consent and opt-outs belong to the number within the practice; `number_groups`).

    - Consent: "The contact must have opted in via a CRM-hosted form. Contacts added by import,
      manual entry, or external sources ... you must confirm written consent for those records
      manually." A voice-channel CRM-form opt-in (through a form whose scan verdict is on
      record as passed, not held) or a manually confirmed written consent for this number, on
      record at or before `at`, counts whatever the source; a revocation of the number on any
      channel at or after the latest such consent (and at or before `at`) revokes it.
    - "No DND flag on the voice channel for that contact": DND set at or before `at`.
    - "No prior opt-out from the contact": the contact's own opt-out at or before `at`, on any
      channel (a "stop" by any reasonable means covers the caller's calls, FCC 24-24).
    - The number's suppression: an opt-out of the number at or before `at` with no consent for
      the number recorded after it: another contact's DND or opt-out flag, or any opt-out in
      the history of the group's contacts (`AuditedContact.opt_outs`: flags since cleared, the
      "Opted Out" tag), the contact's own included unless its DND or opt-out flag in force
      already makes the dial a violation.
    """
    problems: list[AuditRule] = []
    number = contact.phone_e164
    members = [contact, *(c for c in number_group if c.contact_id != contact.contact_id)]
    latest_consent: datetime | None = None
    latest_revocation: datetime | None = None
    for member in members:
        for record in member.consents:
            if record.at > at or (record.phone_e164 or member.phone_e164) != number:
                continue
            if record.kind is ConsentKind.REVOCATION:
                if latest_revocation is None or record.at > latest_revocation:
                    latest_revocation = record.at
            elif (
                _qualifies(record)
                and record.channel is Channel.VOICE
                and (latest_consent is None or record.at > latest_consent)
            ):
                latest_consent = record.at
    if latest_consent is None:
        problems.append(AuditRule.NO_CONSENT)
    elif latest_revocation is not None and latest_revocation >= latest_consent:
        problems.append(AuditRule.CONSENT_REVOKED)
    if contact.dnd_voice_since is not None and contact.dnd_voice_since <= at:
        problems.append(AuditRule.DND_VOICE)
    if (
        contact.opted_out_at is not None
        and contact.opted_out_at <= at
        and contact.opted_out_channel in _OPT_OUT_COVERS_VOICE
    ):
        problems.append(AuditRule.OPTED_OUT)
    # Opt-outs of the number: other contacts' flags in force (the contact's own are reported
    # above) and everybody's history (a revocation of the number is CONSENT_REVOKED).
    own_in_force = AuditRule.DND_VOICE in problems or AuditRule.OPTED_OUT in problems
    latest_opt_out: datetime | None = None
    for member in members:
        instants: list[datetime | None] = []
        if member is not contact and member.phone_e164 == number:
            instants += [member.dnd_voice_since, member.opted_out_at]
        if member is not contact or not own_in_force:
            instants += [
                record.at
                for record in member.opt_outs
                if (record.phone_e164 or member.phone_e164) == number
            ]
        for instant in instants:
            if (
                instant is not None
                and instant <= at
                and (latest_opt_out is None or instant > latest_opt_out)
            ):
                latest_opt_out = instant
    if latest_opt_out is not None and (latest_consent is None or latest_consent <= latest_opt_out):
        problems.append(AuditRule.NUMBER_SUPPRESSED)
    return tuple(problems)


def _qualifies(record: AuditedConsent) -> bool:
    """An opt-in that counts as consent: manual written consent, or a CRM-form opt-in whose
    form passed the scan (`form_valid` True: an unknown verdict is not a pass) and that is not
    held for staff."""
    if record.held:
        return False
    if record.kind is ConsentKind.CRM_FORM:
        return record.form_valid is True
    return record.kind is ConsentKind.MANUAL_WRITTEN


def number_groups(
    contacts: Iterable[AuditedContact], location_by_id: dict[int, AuditedLocation]
) -> dict[tuple[int, str], list[AuditedContact]]:
    """The account's contacts by number: each contact under its own number and under every
    other number its consent records or opt-outs name (consent and opt-outs belong to the
    number within the account, whoever holds it now). Contacts of unknown locations are left
    out."""
    groups: defaultdict[tuple[int, str], list[AuditedContact]] = defaultdict(list)
    for member in contacts:
        home = location_by_id.get(member.location_id)
        if home is None:
            continue
        numbers = {member.phone_e164}
        numbers.update(record.phone_e164 for record in member.consents)
        numbers.update(record.phone_e164 for record in member.opt_outs)
        for phone in sorted(n for n in numbers if n):
            groups[(home.account_id, phone)].append(member)
    return dict(groups)


# --- the audit -----------------------------------------------------------------------------

# How the checks report a violation: (dial, rule, detail).
_Flag = Callable[[AuditedDial, AuditRule, str], None]


def audit_dials(
    dials: Iterable[AuditedDial],
    contacts: Iterable[AuditedContact],
    locations: Iterable[AuditedLocation],
    *,
    limits: AuditLimits = PLATFORM_LIMITS,
    number_scope: NumberScope = NumberScope.ACCOUNT,
) -> AuditReport:
    """Check every dial of a call log against every platform rule; see the module docstring.

    Each dial is checked on its own (number, account gates, consent/DND/opt-out at the dial
    instant, window in every candidate zone) and against the other dials (pacing, the location's
    daily cap, the number's daily and 14-day caps: counted over the whole log in dial order, so
    the dial that goes over a cap is the one flagged). A job id that appears twice is a
    `dialed_twice` violation on its later appearance; both appearances count toward the caps.
    Raises ValueError for a dial whose contact or location is not given.
    """
    contact_by_id = index_contacts(contacts)
    location_by_id = index_locations(locations)
    log = list(dials)
    for dial in log:
        if dial.contact_id not in contact_by_id:
            raise ValueError(f"dial of job {dial.job_id}: unknown contact {dial.contact_id}")
        if dial.location_id not in location_by_id:
            raise ValueError(f"dial of job {dial.job_id}: unknown location {dial.location_id}")
    # Dial order: by instant, then job id, then position in the log (the sort is stable).
    log.sort(key=lambda dial: (dial.dialed_at, dial.job_id))

    found: list[Violation] = []

    def flag(dial: AuditedDial, rule: AuditRule, detail: str) -> None:
        found.append(Violation(dial.job_id, rule, detail, dial.dialed_at, dial.location_id))

    # The account's contacts by number: consent and opt-outs belong to the number.
    by_number = number_groups(contact_by_id.values(), location_by_id)
    seen_jobs: set[int] = set()
    for dial in log:
        if dial.job_id in seen_jobs:
            flag(dial, AuditRule.DIALED_TWICE, f"job {dial.job_id} was dialed more than once")
        seen_jobs.add(dial.job_id)
        contact = contact_by_id[dial.contact_id]
        location = location_by_id[dial.location_id]
        group = by_number.get((location.account_id, contact.phone_e164 or ""), [])
        _check_alone(dial, contact, location, group, limits, flag)

    _check_locations(log, location_by_id, limits, flag)
    _check_numbers(log, contact_by_id, location_by_id, limits, number_scope, flag)

    found.sort(key=lambda v: (v.dialed_at, v.job_id, _RULE_ORDER[v.rule]))
    return AuditReport(dials_checked=len(log), violations=tuple(found))


def _check_alone(
    dial: AuditedDial,
    contact: AuditedContact,
    location: AuditedLocation,
    group: list[AuditedContact],
    limits: AuditLimits,
    flag: _Flag,
) -> None:
    gate = location_problem(location)
    if gate is not None:
        flag(dial, gate, f"account {location.account_id} of location {location.location_id}")

    problem = number_problem(dial.phone_e164)
    if problem is not None:
        flag(dial, problem, f"number as dialed: {dial.phone_e164!r}")

    for state in contact_problems(contact, dial.dialed_at, group):
        flag(dial, state, _contact_detail(contact, state))

    # Window: "between 10:00 AM and 6:00 PM in the contact's phone-number time zone", checked in
    # every candidate zone at the dial instant itself (no interval arithmetic to get wrong).
    if dial.phone_e164 is not None and problem in (None, AuditRule.NUMBER_NOT_GEOGRAPHIC):
        zones = _ordered_zones(candidate_zones(dial.phone_e164, contact.extra_zones))
        closed = []
        for key, zone in zones:
            local = dial.dialed_at.astimezone(zone)
            if not limits.window_start <= local.time() < limits.window_end:
                closed.append(f"{local:%Y-%m-%d %H:%M:%S} in {key}")
        if closed:
            flag(
                dial,
                AuditRule.OUTSIDE_WINDOW,
                f"outside {limits.window_start:%H:%M}-{limits.window_end:%H:%M}: "
                + ", ".join(closed),
            )


def _contact_detail(contact: AuditedContact, rule: AuditRule) -> str:
    if rule is AuditRule.DND_VOICE:
        return f"DND voice on since {_iso(contact.dnd_voice_since)}"
    if rule is AuditRule.OPTED_OUT:
        channel = contact.opted_out_channel or "all channels"
        return f"opted out ({channel}) at {_iso(contact.opted_out_at)}"
    if rule is AuditRule.CONSENT_REVOKED:
        return f"contact {contact.contact_id}: voice consent revoked before the dial"
    if rule is AuditRule.NUMBER_SUPPRESSED:
        return f"{contact.phone_e164} opted out at the practice before the dial, no consent since"
    return f"contact {contact.contact_id} (source {contact.source}): no voice consent on record"


def _check_locations(
    log: list[AuditedDial],
    location_by_id: dict[int, AuditedLocation],
    limits: AuditLimits,
    flag: _Flag,
) -> None:
    """Pacing ("Calls per minute per location | 1", read as a rolling 60 s: two dials less than
    a minute apart break it wherever the minute boundary falls) and the daily cap ("Calls per day
    per location | 100", on the location's own calendar day)."""
    by_location: defaultdict[int, list[AuditedDial]] = defaultdict(list)
    for dial in log:
        by_location[dial.location_id].append(dial)
    for location_id, dials in by_location.items():
        zone = _zone(location_by_id[location_id].time_zone)
        per_day: Counter[date] = Counter()
        previous: AuditedDial | None = None
        for dial in dials:
            if previous is not None and dial.dialed_at - previous.dialed_at < limits.pacing:
                gap = (dial.dialed_at - previous.dialed_at).total_seconds()
                flag(
                    dial,
                    AuditRule.LOCATION_PACING,
                    f"{gap:g} s after job {previous.job_id} at location {location_id}",
                )
            previous = dial
            day = dial.dialed_at.astimezone(zone).date()
            per_day[day] += 1
            if per_day[day] > limits.location_daily_cap:
                flag(
                    dial,
                    AuditRule.LOCATION_DAILY_CAP,
                    f"dial {per_day[day]} of location {location_id} on {day} "
                    f"({zone.key}); cap {limits.location_daily_cap}",
                )


def _check_numbers(
    log: list[AuditedDial],
    contact_by_id: dict[int, AuditedContact],
    location_by_id: dict[int, AuditedLocation],
    limits: AuditLimits,
    scope: NumberScope,
    flag: _Flag,
) -> None:
    """ "Calls per day per phone number | 1" (on the calendar day of each of the number's
    candidate zones) and "Calls per phone number in any 14-day window | 4": for each dial at t,
    the dials of the number from the local midnight that starts t's day (in each zone), and
    those in (t - 14 days, t], up to and including it. Every day and window that ends at a dial
    is checked, which covers them all (a count only rises at a dial)."""
    by_number: defaultdict[tuple[int, str], list[AuditedDial]] = defaultdict(list)
    for dial in log:
        if dial.phone_e164 is None:
            continue
        if scope is NumberScope.LOCATION:
            owner = dial.location_id
        elif scope is NumberScope.ACCOUNT:
            owner = location_by_id[dial.location_id].account_id
        else:
            owner = 0
        by_number[(owner, dial.phone_e164)].append(dial)
    for (_, number), dials in by_number.items():
        instants = [dial.dialed_at for dial in dials]
        for index, dial in enumerate(dials):
            location = location_by_id[dial.location_id]
            for zone_key in _day_zones(dial, contact_by_id[dial.contact_id], location):
                day_start, day = _local_day_start(zone_key, dial.dialed_at)
                today = index - bisect_left(instants, day_start, 0, index) + 1
                if today > limits.number_daily_cap:
                    flag(
                        dial,
                        AuditRule.NUMBER_DAILY_CAP,
                        f"dial {today} of {number} on {day} in {zone_key} (the contact's "
                        f"calendar day); earlier: job {dials[index - 1].job_id} at "
                        f"{_iso(dials[index - 1].dialed_at)}",
                    )
                    break
            since = dial.dialed_at - limits.number_rolling_window
            rolling = index - bisect_right(instants, since, 0, index) + 1
            if rolling > limits.number_rolling_cap:
                flag(
                    dial,
                    AuditRule.FOURTEEN_DAY_CAP,
                    f"dial {rolling} of {number} in ({_iso(since)}, {_iso(dial.dialed_at)}]; "
                    f"cap {limits.number_rolling_cap}",
                )


def _day_zones(
    dial: AuditedDial, contact: AuditedContact, location: AuditedLocation
) -> tuple[str, ...]:
    """Whose calendar days the per-number cap counts on: the number's candidate zones (sorted,
    so the report names the same zone every run), or the dialing location's zone for a number
    that has none."""
    if dial.phone_e164 is None or number_problem(dial.phone_e164) is not None:
        return (location.time_zone,)
    return tuple(
        key for key, _ in _ordered_zones(candidate_zones(dial.phone_e164, contact.extra_zones))
    )


# --- helpers -------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _zone(key: str) -> ZoneInfo:
    return ZoneInfo(key)


@lru_cache(maxsize=1024)
def _ordered_zones(zones: frozenset[str]) -> tuple[tuple[str, ZoneInfo], ...]:
    return tuple((key, _zone(key)) for key in sorted(zones))


def _local_day_start(zone_key: str, at: datetime) -> tuple[datetime, date]:
    """UTC instant of the local midnight that starts `at`'s calendar day in the zone."""
    day = at.astimezone(_zone(zone_key)).date()
    return _midnight(zone_key, day), day


@lru_cache(maxsize=4096)
def _midnight(zone_key: str, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_zone(zone_key)).astimezone(UTC)


def _iso(at: datetime | None) -> str:
    return "-" if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _require_aware(at: datetime | None, name: str) -> None:
    if at is not None and at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def index_contacts(contacts: Iterable[AuditedContact]) -> dict[int, AuditedContact]:
    """Contacts by id; ValueError on a repeated id."""
    by_id: dict[int, AuditedContact] = {}
    for contact in contacts:
        if by_id.setdefault(contact.contact_id, contact) is not contact:
            raise ValueError(f"contact {contact.contact_id} given twice")
    return by_id


def index_locations(locations: Iterable[AuditedLocation]) -> dict[int, AuditedLocation]:
    """Locations by id; ValueError on a repeated id."""
    by_id: dict[int, AuditedLocation] = {}
    for location in locations:
        if by_id.setdefault(location.location_id, location) is not location:
            raise ValueError(f"location {location.location_id} given twice")
    return by_id
