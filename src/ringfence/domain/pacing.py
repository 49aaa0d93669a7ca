"""Booking one dial against a location's pacing state: the dispatcher does it on the locked
`location_pacing` row, the workflow forecast on its simulated copy, so the two can never
disagree about when the location is next free. `DispatchConfig` is the operational limits both
plan with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ringfence.domain.compliance import PlatformPolicy, location_day_bounds


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """Operational limits of one carrier account (the compliance rules are not here)."""

    carrier_cps: float = 1.0
    carrier_burst: float = 1.0
    max_concurrent_calls: int = 20
    locations_per_tick: int = 2000
    candidates_per_location: int = 3
    stale_dialing_after: timedelta = timedelta(minutes=2)
    stale_call_after: timedelta = timedelta(minutes=20)


class PacingSlot(Protocol):
    day_start: datetime | None
    dials_today: int
    last_dial_at: datetime | None
    ready_at: datetime | None


def book_dial(
    slot: PacingSlot, time_zone: str, now: datetime, policy: PlatformPolicy
) -> datetime | None:
    """Count a dial at `now` in the location's local day and move `ready_at` to the next
    pacing slot; returns the day's end when this dial used the location's last call of the
    day (`ready_at` is then that end)."""
    day_start, day_end = location_day_bounds(now, time_zone)
    if slot.day_start is None or slot.day_start < day_start:
        slot.day_start, slot.dials_today = day_start, 0
    slot.dials_today += 1
    slot.last_dial_at = now
    if slot.dials_today >= policy.location_daily_cap:
        slot.ready_at = day_end
        return day_end
    slot.ready_at = now + policy.location_pacing
    return None
