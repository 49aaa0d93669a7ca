"""When a practice's staff can take a call: business hours, and what a caller who asks for a
person is offered (a transfer now, or a call-back and when to expect it).

Pure: the shell reads the agent's saved hours and the clock, and passes `now`. The answer is
decided when the call is dialed (the agent's session is a snapshot), so a transfer is only
offered while the office stays open for `TRANSFER_MARGIN` more: a call placed at 4:58 PM must
not hand a patient to a line that closes at 5.

Hours are saved as JSON, one key per weekday (`mon` ... `sun`), each a list of "HH:MM-HH:MM"
ranges in the location's time zone; a day left out is closed. E.g.
`{"mon": ["09:00-12:30", "13:30-17:00"], "sat": ["10:00-14:00"]}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Final
from zoneinfo import ZoneInfo

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TRANSFER_MARGIN: Final = timedelta(minutes=15)
_RANGE: Final = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_MINUTES_A_DAY: Final = 24 * 60
# The words for a call-back when the agent has no hours: still a promise the staff can keep.
DURING_BUSINESS_HOURS: Final = "during business hours"
# A staff line may be a SIP address (a PBX extension) instead of a number: user@host[:port],
# nothing that could break out of a header or a TwiML attribute (no spaces, <, >, quotes).
_SIP_URI: Final = re.compile(r"^sips?:[A-Za-z0-9._~+\-!$&*=%]+@[A-Za-z0-9.\-]+(:\d{1,5})?$")


def is_sip_uri(target: str) -> bool:
    """Whether a staff line is a SIP address (`sip:frontdesk@pbx.example.com`)."""
    return _SIP_URI.fullmatch(target) is not None


class StaffHoursError(ValueError):
    """Hours that cannot be read; `field` names the day (e.g. `staff_hours.mon[1]`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class StaffHours:
    """Open ranges per weekday (Monday first), as (start, end) minutes after local midnight,
    sorted and not overlapping."""

    days: tuple[tuple[tuple[int, int], ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != len(DAYS):
            raise ValueError("staff hours need one entry per weekday")

    def summary(self) -> str:
        """'Mon 09:00-12:30, 13:30-17:00; Tue 09:00-17:00' (closed days left out)."""
        return "; ".join(
            f"{name.capitalize()} {', '.join(ranges)}" for name, ranges in self.to_json().items()
        )

    def to_json(self) -> dict[str, list[str]]:
        return {
            name: [f"{_hhmm(start)}-{_hhmm(end)}" for start, end in ranges]
            for name, ranges in zip(DAYS, self.days, strict=True)
            if ranges
        }


def parse_staff_hours(data: Mapping[str, object], *, field: str = "staff_hours") -> StaffHours:
    """Hours from their saved form; a bad day, range or overlap names where it is."""
    unknown = sorted(set(data) - set(DAYS))
    if unknown:
        raise StaffHoursError(f"{field}.{unknown[0]}", f"not a weekday (use {', '.join(DAYS)})")
    days: list[tuple[tuple[int, int], ...]] = []
    for name in DAYS:
        raw = data.get(name, [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            raise StaffHoursError(f"{field}.{name}", 'a list of "HH:MM-HH:MM" ranges')
        ranges: list[tuple[int, int]] = []
        for i, item in enumerate(raw):
            where = f"{field}.{name}[{i}]"
            match = _RANGE.match(item) if isinstance(item, str) else None
            if match is None:
                raise StaffHoursError(where, 'a range like "09:00-17:00"')
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
                raise StaffHoursError(where, "not a time of day")
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if end <= start:
                raise StaffHoursError(where, "ends before it starts (one range per day part)")
            ranges.append((start, end))
        ranges.sort()
        for (_, end), (start, _) in pairwise(ranges):
            if start < end:
                raise StaffHoursError(f"{field}.{name}", "ranges overlap")
        days.append(tuple(ranges))
    return StaffHours(tuple(days))


@dataclass(frozen=True, slots=True)
class StaffLine:
    """What the agent may offer a caller who asks for a person, decided at dial time:
    `transfer_to` (E.164) while staff are reachable, else None; `call_back_when` says when
    a call-back can be expected ("tomorrow after 9 AM"), for the agent to say."""

    transfer_to: str | None
    call_back_when: str


def staff_line(
    number: str | None,
    hours: StaffHours | None,
    *,
    now: datetime,
    time_zone: str,
    margin: timedelta = TRANSFER_MARGIN,
) -> StaffLine:
    """A transfer when a staff number is set and the office is open for `margin` more (no
    hours saved: never, since nobody can say the line is staffed); otherwise a call-back, at
    the next opening."""
    if hours is None:
        return StaffLine(None, DURING_BUSINESS_HOURS)
    local = now.astimezone(ZoneInfo(time_zone))
    if number and _open_until(hours, local) >= local + margin:
        return StaffLine(number, "today")
    opening = next_opening(hours, local + margin)
    if opening is None:
        return StaffLine(None, DURING_BUSINESS_HOURS)
    return StaffLine(None, spoken_when(opening, local))


def _open_until(hours: StaffHours, local: datetime) -> datetime:
    """When the range holding `local` closes (`local` itself when closed). A range ending at
    midnight that the next day continues is followed into it."""
    minute = local.hour * 60 + local.minute
    for start, end in hours.days[local.weekday()]:
        if start <= minute < end:
            closes = _at(local.date(), end, local)
            if end == _MINUTES_A_DAY:
                tomorrow = closes.date()
                first = hours.days[tomorrow.weekday()]
                if first and first[0][0] == 0:
                    return max(closes, _at(tomorrow, first[0][1], local))
            return closes
    return local


def next_opening(hours: StaffHours, local: datetime) -> datetime | None:
    """The first moment at or after `local` when the office is open (None: never open)."""
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        for start, end in hours.days[day.weekday()]:
            opens = _at(day, start, local)
            if _at(day, end, local) > local:
                return max(opens, local)
    return None


def spoken_when(opening: datetime, local_now: datetime) -> str:
    """'later today after 2 PM', 'tomorrow after 9 AM', 'on Monday after 9:30 AM'."""
    days = (opening.date() - local_now.date()).days
    clock = _spoken_clock(opening.time())
    if days == 0:
        return f"later today after {clock}" if opening > local_now else "today"
    if days == 1:
        return f"tomorrow after {clock}"
    return f"on {opening:%A} after {clock}"


_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def spoken_hours(hours: StaffHours) -> str:
    """The hours as an inbound caller hears them: 'We're open Monday to Friday, 9 AM to 6 PM,
    and Saturday, 10 AM to 2 PM.' Consecutive days with the same ranges are said once."""
    groups: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []
    for index, ranges in enumerate(hours.days):
        if not ranges:
            continue
        if groups and groups[-1][1] == index - 1 and groups[-1][2] == ranges:
            groups[-1] = (groups[-1][0], index, ranges)
        else:
            groups.append((index, index, ranges))
    if not groups:
        return "We have no opening hours on file; staff will call you back with them."

    def said(first: int, last: int, ranges: tuple[tuple[int, int], ...]) -> str:
        days = _DAY_NAMES[first] if first == last else f"{_DAY_NAMES[first]} to {_DAY_NAMES[last]}"
        if last == first + 1:
            days = f"{_DAY_NAMES[first]} and {_DAY_NAMES[last]}"
        spans = " and ".join(
            f"{_spoken_clock(_clock(start))} to {_spoken_clock(_clock(end))}"
            for start, end in ranges
        )
        return f"{days}, {spans}"

    parts = [said(*group) for group in groups]
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])}, and {parts[-1]}"
    return f"We're open {listed}."


def _clock(minute: int) -> time:
    return time(0) if minute >= 24 * 60 else time(minute // 60, minute % 60)


def _spoken_clock(at: time) -> str:
    hour = at.hour % 12 or 12
    minutes = f":{at.minute:02d}" if at.minute else ""
    return f"{hour}{minutes} {'AM' if at.hour < 12 else 'PM'}"


def _at(day: date, minute: int, like: datetime) -> datetime:
    midnight = datetime.combine(day, time(0), tzinfo=like.tzinfo)
    # Wall-clock arithmetic in the zone: across a DST change "17:00" is still 5 PM there.
    wall = midnight.replace(tzinfo=None) + timedelta(minutes=minute)
    return wall.replace(tzinfo=like.tzinfo)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
