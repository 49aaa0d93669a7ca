"""The plain CRM records' use cases: create, change or delete one tenant row, one transaction
each (committed here, not by the route).

They run the rules a resource still keeps in `entrypoints/api/resources.py` (locations, caller
IDs, agents, forms, appointments, opportunities, tasks, notes) until those move into services
of their own, as the contact and tag rules have (`contacts.py`, `tags.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

RowT = TypeVar("RowT")


def create(*, uow: UnitOfWork, build: Callable[[], RowT]) -> RowT:
    """The row `build` stores; committed."""
    row = build()
    uow.commit()
    return row


def update(
    *,
    uow: UnitOfWork,
    scope: TenantScope,
    model: type[RowT],
    row_id: int,
    change: Callable[[RowT], None],
) -> RowT:
    """The caller's row `row_id` (else `NotFound`) after `change`; committed."""
    row = get_owned(uow.session, model, row_id, scope)
    change(row)
    uow.session.flush()
    uow.commit()
    return row


def delete(*, uow: UnitOfWork, scope: TenantScope, model: type[RowT], row_id: int) -> None:
    """Delete the caller's row `row_id` (else `NotFound`); committed."""
    row = get_owned(uow.session, model, row_id, scope)
    uow.session.delete(row)
    uow.commit()
