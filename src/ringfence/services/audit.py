"""The append-only audit log: consent, DND, opt-out, KYC and workflow status changes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import AuditEvent
from ringfence.services.unit_of_work import TenantScope


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def snapshot(row: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """The audited fields of `row`, as JSON-ready values."""
    return {name: _jsonable(getattr(row, name)) for name in fields}


def record(
    session: Session,
    scope: TenantScope,
    *,
    entity_type: str,
    entity_id: int,
    action: str,
    at: datetime,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        account_id=scope.account_id,
        actor=scope.actor,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        occurred_at=at,
    )
    session.add(event)
    return event


def record_changes(
    session: Session,
    scope: TenantScope,
    *,
    entity_type: str,
    entity_id: int,
    action: str,
    at: datetime,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> AuditEvent | None:
    """Record only the fields that actually changed; nothing when none did."""
    changed = changed_fields(before, after)
    if changed is None:
        return None
    return record(
        session,
        scope,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        at=at,
        before=changed[0],
        after=changed[1],
    )


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The fields of `after` whose value differs from `before`, as (before, after); None when
    none did."""
    changed = [k for k in after if before.get(k) != after[k]]
    if not changed:
        return None
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}
