"""The caller's own account and its audit log."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Query

from ringfence.adapters.db.orm import Account, AuditEvent
from ringfence.entrypoints.api.crud import list_page
from ringfence.entrypoints.api.deps import (
    Scope,
)
from ringfence.entrypoints.api.schemas.account import (
    AccountOut,
    AccountUpdate,
    AuditEventOut,
    AuditEventQuery,
)
from ringfence.entrypoints.api.schemas.common import Page
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.services import account as account_rules
from ringfence.services.audit_views import audit_event_filters

router = APIRouter(tags=["account"])


def _account(uow: Uow, scope: Scope) -> Account:
    account = uow.session.get(Account, scope.account_id)
    if account is None:  # the key outlived its account: treat like a bad key
        raise LookupError("account vanished")
    return account


@router.get("/account", response_model=AccountOut, summary="The API key's account")
def read_account(uow: Uow, scope: Scope) -> AccountOut:
    """KYC status and the outbound-enabled flag are read-only here: they change through the
    enablement flow, never by a plain edit."""
    return AccountOut.model_validate(_account(uow, scope))


@router.patch(
    "/account", response_model=AccountOut, summary="Rename the account, set PHI retention"
)
def update_account(uow: Uow, scope: Scope, body: AccountUpdate) -> AccountOut:
    """Only the fields present change. A change of `phi_retention_days` is audited (action
    `phi_retention_changed`) and applies from the next purge, hourly: shortening it purges
    every older recording and transcript then, and nothing purged comes back."""
    # The schema's field names are AccountChanges' keys.
    changes = cast(account_rules.AccountChanges, body.model_dump(exclude_unset=True))
    account = account_rules.update_account(uow=uow, scope=scope, changes=changes)
    return AccountOut.model_validate(account)


@router.get("/audit-events", response_model=Page[AuditEventOut], summary="The audit log")
def list_audit_events(
    uow: Uow, scope: Scope, query: Annotated[AuditEventQuery, Query()]
) -> Page[AuditEventOut]:
    """Append-only record of changes to consent, DND, opt-out, KYC and workflow status."""
    clauses = audit_event_filters(
        entity_type=query.entity_type, entity_id=query.entity_id, action=query.action
    )
    rows, next_cursor = list_page(uow.session, AuditEvent, scope, clauses, query)
    return Page[AuditEventOut](
        items=[AuditEventOut.model_validate(r) for r in rows], next_cursor=next_cursor
    )
