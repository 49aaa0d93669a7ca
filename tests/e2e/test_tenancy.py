"""Tenant isolation on every route: one account's key never reads or changes another's data.

The last test checks that this file exercises every route in the OpenAPI document, so a new
route cannot ship without its cross-tenant check.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import CallPurpose
from ringfence.services.call_jobs import CallRequest, enqueue_calls
from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT
from tests.e2e.web_client import sign_in

EXERCISED: set[tuple[str, str]] = set()  # (method, path template) hit by the intruder

# A harmless, valid PATCH body per resource: the request must fail on tenancy, not validation.
PATCHES: dict[str, dict[str, Any]] = {
    "/locations": {"name": "Hijacked"},
    "/phone-numbers": {"label": "Hijacked"},
    "/voice-agents": {"name": "Hijacked"},
    "/forms": {"name": "Hijacked"},
    "/tags": {"name": "Hijacked"},
    "/contacts": {"first_name": "Hijacked", "dnd_voice": True},
    "/appointments": {"status": "canceled"},
    "/opportunities": {"stage": "lost"},
    "/tasks": {"title": "Hijacked"},
    "/notes": {"body": "Hijacked"},
}


def _call(client: TestClient, method: str, template: str, url: str, **kwargs: Any) -> Any:
    EXERCISED.add((method.upper(), template))
    return client.request(method, url, **kwargs)


def _seed(client: TestClient, t: Tenant) -> dict[str, int]:
    h = t.headers
    loc = t.location_id

    def post(path: str, body: dict[str, Any]) -> int:
        response = client.post(f"/api/v1{path}", json=body, headers=h)
        assert response.status_code == 201, (path, response.text)
        return int(response.json()["id"])

    ids = {"/locations": post("/locations", {"name": "Uptown", "time_zone": "America/Chicago"})}
    ids["/phone-numbers"] = post("/phone-numbers", {"location_id": loc, "e164": "+12125550101"})
    ids["/voice-agents"] = post(
        "/voice-agents", {"location_id": loc, "name": "Desk", "practice_name": "Glow"}
    )
    ids["/forms"] = post(
        "/forms", {"location_id": loc, "name": "Consult", "consent_text": GOOD_TEXT}
    )
    ids["/tags"] = post("/tags", {"name": "VIP"})
    ids["/contacts"] = post(
        "/contacts",
        {"location_id": loc, "first_name": "Ava", "phone": "+12125550102", "tags": ["VIP"]},
    )
    contact = ids["/contacts"]
    ids["/appointments"] = post(
        "/appointments",
        {"contact_id": contact, "starts_at": "2026-12-01T15:00:00Z", "service": "Botox touch-up"},
    )
    ids["/opportunities"] = post(
        "/opportunities", {"contact_id": contact, "name": "Filler", "stage": "consulted"}
    )
    ids["/tasks"] = post("/tasks", {"contact_id": contact, "title": "Call back"})
    ids["/notes"] = post("/notes", {"contact_id": contact, "body": "Prefers mornings"})
    consent = client.post(
        f"/api/v1/contacts/{contact}/consents",
        json={"kind": "crm_form", "form_id": ids["/forms"]},
        headers=h,
    )
    assert consent.status_code == 201
    return ids


def _snapshot(client: TestClient, t: Tenant, ids: dict[str, int]) -> dict[str, Any]:
    state = {
        path: client.get(f"/api/v1{path}/{row_id}", headers=t.headers).json()
        for path, row_id in ids.items()
    }
    state["consents"] = client.get(
        f"/api/v1/contacts/{ids['/contacts']}/consents", headers=t.headers
    ).json()
    state["account"] = client.get("/api/v1/account", headers=t.headers).json()
    return state


def test_no_route_crosses_accounts(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    ids = _seed(client, tenant)
    with container.uow() as uow:
        [job_id] = enqueue_calls(
            uow.session,
            account_id=tenant.account_id,
            requests=[
                CallRequest(contact_id=ids["/contacts"], purpose=CallPurpose.NO_SHOW_RECOVERY)
            ],
            now=uow.clock.now(),
        )
        uow.commit()
    before = _snapshot(client, tenant, ids)
    intruder = other_tenant.headers

    for path, row_id in ids.items():
        listed = _call(
            client, "GET", f"/api/v1{path}", f"/api/v1{path}?limit=200", headers=intruder
        )
        assert listed.status_code == 200
        assert row_id not in {item["id"] for item in listed.json()["items"]} or (
            path == "/locations" and row_id == other_tenant.location_id
        )
        item = f"/api/v1{path}/{{item_id}}"
        url = f"/api/v1{path}/{row_id}"
        assert _call(client, "GET", item, url, headers=intruder).status_code == 404, path
        patched = _call(client, "PATCH", item, url, json=PATCHES[path], headers=intruder)
        assert patched.status_code == 404, (path, patched.text)
        if path not in ("/locations", "/forms"):
            assert _call(client, "DELETE", item, url, headers=intruder).status_code == 404, path

    # Lists show only the intruder's own rows (its location, nothing else).
    locations = client.get("/api/v1/locations", headers=intruder).json()["items"]
    assert [loc["id"] for loc in locations] == [other_tenant.location_id]

    # Naming another account's rows in a body is refused with the field named.
    refs: list[tuple[str, dict[str, Any], str]] = [
        ("/contacts", {"location_id": tenant.location_id, "first_name": "X"}, "location_id"),
        (
            "/phone-numbers",
            {"location_id": tenant.location_id, "e164": "+12125550109"},
            "location_id",
        ),
        (
            "/voice-agents",
            {"location_id": tenant.location_id, "name": "X", "practice_name": "X"},
            "location_id",
        ),
        (
            "/forms",
            {"location_id": tenant.location_id, "name": "X", "consent_text": "X"},
            "location_id",
        ),
        (
            "/appointments",
            {"contact_id": ids["/contacts"], "starts_at": "2026-12-01T15:00:00Z", "service": "X"},
            "contact_id",
        ),
        (
            "/opportunities",
            {"contact_id": ids["/contacts"], "name": "X", "stage": "X"},
            "contact_id",
        ),
        ("/tasks", {"contact_id": ids["/contacts"], "title": "X"}, "contact_id"),
        ("/tasks", {"location_id": tenant.location_id, "title": "X"}, "location_id"),
        ("/notes", {"contact_id": ids["/contacts"], "body": "X"}, "contact_id"),
        (
            "/contact-imports",
            {
                "location_id": tenant.location_id,
                "csv_text": "phone\n2125550102\n",
                "dry_run": False,
            },
            "location_id",
        ),
        (
            "/consents/manual-written",
            {
                "contact_ids": [ids["/contacts"]],
                "confirmed_by": "Mallory",
                "note": "trust me",
                "attestation": True,
            },
            "contact_ids",
        ),
    ]
    for path, body, field in refs:
        response = _call(
            client, "POST", f"/api/v1{path}", f"/api/v1{path}", json=body, headers=intruder
        )
        assert response.status_code == 422, (path, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", field]
    # Every create route is exercised; these need no foreign reference to be checked.
    for path, body in (
        ("/locations", {"name": "Own", "time_zone": "America/Denver"}),
        ("/tags", {"name": "VIP"}),
    ):
        created = _call(
            client, "POST", f"/api/v1{path}", f"/api/v1{path}", json=body, headers=intruder
        )
        assert created.status_code == 201
    own_contact = client.post(
        "/api/v1/contacts",
        json={"location_id": other_tenant.location_id, "first_name": "Own"},
        headers=intruder,
    ).json()["id"]
    foreign_form = client.post(
        f"/api/v1/contacts/{own_contact}/consents",
        json={"kind": "crm_form", "form_id": ids["/forms"]},
        headers=intruder,
    )
    assert foreign_form.status_code == 422
    assert foreign_form.json()["detail"][0]["loc"] == ["body", "form_id"]

    # A tag of the same name in another account is a different tag.
    tagged = client.post(
        "/api/v1/contacts",
        json={"location_id": other_tenant.location_id, "first_name": "T", "tags": ["VIP"]},
        headers=intruder,
    )
    assert tagged.status_code == 201
    assert (
        client.get("/api/v1/contacts?tag=VIP", headers=intruder).json()["items"][0]["id"]
        == (tagged.json()["id"])
    )

    consents = "/api/v1/contacts/{contact_id}/consents"
    url = f"/api/v1/contacts/{ids['/contacts']}/consents"
    assert _call(client, "GET", consents, url, headers=intruder).status_code == 404
    manual = {"kind": "manual_written", "confirmed_by": "Mallory", "note": "trust me"}
    assert _call(client, "POST", consents, url, json=manual, headers=intruder).status_code == 404

    eligibility = "/api/v1/contacts/{contact_id}/call-eligibility"
    url = f"/api/v1/contacts/{ids['/contacts']}/call-eligibility?purpose=no_show_recovery"
    assert _call(client, "GET", eligibility, url, headers=intruder).status_code == 404

    jobs = _call(client, "GET", "/api/v1/call-jobs", "/api/v1/call-jobs", headers=intruder)
    assert jobs.json()["items"] == []
    job_url = f"/api/v1/call-jobs/{job_id}"
    assert (
        _call(client, "GET", "/api/v1/call-jobs/{job_id}", job_url, headers=intruder).status_code
        == 404
    )
    cancel = _call(
        client, "POST", "/api/v1/call-jobs/{job_id}/cancel", f"{job_url}/cancel", headers=intruder
    )
    assert cancel.status_code == 404
    assert client.get(job_url, headers=tenant.headers).json()["status"] == "queued"
    for suffix in ("transcript", "recording"):
        template = f"/api/v1/call-jobs/{{job_id}}/{suffix}"
        hidden = _call(client, "GET", template, f"{job_url}/{suffix}", headers=intruder)
        assert hidden.status_code == 404
    minutes = _call(client, "GET", "/api/v1/minutes", "/api/v1/minutes", headers=intruder)
    assert minutes.json() == []

    agent_call = {"agent_id": ids["/voice-agents"], "phone": "+12125550100"}
    refused = _call(
        client,
        "POST",
        "/api/v1/test-calls",
        "/api/v1/test-calls",
        json=agent_call,
        headers=intruder,
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "agent_id"]
    own_call = client.post("/api/v1/test-calls", json=agent_call, headers=tenant.headers)
    assert own_call.status_code == 201, own_call.text
    turns = "/api/v1/test-calls/{call_id}/turns"
    turn_url = f"/api/v1/test-calls/{own_call.json()['id']}/turns"
    said = _call(client, "POST", turns, turn_url, json={"text": "hello?"}, headers=intruder)
    assert said.status_code == 404
    hangup = "/api/v1/test-calls/{call_id}/hangup"
    hangup_url = f"/api/v1/test-calls/{own_call.json()['id']}/hangup"
    assert _call(client, "POST", hangup, hangup_url, headers=intruder).status_code == 404
    still = client.post(turn_url, json={"text": "hello?"}, headers=tenant.headers)
    assert still.status_code == 200  # the intruder's hang-up ended nothing

    mine = _call(client, "GET", "/api/v1/account", "/api/v1/account", headers=intruder).json()
    assert mine["id"] == other_tenant.account_id
    renamed = _call(
        client,
        "PATCH",
        "/api/v1/account",
        "/api/v1/account",
        json={"name": "Mine"},
        headers=intruder,
    )
    assert renamed.json()["id"] == other_tenant.account_id

    audit = _call(client, "GET", "/api/v1/audit-events", "/api/v1/audit-events", headers=intruder)
    assert all(e["entity_id"] != ids["/contacts"] for e in audit.json()["items"])
    phi_log = "/api/v1/phi-access-log"
    accessed = _call(client, "GET", phi_log, f"{phi_log}?job_id={job_id}", headers=intruder)
    assert accessed.status_code == 200
    assert accessed.json()["items"] == []

    # API keys: the intruder lists only its own, and cannot revoke or rotate another's.
    [victim_key] = [k["id"] for k in client.get("/api/v1/api-keys", headers=tenant.headers).json()]
    keys = _call(client, "GET", "/api/v1/api-keys", "/api/v1/api-keys", headers=intruder)
    assert victim_key not in {k["id"] for k in keys.json()}
    for action in ("revoke", "rotate"):
        template = f"/api/v1/api-keys/{{key_id}}/{action}"
        url = f"/api/v1/api-keys/{victim_key}/{action}"
        assert _call(client, "POST", template, url, headers=intruder).status_code == 404
    made = _call(
        client, "POST", "/api/v1/api-keys", "/api/v1/api-keys", json={"name": "own"},
        headers=intruder,
    )  # fmt: skip
    assert made.status_code == 201
    assert client.get("/api/v1/account", headers=tenant.headers).status_code == 200

    # Staff browser sessions: the intruder sees none of the victim's and cannot end them.
    browser = TestClient(client.app)
    sign_in(browser, tenant)
    sessions = _call(
        client, "GET", "/api/v1/web-sessions", "/api/v1/web-sessions", headers=intruder
    )
    assert sessions.json() == []
    end_all = "/api/v1/web-sessions/end-all"
    assert _call(client, "POST", end_all, end_all, headers=intruder).json() == {"ended": 0}
    assert browser.get("/app/voice-ai", follow_redirects=False).status_code == 200

    _workflows_are_isolated(client, tenant, intruder, ids)
    _kyc_and_evidence_are_isolated(client, tenant, intruder, ids)

    assert _snapshot(client, tenant, ids) == before

    # Every route in the OpenAPI document was exercised above.
    routes = {
        (method.upper(), path)
        for path, operations in client.get("/api/v1/openapi.json").json()["paths"].items()
        for method in operations
    }
    assert routes - EXERCISED == set()


def _kyc_and_evidence_are_isolated(
    client: TestClient, tenant: Tenant, intruder: dict[str, str], ids: dict[str, int]
) -> None:
    """The KYC routes only ever act on the key's own account; another account's contact's
    consent evidence is a 404."""
    mine = client.get("/api/v1/kyc", headers=tenant.headers).json()
    theirs = _call(client, "GET", "/api/v1/kyc", "/api/v1/kyc", headers=intruder).json()
    assert theirs["application"] is None
    application = {
        "legal_name": "Rival Derm LLC",
        "ein": "12-3456780",
        "address": {"street": "1 Main St", "city": "Austin", "state": "TX", "postal_code": "78701"},
        "website": "https://rival.example.com",
        "owners": [{"name": "Mallory", "ownership_percent": 100}],
        "representative": {
            "name": "Mallory",
            "title": "Owner",
            "email": "m@rival.example.com",
            "phone_e164": "+15125550100",
        },
        "use_cases": ["lead_reactivation"],
        "expected_daily_volume": 10,
    }
    submitted = _call(
        client, "PUT", "/api/v1/kyc", "/api/v1/kyc", json=application, headers=intruder
    )
    assert submitted.status_code == 200, submitted.text
    seen = _call(
        client,
        "POST",
        "/api/v1/kyc/acknowledge-approval",
        "/api/v1/kyc/acknowledge-approval",
        headers=intruder,
    )
    assert seen.status_code == 200
    assert client.get("/api/v1/kyc", headers=tenant.headers).json() == mine
    evidence = _call(
        client,
        "GET",
        "/api/v1/contacts/{contact_id}/consents/evidence",
        f"/api/v1/contacts/{ids['/contacts']}/consents/evidence",
        headers=intruder,
    )
    assert evidence.status_code == 404


def _workflows_are_isolated(
    client: TestClient, tenant: Tenant, intruder: dict[str, str], ids: dict[str, int]
) -> None:
    definition = {
        "trigger": {"kind": "contact_tag_added", "tag": "VIP"},
        "steps": [
            {
                "type": "voice_ai_call",
                "action_name": "Call",
                "agent_id": ids["/voice-agents"],
                "from_number_id": ids["/phone-numbers"],
                "purpose": "appointment_confirmation",
            }
        ],
    }
    created = client.post(
        "/api/v1/workflows",
        json={"name": "Mine", "location_id": tenant.location_id, "definition": definition},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    published = client.post(f"/api/v1/workflows/{workflow_id}/publish", headers=tenant.headers)
    assert published.status_code == 200, published.text
    enrolled = client.post(
        "/api/v1/events",
        json={
            "event_id": "e1",
            "type": "contact_tag_added",
            "contact_id": ids["/contacts"],
            "tag": "VIP",
        },
        headers=tenant.headers,
    )
    [enrollment_id] = enrolled.json()["enrollment_ids"]

    listed = _call(client, "GET", "/api/v1/workflows", "/api/v1/workflows", headers=intruder)
    assert listed.json()["items"] == []
    one = "/api/v1/workflows/{workflow_id}"
    url = f"/api/v1/workflows/{workflow_id}"
    assert _call(client, "GET", one, url, headers=intruder).status_code == 404
    patched = _call(client, "PATCH", one, url, json={"name": "Hijacked"}, headers=intruder)
    assert patched.status_code == 404
    assert _call(client, "DELETE", one, url, headers=intruder).status_code == 404
    for action in ("publish", "unpublish", "forecast"):
        template = f"{one}/{action}"
        assert (
            _call(client, "POST", template, f"{url}/{action}", headers=intruder).status_code == 404
        )
    enrollments = _call(client, "GET", f"{one}/enrollments", f"{url}/enrollments", headers=intruder)
    assert enrollments.status_code == 404
    detail = _call(
        client,
        "GET",
        "/api/v1/workflow-enrollments/{enrollment_id}",
        f"/api/v1/workflow-enrollments/{enrollment_id}",
        headers=intruder,
    )
    assert detail.status_code == 404

    # Foreign ids in bodies: the location, the agent and number inside a definition, the
    # contact of an event.
    foreign = _call(
        client,
        "POST",
        "/api/v1/workflows",
        "/api/v1/workflows",
        json={"name": "X", "location_id": tenant.location_id, "definition": definition},
        headers=intruder,
    )
    assert foreign.status_code == 422
    assert foreign.json()["detail"][0]["loc"] == ["body", "location_id"]
    from_template = _call(
        client,
        "POST",
        "/api/v1/workflows/from-template",
        "/api/v1/workflows/from-template",
        json={
            "template": "no_show_recovery",
            "location_id": tenant.location_id,
            "agent_id": ids["/voice-agents"],
            "from_number_id": ids["/phone-numbers"],
        },
        headers=intruder,
    )
    assert from_template.status_code == 422
    templates = _call(
        client, "GET", "/api/v1/workflow-templates", "/api/v1/workflow-templates", headers=intruder
    )
    assert len(templates.json()) == 5
    event = _call(
        client,
        "POST",
        "/api/v1/events",
        "/api/v1/events",
        json={"event_id": "e1", "type": "custom", "name": "x", "contact_id": ids["/contacts"]},
        headers=intruder,
    )
    assert event.status_code == 422
    assert event.json()["detail"][0]["loc"] == ["body", "contact_id"]
    still = client.get(url, headers=tenant.headers).json()
    assert (still["name"], still["status"]) == ("Mine", "published")
