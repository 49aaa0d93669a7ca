"""The time zones a location may use: those of the United States' 50 states and DC.

"Allowed countries | United States only": practices are in the US, and a location's zone sets
the calendar day of its daily cap and the local times staff read. `UTC` or `Asia/Tokyo` there
would be a typo or a test value, and every count on it would be on the wrong day.

`US_TIME_ZONES` is the IANA tz database's zone.tab rows for country code US (the territories
have their own codes: PR, VI, GU, AS, MP, UM); a test checks it against the `tzdata` package.
Kept here as data so the domain reads no files. The old `US/...` and `America/...` link names
are accepted and mapped to the canonical zone, so what is stored is always canonical.
"""

from __future__ import annotations

from types import MappingProxyType

US_TIME_ZONES: frozenset[str] = frozenset(
    {
        "America/New_York",
        "America/Detroit",
        "America/Kentucky/Louisville",
        "America/Kentucky/Monticello",
        "America/Indiana/Indianapolis",
        "America/Indiana/Vincennes",
        "America/Indiana/Winamac",
        "America/Indiana/Marengo",
        "America/Indiana/Petersburg",
        "America/Indiana/Vevay",
        "America/Chicago",
        "America/Indiana/Tell_City",
        "America/Indiana/Knox",
        "America/Menominee",
        "America/North_Dakota/Center",
        "America/North_Dakota/New_Salem",
        "America/North_Dakota/Beulah",
        "America/Denver",
        "America/Boise",
        "America/Phoenix",
        "America/Los_Angeles",
        "America/Anchorage",
        "America/Juneau",
        "America/Sitka",
        "America/Metlakatla",
        "America/Yakutat",
        "America/Nome",
        "America/Adak",
        "Pacific/Honolulu",
    }
)

# tzdata's `backward` links into the zones above (US/Samoa is American Samoa: a territory).
US_ZONE_ALIASES: MappingProxyType[str, str] = MappingProxyType(
    {
        "US/Eastern": "America/New_York",
        "US/Central": "America/Chicago",
        "US/Mountain": "America/Denver",
        "US/Arizona": "America/Phoenix",
        "US/Pacific": "America/Los_Angeles",
        "US/Alaska": "America/Anchorage",
        "US/Aleutian": "America/Adak",
        "US/Hawaii": "Pacific/Honolulu",
        "US/Michigan": "America/Detroit",
        "US/East-Indiana": "America/Indiana/Indianapolis",
        "US/Indiana-Starke": "America/Indiana/Knox",
        "America/Indianapolis": "America/Indiana/Indianapolis",
        "America/Fort_Wayne": "America/Indiana/Indianapolis",
        "America/Knox_IN": "America/Indiana/Knox",
        "America/Louisville": "America/Kentucky/Louisville",
        "America/Atka": "America/Adak",
        "America/Shiprock": "America/Denver",
        "Navajo": "America/Denver",
    }
)

_EXAMPLES = (
    "America/New_York, America/Chicago, America/Denver, America/Phoenix, "
    "America/Los_Angeles, America/Anchorage, Pacific/Honolulu"
)


class NotAUsTimeZone(ValueError):
    """A location's zone must be one of the 50 states' or DC's."""


def us_time_zone(name: str) -> str:
    """The canonical US zone `name` stands for, or NotAUsTimeZone saying why not."""
    if name in US_TIME_ZONES:
        return name
    canonical = US_ZONE_ALIASES.get(name)
    if canonical is not None:
        return canonical
    raise NotAUsTimeZone(
        f"{name!r} is not a time zone of the United States: locations must use the IANA zone "
        f"of one of the 50 states or DC (e.g. {_EXAMPLES}); US territories, Canada and other "
        "countries are not served"
    )
