"""The precompiled number classifier agrees with libphonenumber; the NPA->state table is current."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers.tzdata import TIMEZONE_DATA

from ringfence.domain.compliance import classify_e164
from ringfence.domain.compliance.npa_states import npa_state_table, states_for_npa

_NPAS = sorted({k[1:4] for k in TIMEZONE_DATA if k.startswith("1") and len(k) >= 4})
_EXTRA = ["800", "833", "888", "900", "500", "521", "555", "729", "211", "911", "000"]
_GEOGRAPHIC = {
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


@given(
    npa=st.sampled_from(_NPAS + _EXTRA),
    rest=st.integers(min_value=0, max_value=9_999_999).map(lambda n: f"{n:07d}"),
)
@settings(max_examples=1500, deadline=None)
def test_classifier_agrees_with_libphonenumber(npa: str, rest: str) -> None:
    e164 = f"+1{npa}{rest}"
    parsed = phonenumbers.parse(e164)
    info = classify_e164(e164)
    assert info.npa == npa
    assert info.valid == phonenumbers.is_valid_number(parsed)
    assert info.region == phonenumbers.region_code_for_number(parsed)
    if info.valid:
        assert info.geographic == (phonenumbers.number_type(parsed) in _GEOGRAPHIC)


@pytest.mark.parametrize(
    ("e164", "region", "valid", "geographic"),
    [
        ("+16475550123", "CA", True, True),
        ("+18762345678", "JM", True, True),
        ("+17875550123", "PR", True, True),
        ("+18005550123", "US", True, False),
        ("+442079460958", None, True, False),  # not +1: not examined further
        ("+1212555012", None, False, False),
        ("12125550123", None, False, False),
        ("+1212555012x", None, False, False),
    ],
)
def test_classifier_table(e164: str, region: str | None, valid: bool, geographic: bool) -> None:
    info = classify_e164(e164)
    assert (info.region, info.valid, info.geographic) == (region, valid, geographic)


_STATE_NAMES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Washington D.C.": "DC",
    "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL",
    "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
    "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI",
    "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT",
    "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ",
    "New Mexico": "NM", "New York": "NY", "North Carolina": "NC", "North Dakota": "ND",
    "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA",
    "Washington State": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
}  # fmt: skip


def derive_npa_states() -> dict[str, frozenset[str]]:
    """Rebuild src/ringfence/domain/compliance/npa_states.py's table from libphonenumber's
    English geocoding data ("Florida", "Miami, FL"); US states and DC only."""
    from phonenumbers.geodata import GEOCODE_DATA

    codes = set(_STATE_NAMES.values())
    table: dict[str, set[str]] = {}
    for prefix, names in GEOCODE_DATA.items():
        if prefix.startswith("1") and len(prefix) >= 4 and "en" in names:
            last = names["en"].rsplit(", ", 1)[-1]
            state = _STATE_NAMES.get(last, last)
            if state in codes:
                table.setdefault(prefix[1:4], set()).add(state)
    return {npa: frozenset(states) for npa, states in table.items()}


def test_npa_state_table_matches_libphonenumber() -> None:
    derived = derive_npa_states()
    packed = " ".join(f"{n}:{'/'.join(sorted(s))}" for n, s in sorted(derived.items()))
    assert npa_state_table() == derived, f"regenerate _PACKED from:\n{packed}"


def test_npa_states_examples() -> None:
    assert states_for_npa("401") == {"RI"}
    assert states_for_npa("201") == {"NJ", "NY"}
    assert states_for_npa("800") == frozenset()
