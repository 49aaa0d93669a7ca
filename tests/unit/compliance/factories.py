"""Builders and an independent reference model for the compliance tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import phonenumbers

from ringfence.domain.compliance import (
    DEFAULT_POLICY,
    AccountFacts,
    CallFacts,
    ConsentFacts,
    ContactFacts,
    LocationFacts,
    PlatformPolicy,
    StateRule,
    Suppression,
)
from ringfence.domain.vocabulary import CallPurpose, Channel, ContactSource, KycStatus

# Tuesday 10 March 2026, 13:30 in New York (EDT since 8 March): inside every US window
# except Alaska's and Hawaii's.
NOW = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)
CONSENT_AT = datetime(2025, 12, 1, tzinfo=UTC)

SINGLE_ZONE_NPAS = ("212", "305", "312", "303", "602", "415", "808", "512", "401", "205")
MULTI_ZONE_NPAS = (
    "541", "458", "850", "448", "270", "364", "812", "930", "208", "986", "423",
    "928", "907", "605", "701", "308", "620", "785", "219", "574", "906", "606", "775",
)  # fmt: skip


@cache
def sample_number(npa: str) -> str:
    """A valid, geographic US number in `npa` (the first exchange libphonenumber accepts)."""
    for exchange in range(200, 1000):
        for line in ("0123", "4567"):
            parsed = phonenumbers.parse(f"+1{npa}{exchange}{line}")
            if (
                phonenumbers.is_valid_number(parsed)
                and phonenumbers.region_code_for_number(parsed) == "US"
                and phonenumbers.number_type(parsed)
                in (
                    phonenumbers.PhoneNumberType.FIXED_LINE,
                    phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
                )
            ):
                return f"+1{npa}{exchange}{line}"
    raise LookupError(npa)


def make_facts(
    *,
    phone: str | None = "+12125550123",
    purpose: CallPurpose = CallPurpose.APPOINTMENT_CONFIRMATION,
    source: ContactSource = ContactSource.FORM,
    kyc: KycStatus = KycStatus.APPROVED,
    outbound: bool = True,
    dnd: bool = False,
    opted_out_at: datetime | None = None,
    opted_out_channel: Channel | None = None,
    postal: str | None = None,
    last_engaged_at: datetime | None = None,
    consent: ConsentFacts | None = None,
    location_tz: str = "America/New_York",
    dials_today: int = 0,
    last_dial_at: datetime | None = None,
    number_dials: tuple[datetime, ...] = (),
    deadline: datetime | None = None,
    suppression: Suppression | None = None,
    opt_out_tagged: bool = False,
) -> CallFacts:
    if consent is None:
        consent = ConsentFacts(crm_form_opt_in_at=CONSENT_AT)
    return CallFacts(
        purpose=purpose,
        account=AccountFacts(kyc, outbound),
        contact=ContactFacts(
            phone_e164=phone,
            source=source,
            dnd_voice=dnd,
            opted_out_at=opted_out_at,
            opted_out_channel=opted_out_channel,
            postal_code=postal,
            last_engaged_at=last_engaged_at,
            opt_out_tagged=opt_out_tagged,
        ),
        consent=consent,
        suppression=suppression,
        location=LocationFacts(location_tz, dials_today, last_dial_at),
        number_dials=number_dials,
        deadline=deadline,
    )


# ---- An independent, deliberately naive model of the time-curable rules ----------------


@cache
def _holidays(state: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("US", subdiv=state, years=year).keys())


def _state_ok(rule: StateRule, day: date, minute: int) -> bool:
    if rule.holidays_banned and day in _holidays(rule.state, day.year):
        return False
    weekday = day.weekday()
    allowed = rule.weekdays if weekday < 5 else rule.saturday if weekday == 5 else rule.sunday
    return allowed is not None and allowed.start <= minute < allowed.end


def window_ok(
    t: datetime,
    zones: tuple[str, ...],
    state_rules: tuple[StateRule, ...] = (),
    policy: PlatformPolicy = DEFAULT_POLICY,
) -> bool:
    """Local wall-clock check of the platform window (and state rules) in every zone."""
    for name in zones:
        local = t.astimezone(ZoneInfo(name))
        minute = local.hour * 60 + local.minute
        if not policy.window.start <= minute < policy.window.end:
            return False
        for rule in state_rules:
            if not _state_ok(rule, local.date(), minute):
                return False
    return True


def _local_day(t: datetime, tz: str) -> date:
    return t.astimezone(ZoneInfo(tz)).date()


def reference_allowed(
    facts: CallFacts,
    now: datetime,
    t: datetime,
    zones: tuple[str, ...],
    state_rules: tuple[StateRule, ...],
    policy: PlatformPolicy = DEFAULT_POLICY,
) -> bool:
    """Would a dial at `t` satisfy every time-curable rule, given what is known at `now`?"""
    if not window_ok(t, zones, state_rules, policy):
        return False
    location = facts.location
    last = location.last_dial_at
    if last is not None and t < last + policy.location_pacing:
        return False
    tz = location.time_zone
    if _local_day(t, tz) == _local_day(now, tz) and (
        location.dials_today >= policy.location_daily_cap
    ):
        return False
    # Per number per day: the dials sharing `t`'s local date in any candidate zone (the
    # location's zone when the number has none).
    for day_zone in zones or (tz,):
        same_day = [
            d for d in facts.number_dials if _local_day(d, day_zone) == _local_day(t, day_zone)
        ]
        if len(same_day) >= policy.number_daily_cap:
            return False
    caps = [r.per_24h_cap for r in state_rules if r.per_24h_cap is not None]
    if caps:
        recent = [d for d in facts.number_dials if t - timedelta(hours=24) < d <= t]
        if len(recent) >= min(caps):
            return False
    return True


def first_allowed_minute(
    facts: CallFacts,
    now: datetime,
    zones: tuple[str, ...],
    state_rules: tuple[StateRule, ...],
    horizon: timedelta = timedelta(days=8),
) -> datetime | None:
    """Brute force: scan minute by minute from a minute-aligned `now`."""
    t = now
    end = now + horizon
    step = timedelta(minutes=1)
    while t <= end:
        if reference_allowed(facts, now, t, zones, state_rules):
            return t
        t += step
    return None


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
