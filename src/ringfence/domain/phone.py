"""Phone numbers: parsing to E.164 with libphonenumber.

Stored numbers are always E.164 so that throttles ("calls per day per phone number") count
the same number the same way however staff typed it.
"""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "US"


class InvalidPhoneNumber(ValueError):
    """The text is not a valid, dialable phone number."""


def to_e164(raw: str, *, default_region: str = DEFAULT_REGION) -> str:
    """Parse `raw` (any common notation) and return it as E.164, or raise InvalidPhoneNumber.

    National notation is read as `default_region`; numbers with a leading `+` keep their own
    country. Validity uses libphonenumber's metadata (area code and exchange ranges), so
    "+1 555 010 0000"-style fictional numbers are rejected.
    """
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("phone number is empty")
    if len(text) > 40:
        raise InvalidPhoneNumber("phone number is too long")
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"not a phone number: {text!r}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"not a valid phone number: {text!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def region_of(e164: str) -> str | None:
    """The ISO region (e.g. "US", "CA", "PR") of an E.164 number, or None when unknown."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed)
