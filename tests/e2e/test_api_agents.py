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


def test_a_staff_line_needs_business_hours_and_bad_hours_name_the_day(
    client: TestClient, tenant: Tenant
) -> None:
    h = tenant.headers
    base = _agent(tenant, callback_number="+12125550199")
    no_hours = client.post(
        "/api/v1/voice-agents", json=base | {"transfer_number": "+12125550142"}, headers=h
    )
    assert no_hours.status_code == 422
    assert _loc(no_hours) == ["body", "staff_hours"]

    overlapping = base | {"staff_hours": {"mon": ["09:00-13:00", "12:00-17:00"]}}
    refused = client.post("/api/v1/voice-agents", json=overlapping, headers=h)
    assert refused.status_code == 422
    assert _loc(refused) == ["body", "staff_hours"]
    assert "staff_hours.mon: ranges overlap" in refused.text

    good = base | {
        "transfer_number": "(212) 555-0142",
        "staff_hours": {"fri": ["9:00 - 17:00"], "mon": ["13:30-17:00", "09:00-12:30"]},
    }
    created = client.post("/api/v1/voice-agents", json=good, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["transfer_number"] == "+12125550142"
    assert created.json()["staff_hours"] == {
        "mon": ["09:00-12:30", "13:30-17:00"],
        "fri": ["09:00-17:00"],
    }


def test_a_staff_line_may_be_a_pbx_extension_but_nothing_that_breaks_a_header(
    client: TestClient, tenant: Tenant
) -> None:
    h = tenant.headers
    hours = {"staff_hours": {"mon": ["09:00-17:00"]}}
    base = _agent(tenant, callback_number="+12125550199") | hours
    pbx = client.post(
        "/api/v1/voice-agents",
        json=base | {"transfer_number": "sip:frontdesk@pbx.glow.example:5080"},
        headers=h,
    )
    assert pbx.status_code == 201, pbx.text
    assert pbx.json()["transfer_number"] == "sip:frontdesk@pbx.glow.example:5080"
    for bad in ("sip:front desk@pbx", "sip:x@pbx>\r\nVia: evil", "sip:<x>@pbx", "555"):
        refused = client.post(
            "/api/v1/voice-agents", json=base | {"transfer_number": bad}, headers=h
        )
        assert refused.status_code == 422, bad
        assert _loc(refused) == ["body", "transfer_number"]
