"""Locations use the time zones of the 50 states and DC only (canonical names; aliases mapped)."""

from __future__ import annotations

from importlib import resources
from zoneinfo import available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.domain.us_zones import (
    US_TIME_ZONES,
    US_ZONE_ALIASES,
    NotAUsTimeZone,
    us_time_zone,
)
from ringfence.services.demo import SITES
from ringfence.simulation.population import PRACTICE_ZONES

_TZDATA = resources.files("tzdata").joinpath("zoneinfo")


def _zone_file(name: str) -> bytes:
    return _TZDATA.joinpath(*name.split("/")).read_bytes()


def test_the_list_is_tzdata_zone_tab_for_country_us() -> None:
    """zone.tab's US rows are the zones of the 50 states and DC (territories have their own
    country codes: PR, VI, GU, AS, MP, UM)."""
    rows = [
        line.split("\t")
        for line in _TZDATA.joinpath("zone.tab").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert frozenset(row[2] for row in rows if row[0] == "US") == US_TIME_ZONES


def test_every_alias_is_a_link_to_its_canonical_zone() -> None:
    for alias, canonical in US_ZONE_ALIASES.items():
        assert canonical in US_TIME_ZONES, alias
        assert _zone_file(alias) == _zone_file(canonical), alias


@pytest.mark.parametrize("name", sorted(US_TIME_ZONES))
def test_every_us_zone_is_accepted_as_it_is(name: str) -> None:
    assert us_time_zone(name) == name


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("US/Eastern", "America/New_York"),
        ("US/Central", "America/Chicago"),
        ("US/Mountain", "America/Denver"),
        ("US/Arizona", "America/Phoenix"),
        ("US/Pacific", "America/Los_Angeles"),
        ("US/Alaska", "America/Anchorage"),
        ("US/Hawaii", "Pacific/Honolulu"),
        ("America/Indianapolis", "America/Indiana/Indianapolis"),
    ],
)
def test_common_aliases_map_to_the_canonical_name(alias: str, canonical: str) -> None:
    assert us_time_zone(alias) == canonical


@pytest.mark.parametrize(
    "name",
    [
        "UTC",
        "Etc/UTC",
        "Asia/Tokyo",
        "Europe/London",
        "America/Toronto",  # Canada shares Eastern time, not the country
        "America/Puerto_Rico",  # territories are not among the 50 states
        "Pacific/Guam",
        "Pacific/Pago_Pago",
        "US/Samoa",
        "EST5EDT",
        "EST",
        "HST",
        "america/new_york",
        "",
        "Mars/Olympus_Mons",
    ],
)
def test_other_zones_are_refused_saying_why(name: str) -> None:
    with pytest.raises(NotAUsTimeZone, match="50 states") as raised:
        us_time_zone(name)
    assert repr(name) in str(raised.value)
    assert "America/New_York" in str(raised.value)  # an example of what is accepted


@given(name=st.sampled_from(sorted(available_timezones())))
def test_a_zone_is_accepted_exactly_when_it_is_a_us_zone_or_its_alias(name: str) -> None:
    if name in US_TIME_ZONES or name in US_ZONE_ALIASES:
        assert us_time_zone(name) in US_TIME_ZONES
    else:
        with pytest.raises(NotAUsTimeZone):
            us_time_zone(name)


def test_the_demo_and_the_simulation_place_their_locations_in_the_states() -> None:
    assert {site.time_zone for site in SITES} <= US_TIME_ZONES
    assert {zone for zone, _weight, _codes in PRACTICE_ZONES} <= US_TIME_ZONES
