"""Phone numbers: parsing to E.164 with libphonenumber.

Stored numbers are always E.164 so that throttles ("calls per day per phone number") count
the same number the same way however staff typed it.
"""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "US"
# Where Ringfence calls and calls from: the United States (Puerto Rico shares its rules). The
# calling windows, holidays and consent law it enforces are the US's, so a caller ID or a
# patient's number elsewhere (even another +1 country, such as Canada) is refused, not dialed.
US_REGIONS = frozenset({"US", "PR"})


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


def to_us_e164(raw: str) -> str:
    """`raw` as E.164 when it is a valid US number, else InvalidPhoneNumber saying whose it is."""
    e164 = to_e164(raw)
    region = region_of(e164)
    if region not in US_REGIONS:
        raise InvalidPhoneNumber(
            f"{e164} is a number in {region or 'an unknown region'}: only US numbers can be used"
        )
    return e164
