"""Saving a voice agent runs the guardrail validation; problems name the field."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Tenant


def _agent(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    return {"location_id": tenant.location_id, "name": "Desk", "practice_name": "Glow"} | fields


def _loc(response: Any) -> list[str]:
    return [str(part) for part in response.json()["detail"][0]["loc"]]


def test_agent_openings_are_checked_when_saved(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers
    no_number = client.post("/api/v1/voice-agents", json=_agent(tenant), headers=h)
    assert no_number.status_code == 422
    assert _loc(no_number) == ["body", "callback_number"]

    good = _agent(
        tenant,
        callback_number="(212) 555-0199",
        outbound_opening="Hi, this is the AI assistant for Glow. I'm calling about your visit.",
    )
    created = client.post("/api/v1/voice-agents", json=good, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["callback_number"] == "+12125550199"

    nameless = _agent(
        tenant,
        callback_number="+12125550199",
        outbound_opening="Hi there! I'm calling about your upcoming appointment.",
    )
    refused = client.post("/api/v1/voice-agents", json=nameless, headers=h)
    assert refused.status_code == 422
    assert _loc(refused) == ["body", "outbound_opening"]

    no_opt_out = _agent(
        tenant,
        callback_number="+12125550199",
        outbound_openings={
            "lead_reactivation": "Hi, this is the AI assistant for Glow. We have a new offer."
        },
    )
    refused = client.post("/api/v1/voice-agents", json=no_opt_out, headers=h)
    assert refused.status_code == 422
    assert _loc(refused) == ["body", "outbound_openings", "lead_reactivation"]

    agent_id = created.json()["id"]
    broken = client.patch(
        f"/api/v1/voice-agents/{agent_id}",
        json={"outbound_opening": "Hello! Do you have a minute?"},
        headers=h,
    )
    assert broken.status_code == 422
    unchanged = client.get(f"/api/v1/voice-agents/{agent_id}", headers=h).json()
    assert unchanged["outbound_opening"] == good["outbound_opening"]
    assert len(client.get("/api/v1/voice-agents", headers=h).json()["items"]) == 1
