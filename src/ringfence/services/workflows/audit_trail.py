"""What the audit log keeps about a workflow change: a summary, never the definition itself.

A definition can be long (many steps, webhook bodies), and the log is read by people: it says
which parts changed and how many steps there are, and the name. Test mode gets events of its
own because turning it off is the moment a workflow starts calling real patients.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ringfence.adapters.db.workflows import Workflow
from ringfence.services import audit
from ringfence.services.unit_of_work import TenantScope

ENTITY = "workflow"


def summary(workflow: Workflow) -> dict[str, Any]:
    """The created event's after-image: what the draft is, in a few fields."""
    definition = workflow.definition or {}
    return {
        "name": workflow.name,
        "location_id": workflow.location_id,
        "trigger": workflow.trigger_kind,
        "step_count": len(definition.get("steps") or []),
        "test_mode": bool(definition.get("test_mode")),
    }


def created(session: Session, scope: TenantScope, workflow: Workflow, *, at: datetime) -> None:
    audit.record(
        session,
        scope,
        entity_type=ENTITY,
        entity_id=workflow.id,
        action="workflow.created",
        at=at,
        after=summary(workflow),
    )


def edited(
    session: Session,
    scope: TenantScope,
    workflow: Workflow,
    *,
    name_before: str,
    definition_before: Mapping[str, Any],
    at: datetime,
) -> None:
    """Record the edit (name, step count, the top-level parts that changed), then test mode
    turned on or off; nothing when the save changed nothing."""
    after_definition: Mapping[str, Any] = workflow.definition or {}
    parts = sorted(
        key
        for key in {*definition_before, *after_definition}
        if definition_before.get(key) != after_definition.get(key)
    )
    before = {"name": name_before, "step_count": len(definition_before.get("steps") or [])}
    after = {"name": workflow.name, "step_count": len(after_definition.get("steps") or [])}
    changed = audit.changed_fields(before, after)
    if changed is not None or parts:
        old, new = changed or ({}, {})
        audit.record(
            session,
            scope,
            entity_type=ENTITY,
            entity_id=workflow.id,
            action="workflow.edited",
            at=at,
            before=old,
            after={**new, "changed_parts": parts} if parts else new,
        )
    was_test, is_test = (
        bool(definition_before.get("test_mode")),
        bool(after_definition.get("test_mode")),
    )
    if was_test != is_test:
        audit.record(
            session,
            scope,
            entity_type=ENTITY,
            entity_id=workflow.id,
            action="workflow.test_mode_on" if is_test else "workflow.test_mode_off",
            at=at,
            before={"test_mode": was_test},
            after={"test_mode": is_test},
        )


def published(
    session: Session,
    scope: TenantScope,
    workflow: Workflow,
    *,
    version: int,
    audience: int,
    at: datetime,
) -> None:
    audit.record(
        session,
        scope,
        entity_type=ENTITY,
        entity_id=workflow.id,
        action="workflow.published",
        at=at,
        after={
            "version": version,
            "audience": audience,
            "step_count": len((workflow.definition or {}).get("steps") or []),
        },
    )


def unpublished(
    session: Session, scope: TenantScope, workflow: Workflow, *, canceled: int, at: datetime
) -> None:
    audit.record(
        session,
        scope,
        entity_type=ENTITY,
        entity_id=workflow.id,
        action="workflow.unpublished",
        at=at,
        after={"canceled_calls": canceled},
    )


def deleted(session: Session, scope: TenantScope, workflow: Workflow, *, at: datetime) -> None:
    audit.record(
        session,
        scope,
        entity_type=ENTITY,
        entity_id=workflow.id,
        action="workflow.deleted",
        at=at,
        before={"name": workflow.name, "status": workflow.status.value},
    )
