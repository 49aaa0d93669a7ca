"""The caller's own account: its name and how long its PHI is kept.

KYC status and the outbound-enabled flag are not changed here: they move only through the
enablement flow (`kyc.py`).
"""

from __future__ import annotations

from typing import TypedDict

from ringfence.adapters.db.orm import Account
from ringfence.domain.vocabulary import KycStatus
from ringfence.services.audit import record_changes, snapshot
from ringfence.services.fields import apply_fields
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

# A change of retention is a compliance fact (what is purged, and from when): audited.
_AUDITED = ("phi_retention_days",)


class AccountChanges(TypedDict, total=False):
    """The account's fields that change (a key present with None clears a nullable one)."""

    name: str | None
    phi_retention_days: int | None


def create_account(*, uow: UnitOfWork, name: str, legal_name: str | None) -> Account:
    """A new account: KYC not started, outbound calling disabled. Committed."""
    now = uow.clock.now()
    account = Account(
        name=name,
        legal_name=legal_name,
        kyc_status=KycStatus.NOT_STARTED,
        outbound_enabled=False,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(account)
    uow.session.flush()
    uow.commit()
    return account


def update_account(*, uow: UnitOfWork, scope: TenantScope, changes: AccountChanges) -> Account:
    """Change the fields present in `changes`; a retention change is audited
    (`phi_retention_changed`). Committed."""
    account = uow.session.get(Account, scope.account_id)
    if account is None:  # the key outlived its account: treated like a bad key
        raise LookupError("account vanished")
    before = snapshot(account, _AUDITED)
    apply_fields(account, dict(changes))
    now = uow.clock.now()
    account.updated_at = now
    record_changes(
        uow.session,
        scope,
        entity_type="account",
        entity_id=account.id,
        action="phi_retention_changed",
        at=now,
        before=before,
        after=snapshot(account, _AUDITED),
    )
    uow.commit()
    return account
