"""Candidate time zones of a contact: area code (with overlays), postal address, or everywhere.

The product description: "The platform calculates the contact's time zone automatically based
on their phone number area code." libphonenumber's `time_zones_for_number()` does a
longest-prefix match and so returns one zone for many area codes whose exchanges span two;
the engine instead takes the union over every prefix of the area code in libphonenumber's
time-zone data, widened by the zones of overlay partners (an overlay serves the same area as
the code it overlays, but the data often gives it only the default zone), plus the zone of the
postal address when known. The call may dial only when the window holds in every candidate.
"""

from __future__ import annotations

from functools import cache, lru_cache

# Overlay groups: area codes that serve the same geographic area. The first six come from the
# reference notes (their areas span two zones); the rest are recent overlays, listed so a code
# that libphonenumber's time-zone data does not know yet still gets its partners' zones.
OVERLAY_GROUPS: tuple[tuple[str, ...], ...] = (
    ("541", "458"),  # Oregon; Malheur County keeps Mountain time
    ("850", "448"),  # Florida panhandle; Central west of the Apalachicola
    ("270", "364"),  # western Kentucky (mostly Central)
    ("812", "930"),  # southern Indiana
    ("208", "986"),  # Idaho; the north is Pacific
    ("423", "729"),  # east Tennessee
    ("540", "826"),  # Virginia
    ("303", "720", "983"),  # Colorado
    ("610", "484", "835"),  # Pennsylvania
    ("213", "323", "738"),  # Los Angeles
    ("707", "369"),  # California north coast
    ("209", "350"),  # California central valley
    ("559", "357"),  # California Fresno
    ("815", "779", "861"),  # Illinois
)

# "If no zone can be determined, the number is treated as in every zone of the 50 states":
# one zone per distinct rule set in use (Detroit, Indianapolis, Boise, Juneau and friends
# have had the same offsets and DST rules as one of these since 2007).
FIFTY_STATES_ZONES: tuple[str, ...] = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Adak",
    "Pacific/Honolulu",
)


@cache
def libphonenumber_npa_zones() -> dict[str, frozenset[str]]:
    """Area code -> union of the zones of every prefix of it in libphonenumber's data."""
    from phonenumbers.tzdata import TIMEZONE_DATA

    table: dict[str, set[str]] = {}
    for prefix, zones in TIMEZONE_DATA.items():
        # Keys are country code + digits; "1" alone is the whole NANP (all 42 zones).
        if len(prefix) >= 4 and prefix[0] == "1":
            table.setdefault(prefix[1:4], set()).update(z for z in zones if z != "Etc/Unknown")
    return {npa: frozenset(zones) for npa, zones in table.items() if zones}


@cache
def npa_zone_table() -> dict[str, frozenset[str]]:
    """Area code -> candidate zones, overlays included. Built once, on first use."""
    base = libphonenumber_npa_zones()
    table = dict(base)
    for group in OVERLAY_GROUPS:
        union = frozenset().union(*(base.get(npa, frozenset()) for npa in group))
        if union:
            for npa in group:
                table[npa] = union
    return table


def zones_for_npa(npa: str) -> frozenset[str]:
    """The area code's candidate zones; empty when no zone is known for it."""
    return npa_zone_table().get(npa, frozenset())


@lru_cache(maxsize=1 << 14)
def candidate_zones(npa: str | None, postal_zones: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Every zone the contact may be in, sorted.

    The area code's zones (all 50 states' zones when the area code has none, or there is no
    area code), plus the postal address's zones.
    """
    from_number = zones_for_npa(npa) if npa else frozenset()
    if not from_number:
        from_number = frozenset(FIFTY_STATES_ZONES)
    return tuple(sorted(from_number | postal_zones))
