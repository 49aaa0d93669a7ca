"""Candidate zones: area-code unions, overlays, postal codes, special regions."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import timezone as pn_timezone
from phonenumbers.tzdata import TIMEZONE_DATA

from ringfence.domain.compliance import (
    DEFAULT_POLICY,
    FIFTY_STATES_ZONES,
    OVERLAY_GROUPS,
    Defer,
    Dial,
    Fail,
    ReasonCode,
    candidate_zones,
    evaluate,
    postal_place,
    zones_for_npa,
)
from ringfence.domain.compliance.gate import compile_policy
from ringfence.domain.compliance.windows import next_allowed

from .factories import make_facts, sample_number, utc

ET, CT, MT, PT = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
BOISE, PHX = "America/Boise", "America/Phoenix"


@pytest.mark.parametrize(
    ("npas", "zones"),
    [
        (("541", "458"), {MT, PT}),
        (("850", "448"), {CT, ET}),
        (("270", "364"), {CT, ET}),
        (("812", "930"), {CT, ET}),
        (("208", "986"), {BOISE, MT, PT}),
        (("423", "729"), {CT, ET}),
    ],
)
def test_overlays_share_the_union_of_their_zones(npas: tuple[str, ...], zones: set[str]) -> None:
    for npa in npas:
        assert zones_for_npa(npa) == zones, npa


@pytest.mark.parametrize(
    ("npa", "zones"),
    [
        ("928", {PHX, MT}),  # Arizona; the Navajo Nation observes DST
        ("602", {PHX}),
        ("808", {"Pacific/Honolulu"}),
        ("212", {ET}),
        ("775", {BOISE, MT, PT}),
        ("605", {CT, MT, "America/North_Dakota/Center"}),
        ("701", {CT, MT, "America/North_Dakota/Center"}),
        ("308", {CT, MT}),
        ("620", {CT, MT}),
        ("785", {CT, MT}),
        ("219", {CT, ET}),
        ("574", {CT, ET}),
        ("906", {CT, ET}),
        ("606", {CT, ET}),
    ],
)
def test_multi_zone_area_codes(npa: str, zones: set[str]) -> None:
    assert zones_for_npa(npa) == zones


def test_alaska_907_includes_adak() -> None:
    zones = zones_for_npa("907")
    assert {"America/Anchorage", "America/Adak"} <= zones


def test_every_overlay_group_member_has_the_same_zones() -> None:
    for group in OVERLAY_GROUPS:
        assert len({zones_for_npa(npa) for npa in group}) == 1, group


_US_PREFIXES = sorted(k for k in TIMEZONE_DATA if k.startswith("1") and len(k) >= 4)


@given(st.sampled_from(_US_PREFIXES))
@settings(max_examples=200, deadline=None)
def test_area_code_zones_cover_every_libphonenumber_prefix(prefix: str) -> None:
    """The union covers what a longest-prefix lookup would say for any number in the prefix."""
    digits = (prefix[1:] + "2345678901")[:10]
    number = phonenumbers.parse("+1" + digits)
    looked_up = set(pn_timezone.time_zones_for_number(number)) - {"Etc/Unknown"}
    npa = prefix[1:4]
    if zones_for_npa(npa) and len(looked_up) < 10:  # 10+: the whole-NANP fallback list
        assert looked_up <= zones_for_npa(npa)


def test_unknown_area_code_is_every_zone_of_the_fifty_states() -> None:
    assert zones_for_npa("999") == frozenset()
    assert candidate_zones("999") == tuple(sorted(FIFTY_STATES_ZONES))
    assert candidate_zones(None) == tuple(sorted(FIFTY_STATES_ZONES))


def test_fifty_states_window_is_the_narrow_intersection() -> None:
    # 10:00 in Honolulu/Adak and 18:00 in New York: 20:00Z-22:00Z in March (EDT, HST).
    rules = compile_policy(DEFAULT_POLICY).platform
    found = next_allowed(rules, candidate_zones(None), utc(2026, 3, 10, 12), utc(2026, 3, 20))
    assert found == (utc(2026, 3, 10, 20, 0), utc(2026, 3, 10, 22, 0))


@pytest.mark.parametrize(
    ("postal", "state", "zones"),
    [
        ("10001", "NY", {ET}),
        ("33101-1234", "FL", {ET}),
        ("32501", "FL", {CT}),  # Pensacola
        ("32401", "FL", {ET, CT}),  # Panama City prefix is mixed
        ("79901", "TX", {MT}),  # El Paso
        ("75201", "TX", {CT}),
        ("73301", "TX", {CT}),  # Austin's 733
        ("85001", "AZ", {PHX}),
        ("86515", "AZ", {PHX, MT}),  # Window Rock, Navajo Nation
        ("99546", "AK", {"America/Anchorage", "America/Adak"}),
        ("96813", "HI", {"Pacific/Honolulu"}),
        ("96799", "AS", {"Pacific/Pago_Pago"}),
        ("00901", "PR", {"America/Puerto_Rico"}),
        ("83702", "ID", {MT, PT}),  # Boise: the state's zones (conservative)
        ("20500", "DC", {ET}),
    ],
)
def test_postal_places(postal: str, state: str, zones: set[str]) -> None:
    place = postal_place(postal)
    assert place is not None
    assert (place.state, set(place.zones)) == (state, zones)


@pytest.mark.parametrize("postal", ["", "M5V 2T6", "1234", "123456", "09012", "abcde"])
def test_unknown_postal_codes_are_ignored(postal: str) -> None:
    assert postal_place(postal) is None


def test_postal_zone_narrows_the_window() -> None:
    # A New York number whose owner lives in Honolulu: 10:00 HST is 20:00Z.
    facts = make_facts(postal="96813")
    evaluation = evaluate(facts, utc(2026, 3, 10, 17, 30))
    assert evaluation.time_zones == ("America/New_York", "Pacific/Honolulu")
    assert evaluation.verdict == Defer(utc(2026, 3, 10, 20, 0), ReasonCode.OUTSIDE_WINDOW)


@pytest.mark.parametrize(
    ("npa", "instant", "dial"),
    [
        # Arizona 602 never observes DST: 10:00 MST = 17:00Z all year.
        ("602", utc(2026, 7, 15, 17, 0), True),
        ("602", utc(2026, 7, 16, 0, 59), True),
        # 928 adds the Navajo Nation (MDT in summer): 10:00-18:00 MDT = 16:00-00:00Z, so the
        # intersection with Phoenix is 17:00-00:00Z.
        ("928", utc(2026, 7, 15, 17, 0), True),
        ("928", utc(2026, 7, 16, 0, 0), False),
        ("928", utc(2026, 1, 15, 0, 59), True),  # winter: both UTC-7
        # Alaska 907: Anchorage and Adak (and Hawaii in libphonenumber's data).
        ("907", utc(2026, 1, 15, 19, 30), False),  # 10:30 AKST but 09:30 HST in Adak
        ("907", utc(2026, 1, 15, 20, 0), True),
        ("907", utc(2026, 1, 16, 2, 59), True),  # 17:59 AKST
        ("907", utc(2026, 1, 16, 3, 0), False),
        ("907", utc(2026, 7, 15, 20, 0), True),  # summer: Honolulu's 10:00
        ("907", utc(2026, 7, 16, 1, 59), True),  # 17:59 AKDT
        ("907", utc(2026, 7, 16, 2, 0), False),
        # Hawaii: UTC-10, no DST: 20:00-04:00Z.
        ("808", utc(2026, 7, 15, 20, 0), True),
        ("808", utc(2026, 7, 16, 3, 59), True),
        ("808", utc(2026, 7, 16, 4, 0), False),
        ("808", utc(2026, 1, 15, 19, 59), False),
    ],
)
def test_special_zones(npa: str, instant: datetime, dial: bool) -> None:
    verdict = evaluate(make_facts(phone=sample_number(npa)), instant).verdict
    assert (verdict == Dial()) is dial, verdict


def test_canada_647_fails_even_though_it_has_a_zone() -> None:
    assert zones_for_npa("647") == {"America/Toronto"}
    assert evaluate(make_facts(phone="+16475550123"), utc(2026, 3, 10, 17)).verdict == Fail(
        ReasonCode.NUMBER_NOT_US
    )
