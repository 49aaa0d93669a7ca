"""Tenant-safe lookups: every id a caller names is checked against the caller's account."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ringfence.services.errors import InvalidField, NotFound
from ringfence.services.unit_of_work import TenantScope


class TenantRow(Protocol):
    id: Any
    account_id: Any


RowT = TypeVar("RowT")


def get_owned(session: Session, model: type[RowT], row_id: int, scope: TenantScope) -> RowT:
    """The row with `row_id` in the caller's account, else NotFound.

    Another account's row is reported exactly like a missing one, so ids cannot be probed.
    """
    id_col: InstrumentedAttribute[int] = getattr(model, "id")  # noqa: B009 - generic model
    account_col: InstrumentedAttribute[int] = getattr(model, "account_id")  # noqa: B009
    row = session.scalars(
        select(model).where(id_col == row_id, account_col == scope.account_id)
    ).first()
    if row is None:
        raise NotFound(f"{getattr(model, '__tablename__', 'row')} {row_id} not found")
    return row


def referenced(
    session: Session, model: type[RowT], row_id: int, scope: TenantScope, *, field: str
) -> RowT:
    """Like get_owned, for an id named in a request body: the error names the field."""
    try:
        return get_owned(session, model, row_id, scope)
    except NotFound as exc:
        raise unknown_reference(field, row_id) from exc


def unknown_reference(field: str, row_id: int) -> InvalidField:
    """The error for an id in a request body that is not the caller's (or does not exist)."""
    return InvalidField(field, f"no such {field.removesuffix('_id')} ({row_id})")
