"""Allowed-interval arithmetic over several time zones, DST-safe and analytic.

A `WindowRules` says which local hours are allowed on a given local date: the platform window
(10:00-18:00), narrowed for marketing calls by each applicable state's solicitation hours and
Sunday/holiday bans. In one zone, the allowed set is one interval per local date; the contact's
allowed set is the intersection over all candidate zones. The earliest allowed instant at or
after `t` is found by the usual intersection walk: ask every zone for its first interval ending
after `t`, jump `t` to the latest start, and stop when every zone contains `t`. Intervals are
computed per (rules, zone, local date) with `zoneinfo`, so DST is exact, and cached, so the hot
path is a few dictionary lookups per zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from ringfence.domain.compliance.policy import LocalHours, StateRule
from ringfence.domain.compliance.reasons import ReasonCode

Interval = tuple[datetime, datetime]

_ONE_DAY = timedelta(days=1)
_CACHE_LIMIT = 200_000


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@cache
def state_holidays(state: str, year: int) -> frozenset[date]:
    """The state's legal holidays in `year` (federal and state), per the `holidays` package."""
    calendar = holidays.country_holidays("US", subdiv=state, years=year)
    return frozenset(calendar.keys())


def is_state_holiday(state: str, day: date) -> bool:
    return day in state_holidays(state, day.year)


def _state_hours(rule: StateRule, day: date) -> LocalHours | None:
    weekday = day.weekday()
    if weekday < 5:
        return rule.weekdays
    if weekday == 5:
        return rule.saturday
    return rule.sunday


@dataclass(frozen=True, slots=True, eq=False)
class WindowRules:
    """The allowed local hours per local date. Compared by identity: instances are interned
    per policy (see `gate.py`), which keeps cache keys cheap."""

    platform: LocalHours
    states: tuple[StateRule, ...] = ()

    def local_hours(self, day: date) -> LocalHours | None:
        start, end = self.platform.start, self.platform.end
        for rule in self.states:
            if rule.holidays_banned and is_state_holiday(rule.state, day):
                return None
            allowed = _state_hours(rule, day)
            if allowed is None:
                return None
            start = max(start, allowed.start)
            end = min(end, allowed.end)
        if start >= end:
            return None
        return LocalHours(start, end)

    def block_reason(self, zones: tuple[str, ...], t: datetime) -> ReasonCode | None:
        """Why `t` is not allowed (None when it is): the platform window first, then the
        strongest state reason (holiday ban, Sunday ban, hours) in any candidate zone."""
        platform_closed = holiday = sunday = outside_state_hours = False
        for name in zones:
            local = t.astimezone(zone(name))
            day = local.date()
            minute = local.hour * 60 + local.minute
            if not self.platform.start <= minute < self.platform.end:
                platform_closed = True
            for rule in self.states:
                if rule.holidays_banned and is_state_holiday(rule.state, day):
                    holiday = True
                    continue
                allowed = _state_hours(rule, day)
                if allowed is None:
                    sunday = True
                elif not allowed.start <= minute < allowed.end:
                    outside_state_hours = True
        if platform_closed:
            return ReasonCode.OUTSIDE_WINDOW
        if holiday:
            return ReasonCode.STATE_HOLIDAY_BAN
        if sunday:
            return ReasonCode.STATE_SUNDAY_BAN
        if outside_state_hours:
            return ReasonCode.STATE_HOURS
        return None


_INTERVALS: dict[tuple[WindowRules, str, date], Interval | None] = {}


def day_interval(rules: WindowRules, zone_name: str, day: date) -> Interval | None:
    """The UTC interval allowed on local `day` in `zone_name`, or None when the day is closed."""
    key = (rules, zone_name, day)
    try:
        return _INTERVALS[key]
    except KeyError:
        pass
    allowed = rules.local_hours(day)
    interval: Interval | None = None
    if allowed is not None:
        tz = zone(zone_name)
        midnight = datetime(day.year, day.month, day.day)
        # Local wall-clock times, then to UTC: zoneinfo picks the right offset on DST days.
        start = (midnight + timedelta(minutes=allowed.start)).replace(tzinfo=tz)
        end = (midnight + timedelta(minutes=allowed.end)).replace(tzinfo=tz)
        interval = (start.astimezone(UTC), end.astimezone(UTC))
    if len(_INTERVALS) >= _CACHE_LIMIT:
        _INTERVALS.clear()
    _INTERVALS[key] = interval
    return interval


def _zone_next(rules: WindowRules, zone_name: str, t: datetime, last_day: date) -> Interval | None:
    """The first allowed interval in one zone that ends after `t` (UTC), trying local dates up
    to `last_day`.

    Starts from the day before `t`'s UTC date, which is never after `t`'s local date in any
    zone (offsets are under a day), and walks forward: intervals of later local dates start
    later, so the first one ending after `t` is the answer. This skips an `astimezone()` per
    zone, the costliest step on the hot path.
    """
    day = t.date() - _ONE_DAY
    while day <= last_day:
        interval = day_interval(rules, zone_name, day)
        if interval is not None and interval[1] > t:
            return interval
        day += _ONE_DAY
    return None


def next_allowed(
    rules: WindowRules, zones: tuple[str, ...], t: datetime, limit: datetime
) -> Interval | None:
    """The earliest instant >= `t` allowed in every zone, with the end of that allowed stretch.

    None when no such instant exists at or before `limit`. Returned instants are in UTC.
    """
    t = t.astimezone(UTC)
    limit = limit.astimezone(UTC)
    last_day = limit.date() + _ONE_DAY
    while t <= limit:
        latest = t
        end: datetime | None = None
        for zone_name in zones:
            interval = _zone_next(rules, zone_name, t, last_day)
            if interval is None:
                return None
            if interval[0] > latest:
                latest = interval[0]
            if end is None or interval[1] < end:
                end = interval[1]
        if latest == t and end is not None:
            return (t, end)
        t = latest
    return None


def is_allowed(rules: WindowRules, zones: tuple[str, ...], t: datetime) -> bool:
    found = next_allowed(rules, zones, t, t)
    return found is not None and found[0] == t
