"""The plain CRM records' generic use cases, one transaction each (committed here, not by the
route): changing a row field by field (a PATCH with no rule behind it: locations, caller IDs,
tasks, notes) and deleting one.

Every rule is in a service of its own (`contacts.py`, `tags.py`, `locations.py`,
`caller_ids.py`, `agents.py`, `forms.py`, `contact_records.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

RowT = TypeVar("RowT")


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
