"""Voice agent changes are in the audit log, from the API and from the web edit page alike
(both end in `services/agents.py`): created with what it was given, updated with before and
after of the fields that changed only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.orm import AuditEvent
from ringfence.bootstrap import Container
from tests.conftest import Tenant
from tests.e2e.test_web_agent_edit import _edit_path, _form
from tests.e2e.web_client import sign_in

VOICEMAIL = "Hi, this is the AI assistant for Glow. Please call us back at {callback_number}."


def _events(container: Container, tenant: Tenant) -> list[AuditEvent]:
    with container.uow() as uow:
        rows = list(
            uow.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.account_id == tenant.account_id,
                    AuditEvent.entity_type == "voice_agent",
                )
                .order_by(AuditEvent.id)
            )
        )
        for row in rows:
            uow.session.expunge(row)
        return rows


def test_api_create_and_update_are_audited_with_the_changed_fields(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    h = tenant.headers
    created = client.post(
        "/api/v1/voice-agents",
        json={
            "location_id": tenant.location_id,
            "name": "Desk",
            "practice_name": "Glow",
            "callback_number": "+12125550199",
        },
        headers=h,
    )
    assert created.status_code == 201, created.text
    agent_id = created.json()["id"]
    changed = client.patch(
        f"/api/v1/voice-agents/{agent_id}",
        json={"voicemail_script": VOICEMAIL, "name": "Desk", "dialogue_policy": "llm"},
        headers=h,
    )
    assert changed.status_code == 200, changed.text
    # A refused change writes nothing, not even an audit event.
    refused = client.patch(
        f"/api/v1/voice-agents/{agent_id}",
        json={"outbound_opening": "Hello! Do you have a minute?"},
        headers=h,
    )
    assert refused.status_code == 422

    events = _events(container, tenant)
    assert [(e.action, e.entity_id, e.actor) for e in events] == [
        ("voice_agent.created", agent_id, "api_key:test"),
        ("voice_agent.updated", agent_id, "api_key:test"),
    ]
    assert events[0].after is not None
    assert events[0].after["name"] == "Desk"
    assert events[0].after["callback_number"] == "+12125550199"
    assert events[0].after["location_id"] == tenant.location_id
    # Only what changed: the name was sent unchanged.
    assert events[1].before == {"voicemail_script": "", "dialogue_policy": "scripted"}
    assert events[1].after == {"voicemail_script": VOICEMAIL, "dialogue_policy": "llm"}

    assert sign_in(client, tenant).status_code == 303
    page = client.get("/app/settings/audit")
    assert "Changed a voice agent (what it says or how it calls)" in page.text
    assert "AI language model: free conversation within the guardrails" in page.text
    assert f'href="/app/voice-ai/agents/{agent_id}/edit"' in page.text


def test_the_web_edit_page_is_audited_the_same_way(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    created = client.post(
        "/api/v1/voice-agents",
        json={
            "location_id": tenant.location_id,
            "name": "Desk",
            "practice_name": "Glow",
            "callback_number": "+12125550199",
        },
        headers=tenant.headers,
    )
    agent_id = created.json()["id"]
    assert sign_in(client, tenant).status_code == 303
    form = _form(client.get(_edit_path(agent_id)).text)
    saved = client.post(_edit_path(agent_id), data=dict(form, practice_name="Glow Aesthetics"))
    assert saved.status_code == 200, saved.text  # followed to the Voice AI page
    events = _events(container, tenant)
    assert [e.action for e in events] == ["voice_agent.created", "voice_agent.updated"]
    assert events[1].actor == "web:api_key:test"
    assert events[1].before == {"practice_name": "Glow"}
    assert events[1].after == {"practice_name": "Glow Aesthetics"}
