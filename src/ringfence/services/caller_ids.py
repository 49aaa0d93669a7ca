"""Caller IDs: the numbers a location dials from (local presence improves answer rates).

A number is one caller ID of the account: unique within the account, at whichever location.
Whether another tenant uses the same number is not this one's to learn, so that is no conflict.
"""

from __future__ import annotations

from ringfence.adapters.db.orm import PhoneNumber
from ringfence.services.errors import Conflict
from ringfence.services.locations import referenced_location
from ringfence.services.unit_of_work import AbstractUnitOfWork, TenantScope


def create_caller_id(
    *, uow: AbstractUnitOfWork, scope: TenantScope, location_id: int, e164: str, label: str
) -> PhoneNumber:
    """A new caller ID at one of the caller's locations; committed."""
    # Unique within the account: whether another tenant uses the number is not this one's to
    # learn. Within the account the answer does not say at which location either.
    if uow.caller_ids.in_account(scope, e164) is not None:
        raise Conflict(f"e164: {e164} is already one of this account's caller IDs")
    referenced_location(uow, scope, location_id)
    now = uow.clock.now()
    number = PhoneNumber(
        account_id=scope.account_id,
        location_id=location_id,
        e164=e164,
        label=label,
        created_at=now,
        updated_at=now,
    )
    uow.caller_ids.add(number)
    uow.commit()
    return number
