"""Building blocks shared by every resource's schemas."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ringfence.domain.phone import InvalidPhoneNumber, to_e164, to_us_e164
from ringfence.domain.us_zones import us_time_zone

# The cursor format is shared with the staff pages' logs, so it lives with the services.
from ringfence.services.paging import decode_cursor as decode_cursor
from ringfence.services.paging import encode_cursor as encode_cursor

ItemT = TypeVar("ItemT")


class Body(BaseModel):
    """Request bodies: unknown fields are an error that names the field, never ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def us_phone_e164(value: str) -> str:
    """`value` as the E.164 of a US number (ValueError naming the problem)."""
    try:
        return to_us_e164(value)
    except InvalidPhoneNumber as exc:
        raise ValueError(str(exc)) from exc


def phone_e164(value: str) -> str:
    """`value` as an E.164 number (ValueError naming the problem)."""
    try:
        return to_e164(value)
    except InvalidPhoneNumber as exc:
        raise ValueError(str(exc)) from exc


_ZONES = frozenset(available_timezones())


def _time_zone(value: str) -> str:
    if value not in _ZONES:
        raise ValueError(f"unknown IANA time zone {value!r} (e.g. 'America/New_York')")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


def _us_time_zone(value: str) -> str:
    """A known IANA zone of the 50 states or DC, stored under its canonical name."""
    return us_time_zone(_time_zone(value))  # NotAUsTimeZone is a ValueError: a 422


PhoneE164 = Annotated[str, StringConstraints(max_length=40), AfterValidator(phone_e164)]
UsPhoneE164 = Annotated[str, StringConstraints(max_length=40), AfterValidator(us_phone_e164)]
UsTimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_us_time_zone)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
TagName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Email = Annotated[
    str,
    StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", to_lower=True),
]
UsState = Annotated[str, StringConstraints(max_length=2, pattern=r"^[A-Z]{2}$")]
PostalCode = Annotated[str, StringConstraints(max_length=10, pattern=r"^\d{5}(-\d{4})?$")]
# Strings stored in 100-character columns (labels, pipeline and stage names).
Label100 = Annotated[str, StringConstraints(max_length=100)]
Name100 = Annotated[str, StringConstraints(min_length=1, max_length=100)]
# Cents in a 32-bit column: up to $21,474,836.47.
Cents = Annotated[int, Field(ge=0, le=2**31 - 1)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class ListQuery(BaseModel):
    """Query parameters every list endpoint takes; resources add their own filters."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=200, description="Items per page")
    cursor: str | None = Field(
        default=None, max_length=200, description="`next_cursor` from the previous page"
    )


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")
