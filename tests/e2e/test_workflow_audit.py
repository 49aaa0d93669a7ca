"""Every workflow change is in the audit log, whichever way it was made (the JSON API or the
web editor, both of which end in `services/workflows/manage.py`): created, edited (which parts,
not the whole definition), test mode on and off, published, unpublished, deleted."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.orm import AuditEvent
from ringfence.bootstrap import Container
from tests.conftest import Tenant
from tests.e2e.test_web_workflows_http import (
    add_number,
    create_from_template,
    post_form,
    revision,
)
from tests.e2e.web_client import sign_in
from tests.e2e.workflow_practice import confirmation_definition
from tests.factories import add_voice_agent


def _events(container: Container, tenant: Tenant, workflow_id: int) -> list[AuditEvent]:
    with container.uow() as uow:
        rows = list(
            uow.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.account_id == tenant.account_id,
                    AuditEvent.entity_type == "workflow",
                    AuditEvent.entity_id == workflow_id,
                )
                .order_by(AuditEvent.id)
            )
        )
        for row in rows:
            uow.session.expunge(row)
        return rows


def _api(client: TestClient, tenant: Tenant, method: str, path: str, body: Any = None) -> Any:
    response = client.request(method, f"/api/v1{path}", json=body, headers=tenant.headers)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def test_api_workflow_changes_are_audited_with_a_summary_of_what_changed(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    agent_id = add_voice_agent(container, tenant, name="Front desk")
    number_id = add_number(container, tenant)
    definition = confirmation_definition(agent_id, number_id)
    created = _api(
        client,
        tenant,
        "POST",
        "/workflows",
        {"name": "Confirm", "location_id": tenant.location_id, "definition": definition},
    )
    workflow_id = int(created["id"])
    # The same definition again changes nothing: no event.
    _api(client, tenant, "PATCH", f"/workflows/{workflow_id}", {"definition": definition})
    edited = {**definition, "test_mode": True, "steps": definition["steps"][:2]}
    _api(
        client,
        tenant,
        "PATCH",
        f"/workflows/{workflow_id}",
        {"name": "Confirm Botox", "definition": edited},
    )
    _api(client, tenant, "PATCH", f"/workflows/{workflow_id}", {"definition": definition})
    _api(client, tenant, "POST", f"/workflows/{workflow_id}/publish", {})
    _api(client, tenant, "POST", f"/workflows/{workflow_id}/unpublish", {})
    _api(client, tenant, "DELETE", f"/workflows/{workflow_id}")

    events = _events(container, tenant, workflow_id)
    assert [e.action for e in events] == [
        "workflow.created",
        "workflow.edited",
        "workflow.test_mode_on",
        "workflow.edited",
        "workflow.test_mode_off",
        "workflow.published",
        "workflow.unpublished",
        "workflow.deleted",
    ]
    assert {e.actor for e in events} == {"api_key:test"}
    created_event, edit, test_on = events[0], events[1], events[2]
    assert created_event.after == {
        "name": "Confirm",
        "location_id": tenant.location_id,
        "trigger": "appointment_scheduled",
        "step_count": 3,
        "test_mode": False,
    }
    # A summary of the change, never the whole definition.
    assert edit.before == {"name": "Confirm", "step_count": 3}
    assert edit.after == {
        "name": "Confirm Botox",
        "step_count": 2,
        "changed_parts": ["steps", "test_mode"],
    }
    assert "definition" not in (edit.after or {})
    assert test_on.before == {"test_mode": False}
    assert test_on.after == {"test_mode": True}
    assert events[5].after == {"version": 1, "audience": 0, "step_count": 3}
    assert events[6].after == {"canceled_calls": 0}
    assert events[7].before == {"name": "Confirm Botox", "status": "draft"}

    # The audit log page reads them in words and links to the workflow.
    assert sign_in(client, tenant).status_code == 303
    page = client.get("/app/settings/audit")
    assert page.status_code == 200, page.text
    assert "Published a workflow: it can now start calling patients" in page.text
    assert "Turned test mode on for a workflow" in page.text
    assert f'href="/app/workflows/{workflow_id}"' in page.text
    assert "Parts changed" in page.text
    assert "the steps, test mode" in page.text  # the parts in words, not `steps, test_mode`
    assert "Number of steps" in page.text


def test_web_editor_changes_are_audited_the_same_way(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    agent_id = add_voice_agent(container, tenant, name="Front desk")
    number_id = add_number(container, tenant)
    assert sign_in(client, tenant).status_code == 303
    workflow_id = create_from_template(client, tenant, agent_id, number_id)
    editor = client.get(f"/app/workflows/{workflow_id}")
    renamed = post_form(
        client,
        editor,
        f"/app/workflows/{workflow_id}/name",
        {"name": "Botox reminders", "revision": revision(editor)},
    )
    assert renamed.status_code == 303, renamed.text
    listing = client.get("/app/workflows")
    assert post_form(client, listing, f"/app/workflows/{workflow_id}/publish", {}).is_redirect
    assert post_form(client, listing, f"/app/workflows/{workflow_id}/unpublish", {}).is_redirect
    assert post_form(client, listing, f"/app/workflows/{workflow_id}/delete", {}).is_redirect

    events = _events(container, tenant, workflow_id)
    assert [e.action for e in events] == [
        "workflow.created",
        "workflow.edited",
        "workflow.published",
        "workflow.unpublished",
        "workflow.deleted",
    ]
    assert {e.actor for e in events} == {"web:api_key:test"}
    assert events[1].after == {"name": "Botox reminders"}
