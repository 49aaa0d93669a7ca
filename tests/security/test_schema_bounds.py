"""Every string and number the API accepts fits the column it is stored in (finding 5).

Before: `value_cents` up to 1e12 went into a 32-bit column and a 101-200 character phone
number label into a 100-character one: PostgreSQL-only 500s (SQLite stores anything). The
bounds are derived here from the ORM, for every field of every resource's create and update
bodies that is stored in a column of the same name, so a new field cannot drift."""

from __future__ import annotations

import typing
from enum import Enum
from typing import Any, Literal

import annotated_types
import pytest
from pydantic import BaseModel
from sqlalchemy import BigInteger, Integer, SmallInteger, String, inspect

from ringfence.entrypoints.api import resources
from ringfence.entrypoints.api.schemas.common import phone_e164, us_phone_e164

INT32_MAX = 2**31 - 1


E164_MAX = 16  # "+" and at most 15 digits: what a normalized phone number is stored as


def _choices(annotation: Any) -> list[str] | None:
    """The values of an enum or Literal field (None: not one)."""
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, Enum):
            return [str(member.value) for member in arg]
        if typing.get_origin(arg) is Literal:
            return [str(value) for value in typing.get_args(arg)]
    return None


def _bounds(model: type[BaseModel], name: str) -> tuple[int | None, int | None]:
    """(max length, maximum value) the model enforces on field `name` (None: unbounded)."""
    field = model.model_fields[name]
    choices = _choices(field.annotation)
    if choices is not None:
        return max(len(c) for c in choices), None
    max_length: int | None = None
    maximum: int | None = None
    metadata: list[Any] = list(field.metadata)
    # Constraints inside an Annotated alias (ShortText, ...) of an optional field.
    for arg in typing.get_args(field.annotation) or (field.annotation,):
        metadata += list(getattr(arg, "__metadata__", ()))
    if any(getattr(item, "func", None) in (phone_e164, us_phone_e164) for item in metadata):
        return E164_MAX, None  # stored normalized, whatever the caller typed
    for item in metadata:
        for constraint in getattr(item, "metadata", [item]):
            if isinstance(constraint, annotated_types.MaxLen):
                max_length = constraint.max_length
            elif isinstance(constraint, annotated_types.Le):
                maximum = int(constraint.le)  # type: ignore[call-overload]
            elif isinstance(constraint, annotated_types.Lt):
                maximum = int(constraint.lt) - 1  # type: ignore[call-overload]
        max_length = getattr(item, "max_length", None) or max_length
    return max_length, maximum


def _cases() -> list[tuple[str, type[BaseModel], str, Any]]:
    cases = []
    for resource in resources.ALL:
        columns = {c.key: c for c in inspect(resource.row_type).columns}
        for body in (resource.create_body, resource.update_body):
            if body is None:
                continue
            for name in body.model_fields:
                if name in columns:
                    cases.append((resource.path, body, name, columns[name].type))
    return cases


@pytest.mark.parametrize(
    ("path", "body", "name", "column"),
    _cases(),
    ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", ""),
)
def test_every_bound_fits_its_column(
    path: str, body: type[BaseModel], name: str, column: Any
) -> None:
    max_length, maximum = _bounds(body, name)
    if isinstance(column, String) and column.length is not None:
        assert max_length is not None, f"{body.__name__}.{name}: unbounded, column {column}"
        assert max_length <= column.length, f"{body.__name__}.{name}: {max_length} > {column}"
    small = isinstance(column, BigInteger | SmallInteger)
    if (
        isinstance(column, Integer)
        and not small
        and _choices(body.model_fields[name].annotation) is None
    ):
        assert maximum is not None, f"{body.__name__}.{name}: unbounded int"
        assert maximum <= INT32_MAX, f"{body.__name__}.{name}: {maximum} > 32 bits"


def test_the_derivation_sees_the_bounds_it_checks() -> None:
    """The helper itself can fail: it finds known bounds."""
    from ringfence.entrypoints.api.schemas.practice import PhoneNumberCreate
    from ringfence.entrypoints.api.schemas.records import OpportunityCreate

    assert _bounds(PhoneNumberCreate, "label")[0] is not None
    assert _bounds(OpportunityCreate, "value_cents")[1] is not None
    assert len(_cases()) > 30
