"""Classify an E.164 number (region, validity, geographic or not) without parsing it per call.

libphonenumber's `parse()` + `is_valid_number()` + `region_code_for_number()` cost tens of
microseconds, too slow for the dispatcher's hot path. The rules those functions apply to a
`+1` number are regular expressions in the library's metadata, so this module compiles them
once and applies the same decision procedure (`_region_code_for_number_from_list` and
`_number_type_helper` in phonenumberutil) to the string slice of the E.164 text. A property
test checks agreement with libphonenumber itself on random numbers from real area codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

_E164 = re.compile(r"\+[1-9]\d{1,14}")
_NANP_E164 = re.compile(r"\+1\d{10}")

# The order `_number_type_helper` tries the non-geographic types in.
_NON_GEOGRAPHIC_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


@dataclass(frozen=True, slots=True)
class NumberInfo:
    """What the engine needs to know about a number.

    `region` is libphonenumber's region code ("US", "CA", "PR"...) for `+1` numbers, None when
    no region's metadata accepts it or the number is not a `+1` number. `geographic` is True
    for fixed-line and mobile numbers, False for toll-free, premium-rate, personal (5XX) and
    other non-geographic numbers.
    """

    e164: str
    npa: str | None
    region: str | None
    valid: bool
    geographic: bool

    @property
    def nanp(self) -> bool:
        return self.npa is not None


class _Desc:
    __slots__ = ("lengths", "pattern")

    def __init__(self, pattern: str | None, lengths: tuple[int, ...] | None) -> None:
        self.pattern = re.compile(pattern) if pattern else None
        self.lengths = frozenset(lengths or ())

    def matches(self, national: str) -> bool:
        if self.pattern is None:
            return False
        if self.lengths and len(national) not in self.lengths:
            return False
        return self.pattern.fullmatch(national) is not None


class _Region:
    __slots__ = ("code", "fixed_line", "general", "leading", "mobile", "non_geo", "same_fixed")

    def __init__(self, code: str) -> None:
        md = PhoneMetadata.metadata_for_region(code)
        if md is None:  # pragma: no cover - every NANP region ships metadata
            raise LookupError(code)
        self.code = code
        self.leading = re.compile(md.leading_digits) if md.leading_digits else None
        self.general = _desc(md.general_desc)
        non_geo = (_desc(getattr(md, name)) for name in _NON_GEOGRAPHIC_TYPES)
        self.non_geo = tuple(desc for desc in non_geo if desc.pattern is not None)
        self.fixed_line = _desc(md.fixed_line)
        self.mobile = _desc(md.mobile)
        self.same_fixed = bool(md.same_mobile_and_fixed_line_pattern)

    def number_type(self, national: str) -> bool | None:
        """None: no type (invalid here); True: geographic; False: non-geographic."""
        if not self.general.matches(national):
            return None
        for desc in self.non_geo:
            if desc.matches(national):
                return False
        if self.fixed_line.matches(national):
            return True
        if not self.same_fixed and self.mobile.matches(national):
            return True
        return None


def _desc(desc: object) -> _Desc:
    if desc is None:
        return _Desc(None, None)
    pattern: str | None = getattr(desc, "national_number_pattern", None)
    lengths: tuple[int, ...] | None = getattr(desc, "possible_length", None)
    return _Desc(pattern, lengths)


@cache
def _nanp_regions() -> tuple[_Region, ...]:
    return tuple(_Region(code) for code in COUNTRY_CODE_TO_REGION_CODE[1])


def classify_e164(e164: str) -> NumberInfo:
    """Region, validity and geographic-ness of an E.164 string, libphonenumber's way.

    Non-`+1` numbers are not examined further (the engine only calls the US): region None,
    valid when the text is E.164-shaped.
    """
    if _NANP_E164.fullmatch(e164) is None:
        shaped = _E164.fullmatch(e164) is not None and not e164.startswith("+1")
        return NumberInfo(e164, None, None, shaped, False)
    national = e164[2:]
    npa = national[:3]
    for region in _nanp_regions():
        if region.leading is not None:
            if region.leading.match(national):
                kind = region.number_type(national)
                return NumberInfo(e164, npa, region.code, kind is not None, bool(kind))
        else:
            kind = region.number_type(national)
            if kind is not None:
                return NumberInfo(e164, npa, region.code, True, kind)
    return NumberInfo(e164, npa, None, False, False)
