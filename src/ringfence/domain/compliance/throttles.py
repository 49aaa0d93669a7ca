"""Counting rules: per-minute pacing, per-day caps, the rolling 14-day and 24-hour caps.

Each function returns the rule's `RuleCheck`; a deferred check carries `until`, the earliest
instant at which that rule alone passes. Only dials are counted (the facts hold dial
instants only: attempts that failed before dialling never reach these lists).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from ringfence.domain.compliance.policy import PlatformPolicy
from ringfence.domain.compliance.reasons import ReasonCode, Rule
from ringfence.domain.compliance.verdicts import Outcome, RuleCheck
from ringfence.domain.compliance.windows import zone

_DAY = timedelta(days=1)
_24H = timedelta(hours=24)
# Longer than any local day (23 to 25 hours around DST changes).
_NEAR = timedelta(hours=48)


def location_day_bounds(now: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """UTC bounds `[start, end)` of the location's local calendar day containing `now`.

    The database layer counts `LocationFacts.dials_today` with these bounds.
    """
    return _day_bounds(time_zone, now.astimezone(zone(time_zone)).date())


@lru_cache(maxsize=4096)
def _day_bounds(time_zone: str, day: date) -> tuple[datetime, datetime]:
    tz = zone(time_zone)
    midnight = datetime(day.year, day.month, day.day)
    start = midnight.replace(tzinfo=tz)
    end = (midnight + _DAY).replace(tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


_NO_EARLIER_DIAL = RuleCheck(
    Rule.LOCATION_PACING, Outcome.PASSED, "no earlier dial at this location"
)


def check_pacing(last_dial_at: datetime | None, now: datetime, policy: PlatformPolicy) -> RuleCheck:
    """ "Calls per minute per location | 1": at most one dial per rolling minute.

    Rolling rather than calendar minutes: two dials a second apart across a minute boundary
    would be two calls within one minute. Reported as a Defer with LOCATION_PACING, which the
    call log shows as "queued" (pacing, not a Deferred status).
    """
    if last_dial_at is None:
        return _NO_EARLIER_DIAL
    free_at = last_dial_at + policy.location_pacing
    if now >= free_at:
        return RuleCheck(
            Rule.LOCATION_PACING,
            Outcome.PASSED,
            "last location dial at {}; the next slot opened at {}",
            (last_dial_at, free_at),
        )
    return RuleCheck(
        Rule.LOCATION_PACING,
        Outcome.DEFERRED,
        "last location dial at {}; queued for the next slot at {}",
        (last_dial_at, free_at),
        ReasonCode.LOCATION_PACING,
        free_at,
    )


def check_location_daily(dials_today: int, day_end: datetime, policy: PlatformPolicy) -> RuleCheck:
    """ "Calls per day per location | 100 (overflow defers to next day)"; the location's
    calendar day. The overflow moves to the next day's earliest window (the verdict search
    starts from the next local midnight)."""
    cap = policy.location_daily_cap
    if dials_today < cap:
        return RuleCheck(
            Rule.LOCATION_DAILY_CAP,
            Outcome.PASSED,
            "{} of {} location calls used today",
            (dials_today, cap),
        )
    return RuleCheck(
        Rule.LOCATION_DAILY_CAP,
        Outcome.DEFERRED,
        "{} of {} location calls used today; the location's next day starts {}",
        (dials_today, cap, day_end),
        ReasonCode.LOCATION_DAILY_CAP,
        day_end,
    )


def check_number_daily(
    dials: Sequence[datetime], now: datetime, zones: Sequence[str], policy: PlatformPolicy
) -> RuleCheck:
    """ "Calls per day per phone number | 1", on the calendar day of every one of `zones`.

    `zones` are the number's candidate zones (the ones the calling window holds in; the caller
    passes the location's zone when the number has none). The contact may be in any of them,
    so the call waits while, in any zone, today's local date already has the cap's dials: two
    calls never land on one local day of the contact, wherever the location is. A deferred
    check's `until` is the latest end of today among the zones at the cap: from then on every
    zone is on a new day (the counted dials are in the past, so no later instant shares their
    date). The description is silent on what happens next; the reference notes read it as a
    Defer to the next eligible day.
    """
    cap = policy.number_daily_cap
    # Only a dial within a day's length of `now` can share its local date in some zone.
    near = [dial for dial in dials if now - _NEAR < dial < now + _NEAR]
    if not near:
        return RuleCheck(
            Rule.NUMBER_DAILY_CAP,
            Outcome.PASSED,
            "{} of {} calls to this number used today in {}",
            (0, cap, tuple(zones)),
        )
    used = 0
    until: datetime | None = None
    full: list[str] = []
    for name in zones:
        day_start, day_end = location_day_bounds(now, name)
        count = sum(1 for dial in near if day_start <= dial < day_end)
        used = max(used, count)
        if count >= cap:
            full.append(name)
            if until is None or day_end > until:
                until = day_end
    if until is None:
        return RuleCheck(
            Rule.NUMBER_DAILY_CAP,
            Outcome.PASSED,
            "{} of {} calls to this number used today in {}",
            (used, cap, tuple(zones)),
        )
    return RuleCheck(
        Rule.NUMBER_DAILY_CAP,
        Outcome.DEFERRED,
        "{} of {} calls to this number used today in {}; the last of those days ends {}",
        (used, cap, tuple(full), until),
        ReasonCode.NUMBER_DAILY_CAP,
        until,
    )


def check_fourteen_day(
    dials: Sequence[datetime], now: datetime, policy: PlatformPolicy
) -> RuleCheck:
    """ "Calls per phone number in any 14-day window | 4 (calls beyond this fail)".

    The window is `(now - 14 days, now]`: a dial exactly 14 days old has just freed its slot.
    Reaching the cap is a Fail, not a Defer, because the description says "calls beyond this
    fail" and Failed calls "do not retry automatically".
    """
    cap = policy.number_window_cap
    window_start = now - policy.number_window
    counted = [dial for dial in dials if dial > window_start]
    used = len(counted)
    days = policy.number_window.days
    if used:
        note = "{} of {} calls used in the {}-day window, next frees on {}"
        values: tuple[object, ...] = (used, cap, days, min(counted) + policy.number_window)
    else:
        note, values = "{} of {} calls used in the {}-day window", (used, cap, days)
    if used < cap:
        return RuleCheck(Rule.NUMBER_14_DAY_CAP, Outcome.PASSED, note, values)
    return RuleCheck(
        Rule.NUMBER_14_DAY_CAP, Outcome.FAILED, note, values, ReasonCode.FOURTEEN_DAY_CAP
    )


_NO_24H_CAP = RuleCheck(Rule.STATE_24H_CAP, Outcome.NOT_APPLICABLE, "no state 24-hour cap applies")


def check_state_24h(
    dials: Sequence[datetime], now: datetime, cap: int | None, states: str
) -> RuleCheck:
    """State per-24-hour caps on marketing calls (FL, OK, MD: 3 in any 24 hours).

    Frees when the oldest dial that keeps the count at the cap turns 24 hours old.
    """
    if cap is None:
        return _NO_24H_CAP
    recent = sorted((dial for dial in dials if dial > now - _24H), reverse=True)
    used = len(recent)
    if used < cap:
        return RuleCheck(
            Rule.STATE_24H_CAP,
            Outcome.PASSED,
            "{} of {} calls used in the last 24 hours ({})",
            (used, cap, states),
        )
    free_at = recent[cap - 1] + _24H
    return RuleCheck(
        Rule.STATE_24H_CAP,
        Outcome.DEFERRED,
        "{} of {} calls used in the last 24 hours ({}); frees at {}",
        (used, cap, states, free_at),
        ReasonCode.STATE_24H_CAP,
        free_at,
    )
