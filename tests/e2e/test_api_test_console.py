"""Every guardrail through the HTTP test console, and the console's own rules."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.services.console import close_abandoned
from tests.conftest import Tenant
from tests.e2e.web_client import sign_in


@pytest.fixture
def agent_id(client: TestClient, tenant: Tenant) -> int:
    response = client.post(
        "/api/v1/voice-agents",
        json={
            "location_id": tenant.location_id,
            "name": "Front desk",
            "practice_name": "Glow Aesthetics",
            "callback_number": "+12125550199",
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _start(client: TestClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/test-calls", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _say(client: TestClient, tenant: Tenant, call_id: int, text: str) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/test-calls/{call_id}/turns", json={"text": text}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _types(reply: dict[str, Any]) -> list[str]:
    return [e["type"] for e in reply["events"]]


def test_opening_names_the_practice_and_opt_out_ends_the_call(
    client: TestClient, tenant: Tenant, agent_id: int
) -> None:
    call = _start(client, tenant, agent_id=agent_id, phone="(212) 555-0100")
    assert "Glow Aesthetics" in call["agent_text"].split(".")[0]
    reply = _say(client, tenant, call["id"], "Actually, please take me off your list.")
    assert reply["ended"] is True
    assert _types(reply)[0] == "opt_out_applied"
    assert "call_ended" in _types(reply)
    again = client.post(
        f"/api/v1/test-calls/{call['id']}/turns", json={"text": "hello?"}, headers=tenant.headers
    )
    assert again.status_code == 409
    # A dry run: the console's contact is not opted out, and the call is logged as a test.
    jobs = client.get("/api/v1/call-jobs?call_type=test", headers=tenant.headers).json()["items"]
    assert [j["id"] for j in jobs] == [call["id"]]
    assert jobs[0]["status"] == "completed"
    contact = client.get(f"/api/v1/contacts/{jobs[0]['contact_id']}", headers=tenant.headers)
    assert contact.json()["opted_out_at"] is None
    assert (
        client.get("/api/v1/call-jobs?call_type=live", headers=tenant.headers).json()["items"] == []
    )


def test_the_agent_discloses_it_is_an_ai(client: TestClient, tenant: Tenant, agent_id: int) -> None:
    call = _start(client, tenant, agent_id=agent_id, phone="+12125550100")
    reply = _say(client, tenant, call["id"], "Wait, am I talking to a real person?")
    assert "ai_disclosed" in _types(reply)
    assert "AI" in reply["agent_text"]
    assert reply["ended"] is False


def test_clinical_questions_are_deferred_to_staff(
    client: TestClient, tenant: Tenant, agent_id: int
) -> None:
    call = _start(client, tenant, agent_id=agent_id, phone="+12125550100")
    reply = _say(client, tenant, call["id"], "How many units of Botox is safe for my forehead?")
    assert {"deferred_to_staff", "task_created"} <= set(_types(reply))
    assert "unit" not in reply["agent_text"].lower()
    urgent_call = _start(client, tenant, agent_id=agent_id, phone="+12125550100")
    urgent = _say(
        client,
        tenant,
        urgent_call["id"],
        "My lip is getting more swollen and the skin went white after the filler yesterday.",
    )
    tasks = [e for e in urgent["events"] if e["type"] == "task_created"]
    assert tasks
    assert tasks[0]["detail"]["priority"] == "urgent"


def test_confirming_as_the_patient(client: TestClient, tenant: Tenant, agent_id: int) -> None:
    contact = client.post(
        "/api/v1/contacts",
        json={"location_id": tenant.location_id, "first_name": "Jane", "phone": "+12125550142"},
        headers=tenant.headers,
    ).json()
    client.post(
        "/api/v1/appointments",
        json={
            "contact_id": contact["id"],
            "starts_at": "2026-11-28T19:00:00Z",
            "service": "Botox touch-up",
        },
        headers=tenant.headers,
    )
    call = _start(client, tenant, agent_id=agent_id, contact_id=contact["id"])
    assert "Jane" in call["agent_text"]
    assert "Botox" not in call["agent_text"]  # nothing about the visit before identity
    identity = _say(client, tenant, call["id"], "Yes, this is Jane.")
    assert "identity_confirmed" in _types(identity)
    assert "Botox touch-up" in identity["agent_text"]
    confirmed = _say(client, tenant, call["id"], "Yes, I'll be there.")
    assert "appointment_confirmed" in _types(confirmed)
    appointment = client.get(
        f"/api/v1/appointments?contact_id={contact['id']}", headers=tenant.headers
    ).json()["items"][0]
    assert appointment["status"] == "scheduled"  # dry run: nothing applied


def test_bad_requests_name_the_field(client: TestClient, tenant: Tenant, agent_id: int) -> None:
    both = client.post(
        "/api/v1/test-calls",
        json={"agent_id": agent_id},
        headers=tenant.headers,
    )
    assert both.status_code == 422
    assert both.json()["detail"][0]["loc"] == ["body", "contact_id"]
    missing = client.post(
        "/api/v1/test-calls",
        json={"agent_id": 9999, "phone": "+12125550100"},
        headers=tenant.headers,
    )
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "agent_id"]


def test_the_console_page_is_in_the_staff_app(client: TestClient) -> None:
    page = client.get("/console", follow_redirects=False)
    assert page.status_code == 308
    assert page.headers["location"] == "/app/voice-ai/console"


def test_an_agent_without_its_own_callback_number_uses_the_locations_caller_id(
    client: TestClient, tenant: Tenant
) -> None:
    h = tenant.headers
    for e164 in ("+12125550188", "+12125550189"):  # two caller IDs at the location
        client.post(
            "/api/v1/phone-numbers",
            json={"location_id": tenant.location_id, "e164": e164},
            headers=h,
        )
    agent = client.post(
        "/api/v1/voice-agents",
        json={"location_id": tenant.location_id, "name": "Desk", "practice_name": "Glow"},
        headers=h,
    )
    assert agent.status_code == 201, agent.text
    contact = client.post(
        "/api/v1/contacts",
        json={"location_id": tenant.location_id, "first_name": "Mia", "phone": "+12125550143"},
        headers=h,
    ).json()
    call = _start(client, tenant, agent_id=agent.json()["id"], contact_id=contact["id"])
    assert "Glow" in call["agent_text"]


@pytest.mark.parametrize(
    ("number", "region"),
    [("+44 20 7946 0958", "GB"), ("+1 416 555 0123", "CA"), ("+61 2 9374 4000", "AU")],
)
def test_a_caller_id_outside_the_us_is_refused_naming_the_field(
    client: TestClient, tenant: Tenant, number: str, region: str
) -> None:
    """Refused where it is typed, not later as an agent's callback number the user never sent
    (a caller ID is an agent's default callback number)."""
    h = tenant.headers
    refused = client.post(
        "/api/v1/phone-numbers", json={"location_id": tenant.location_id, "e164": number}, headers=h
    )
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["detail"]
    assert error["loc"][-1] == "e164"
    assert f"is a number in {region}: only US numbers can be used" in error["msg"]
    listed = client.get(f"/api/v1/phone-numbers?location_id={tenant.location_id}", headers=h)
    assert listed.json()["items"] == []  # nothing half-written
    agent = client.post(
        "/api/v1/voice-agents",
        json={"location_id": tenant.location_id, "name": "Desk", "practice_name": "Glow"},
        headers=h,
    )
    # The agent then says what is missing, not that a number nobody typed there is invalid.
    assert agent.status_code == 422
    assert "add a caller ID to the location first" in agent.text
    assert number.replace(" ", "") not in agent.text


def test_a_doubtful_opt_out_is_asked_about_then_applied(
    client: TestClient, tenant: Tenant, agent_id: int
) -> None:
    """Confirm on doubt, as staff see it in the console: the agent asks, says nothing else,
    and a "yes" is an opt-out; a clear "no" goes back to the call."""
    call = _start(client, tenant, agent_id=agent_id, phone="(212) 555-0100")
    asked = _say(client, tenant, call["id"], "Cancel.")
    assert asked["agent_text"] == "Would you like us to stop calling this number?"
    assert asked["ended"] is False
    assert _types(asked) == []
    applied = _say(client, tenant, call["id"], "yeah")
    assert applied["ended"] is True
    opt_out = applied["events"][0]
    assert opt_out["type"] == "opt_out_applied"
    assert opt_out["detail"]["rule"] == "confirmed_on_doubt"

    kept = _start(client, tenant, agent_id=agent_id, phone="(212) 555-0100")
    _say(client, tenant, kept["id"], "Cancel.")
    back = _say(client, tenant, kept["id"], "No, that's fine.")
    assert back["ended"] is False
    assert back["agent_text"].startswith("Okay, thank you.")


def test_a_request_for_a_person_is_transferred_while_staff_are_in(
    client: TestClient, tenant: Tenant, agent_id: int
) -> None:
    always = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    saved = client.patch(
        f"/api/v1/voice-agents/{agent_id}",
        json={"transfer_number": "(212) 555-0142", "staff_hours": always},
        headers=tenant.headers,
    )
    assert saved.status_code == 200, saved.text
    call = _start(client, tenant, agent_id=agent_id, phone="(212) 555-0100")
    reply = _say(client, tenant, call["id"], "Can I talk to someone at the front desk, please?")
    assert reply["ended"] is True
    assert "transferring you" in reply["agent_text"]
    assert {"type": "transferred", "detail": {"to": "+12125550142"}} in reply["events"]
    assert {"type": "call_ended", "detail": {"reason": "transferred"}} in reply["events"]


def test_console_calls_are_in_the_test_view_finished_hung_up_or_abandoned(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant, agent_id: int
) -> None:
    """Each console call is a call of the Test view (call log and CSV), never of Live; an
    ended one is Connected with its duration; hung up by the tester, or left open (its last
    message refused, the page closed), it ends too instead of staying In progress."""
    ended = _start(client, tenant, agent_id=agent_id, phone="(212) 555-0101")
    clock.advance(timedelta(seconds=20))
    assert _say(client, tenant, ended["id"], "Please stop calling me.")["ended"] is True
    hung_up = _start(client, tenant, agent_id=agent_id, phone="(212) 555-0102")
    hang_up = f"/api/v1/test-calls/{hung_up['id']}/hangup"
    assert client.post(hang_up, headers=tenant.headers).status_code == 204
    assert client.post(hang_up, headers=tenant.headers).status_code == 409
    left = _start(client, tenant, agent_id=agent_id, phone="(212) 555-0103")
    refused = client.post(
        f"/api/v1/test-calls/{left['id']}/turns", json={"text": ""}, headers=tenant.headers
    )
    assert refused.status_code == 422

    clock.advance(timedelta(minutes=29))
    with container.uow() as uow:
        assert close_abandoned(uow=uow) == 0  # not idle long enough yet
    clock.advance(timedelta(minutes=2))
    with container.uow() as uow:
        assert close_abandoned(uow=uow) == 1

    sign_in(client, tenant)
    outbound = "/app/voice-ai/dashboards/outbound"
    export = client.get(f"{outbound}/export.csv?type=test")
    rows = {int(r["Call ID"]): r for r in csv.DictReader(io.StringIO(export.text))}
    assert set(rows) == {ended["id"], hung_up["id"], left["id"]}
    assert {r["Call Status"] for r in rows.values()} == {"Connected"}
    assert {r["Call Type"] for r in rows.values()} == {"test"}
    assert rows[ended["id"]]["Duration (s)"] == "20"
    live = client.get(f"{outbound}/export.csv")
    assert list(csv.DictReader(io.StringIO(live.text))) == []  # never in a Live figure
    page = client.get(f"{outbound}?type=test")
    assert page.text.count('<tr data-job="') >= 3
    assert "In progress" not in page.text.split('id="call-log"')[1].split("</table>")[0]
