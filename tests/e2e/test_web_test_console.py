"""The test console inside the staff app: signed in (no key pasted), purposes and patients by
name, what the agent did after each turn, hang-up, and the old address leading here."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from ringfence.agent.events import EndReason
from ringfence.bootstrap import Container
from ringfence.services.console_views import ENDED_WHY, ended_text
from tests.conftest import Tenant, make_tenant
from tests.e2e.web_client import csrf_token, sign_in
from tests.factories import add_voice_agent

CONSOLE = "/app/voice-ai/console"


@pytest.fixture
def agent_id(container: Container, tenant: Tenant) -> int:
    return add_voice_agent(container, tenant, name="Front desk")


@pytest.fixture
def mia(client: TestClient, tenant: Tenant) -> int:
    contact = client.post(
        "/api/v1/contacts",
        json={"location_id": tenant.location_id, "first_name": "Mia", "last_name": "Lopez",
              "phone": "+12125550143"},
        headers=tenant.headers,
    )  # fmt: skip
    assert contact.status_code == 201, contact.text
    return int(contact.json()["id"])


def _start(client: TestClient, **fields: str) -> str:
    page = client.get(CONSOLE)
    answer = client.post(
        CONSOLE, data={"csrf_token": csrf_token(page), **fields}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert re.fullmatch(rf"{CONSOLE}/calls/\d+", location)
    return location


def _say(client: TestClient, call: str, text: str) -> str:
    page = client.get(call)
    answer = client.post(f"{call}/turns", data={"csrf_token": csrf_token(page), "text": text})
    assert answer.status_code == 200, answer.text
    return answer.text


def test_a_signed_in_user_tests_an_agent_as_a_patient(
    client: TestClient, tenant: Tenant, agent_id: int, mia: int
) -> None:
    sign_in(client, tenant)
    page = client.get(f"{CONSOLE}?agent={agent_id}")
    assert page.status_code == 200
    assert 'type="password"' not in page.text  # no key to paste: the session is enough
    assert ">Appointment confirmation</option>" in page.text
    assert "appointment_confirmation</option>" not in page.text  # never the raw code
    assert "Mia Lopez · +12125550143" in page.text
    assert "Mia" in client.get(f"{CONSOLE}?agent={agent_id}&q=lop").text
    assert "Mia Lopez" not in client.get(f"{CONSOLE}?agent={agent_id}&q=zed").text
    assert "Mia Lopez" in client.get(f"{CONSOLE}?agent={agent_id}&q=555-0143").text

    call = _start(
        client, agent_id=str(agent_id), purpose="appointment_confirmation", contact_id=str(mia)
    )
    opened = client.get(call).text
    assert "Test call · Appointment confirmation" in opened
    assert re.search(r"<strong>Agent:</strong> [^<]*Glow Aesthetics", opened)

    asked = _say(client, call, "Wait, am I talking to a robot?")
    assert "<strong>You:</strong> Wait, am I talking to a robot?" in asked
    assert 'data-event="ai_disclosed">Said it is an AI assistant' in asked
    stopped = _say(client, call, "Please stop calling me.")
    assert "Opted the number out" in stopped
    assert 'id="call-ended"' in stopped
    assert 'name="text"' not in stopped  # nothing more to say on an ended call
    token = csrf_token(client.get(call))
    late = client.post(f"{call}/turns", data={"csrf_token": token, "text": "hi"})
    assert late.status_code == 422
    assert "this test call has ended" in late.text


def test_an_unknown_caller_and_hanging_up(
    client: TestClient, tenant: Tenant, agent_id: int
) -> None:
    sign_in(client, tenant)
    missing = client.post(
        CONSOLE,
        data={
            "csrf_token": csrf_token(client.get(CONSOLE)),
            "agent_id": str(agent_id),
            "purpose": "lead_reactivation",
        },
    )
    assert missing.status_code == 422
    assert 'id="e-contact_id"' in missing.text
    assert "choose a patient, or give a phone number" in missing.text

    call = _start(client, agent_id=str(agent_id), purpose="lead_reactivation", phone="2125550100")
    page = client.get(call)
    hung_up = client.post(f"{call}/hangup", data={"csrf_token": csrf_token(page)})
    assert hung_up.status_code == 200  # followed back to the call
    assert "The call has ended: you hung up." in hung_up.text


def test_another_accounts_test_call_and_the_old_address(
    client: TestClient, container: Container, tenant: Tenant, agent_id: int
) -> None:
    sign_in(client, tenant)
    call = _start(client, agent_id=str(agent_id), purpose="treatment_reminder", phone="2125550100")
    rival = make_tenant(container, "Rival")
    other = TestClient(client.app)
    sign_in(other, rival)
    assert other.get(call).status_code == 404
    assert other.get(f"{CONSOLE}?agent={agent_id}").status_code == 404
    page = other.get(CONSOLE)
    forged = other.post(
        f"{call}/turns", data={"csrf_token": csrf_token(page), "text": "stop calling me"}
    )
    assert forged.status_code == 404
    assert client.get(call).text.count("<strong>You:</strong>") == 0  # untouched

    old = client.get("/console", follow_redirects=False)
    assert old.status_code == 308
    assert old.headers["location"] == CONSOLE
    assert client.get("/app/voice-ai").text.count(f'href="{CONSOLE}?agent={agent_id}"') == 1


def test_every_turns_events_are_shown_under_it_after_a_reload(
    client: TestClient, tenant: Tenant, agent_id: int, mia: int
) -> None:
    sign_in(client, tenant)
    call = _start(
        client, agent_id=str(agent_id), purpose="appointment_confirmation", contact_id=str(mia)
    )
    _say(client, call, "Wait, am I talking to a robot?")
    quiet = _say(client, call, "Hmm.")
    assert 'id="console-latest-events">The agent took no action on your last words.' in quiet
    _say(client, call, "Please stop calling me.")

    page = client.get(call).text  # a reload: nothing announced, every turn's events kept
    assert "console-latest-events" not in page
    # Each of your lines up to the next line of the conversation (or its end).
    callee_line = r'<li class="console-line console-line--callee">(.*?)</li>'
    items = re.findall(callee_line + r'\s*(?=<li class="console-line|</ol>)', page, re.S)
    assert len(items) == 3
    robot, hmm, stop = items
    assert 'data-event="ai_disclosed">Said it is an AI assistant' in robot
    assert "data-event" not in hmm
    assert 'data-event="opt_out_applied">Opted the number out' in stop
    assert "ai_disclosed" not in stop
    ended = re.search(r'<p class="notice" id="call-ended">([^<]*)</p>', page)
    assert ended is not None
    assert ended.group(1) == (
        "The call has ended: the patient asked not to be called, so the agent opted the number "
        "out and said goodbye."
    )
    assert "opt out" not in ended.group(1)  # the reason's code is never shown


@pytest.mark.parametrize(
    "reason", ["opt_out", "completed", "urgent_follow_up", "policy_failure", "max_turns",
               "callee_hung_up", "voicemail", "transferred", "abandoned"],
)  # fmt: skip
def test_each_way_a_call_ends_is_a_sentence(reason: str) -> None:
    text = ended_text(reason)
    assert text.startswith("The call has ended: ")
    assert text.endswith(".")
    assert "_" not in text
    assert set(ENDED_WHY) >= {r.value for r in EndReason}
    assert ended_text(None) == "The call has ended."
