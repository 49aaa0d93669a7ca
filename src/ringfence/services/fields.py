"""Applying a partial update (PATCH) to a mapped row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from ringfence.services.errors import InvalidField


def apply_fields(row: object, changes: dict[str, Any]) -> None:
    """Set plain columns from a PATCH body; an explicit null on a required column is an error."""
    mapper = inspect(type(row))
    for name, value in changes.items():
        column = mapper.columns.get(name)
        if value is None and column is not None and not column.nullable:
            raise InvalidField(name, "may not be null")
        setattr(row, name, value)
