from __future__ import annotations

import pytest

from ringfence.domain.phone import InvalidPhoneNumber, region_of, to_e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(212) 555-0147", "+12125550147"),
        ("212.555.0147", "+12125550147"),
        ("+1 212 555 0147", "+12125550147"),
        ("1-212-555-0147", "+12125550147"),
        ("  2125550147 ", "+12125550147"),
        ("+44 20 7946 0018", "+442079460018"),
    ],
)
def test_numbers_are_normalised_to_e164(raw: str, expected: str) -> None:
    assert to_e164(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", "hello", "555-0147", "+1 212 555", "+1 123 456 7890", "9" * 41]
)
def test_malformed_numbers_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        to_e164(raw)


@pytest.mark.parametrize(
    ("e164", "region"),
    [
        ("+12125550147", "US"),
        ("+16475550147", "CA"),
        ("+17875550147", "PR"),
        ("+18765550147", "JM"),
    ],
)
def test_region_tells_nanp_countries_apart(e164: str, region: str) -> None:
    assert region_of(e164) == region


def test_region_of_garbage_is_none() -> None:
    assert region_of("not a number") is None
