"""Forms version their consent text; consent records copy the exact text and never change."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT

# Both versions pass the voice-consent scan: a crm_form consent through a failing version is
# refused (tests/e2e/test_api_consent_ledger.py).
V1 = GOOD_TEXT
V2 = V1 + " Reply HELP for help."


def test_consent_evidence_copies_the_exact_version_shown(
    client: TestClient, tenant: Tenant
) -> None:
    h = tenant.headers
    form = client.post(
        "/api/v1/forms",
        json={"location_id": tenant.location_id, "name": "Book a consult", "consent_text": V1},
        headers=h,
    ).json()
    assert (form["current_version"], form["consent_text"]) == (1, V1)
    assert form["text_sha256"] == hashlib.sha256(V1.encode()).hexdigest()

    updated = client.patch(f"/api/v1/forms/{form['id']}", json={"consent_text": V2}, headers=h)
    assert updated.json()["current_version"] == 2
    assert [v["version"] for v in updated.json()["versions"]] == [1, 2]
    same = client.patch(f"/api/v1/forms/{form['id']}", json={"consent_text": V2}, headers=h)
    assert same.json()["current_version"] == 2  # unchanged text is not a new version

    contact = client.post(
        "/api/v1/contacts",
        json={
            "location_id": tenant.location_id,
            "first_name": "Mia",
            "source": "form",
            "phone": "+12125550147",
        },
        headers=h,
    ).json()
    url = f"/api/v1/contacts/{contact['id']}/consents"
    evidence = {
        "kind": "crm_form",
        "form_id": form["id"],
        "ip_address": "203.0.113.7",
        "user_agent": "Mozilla/5.0",
        "page_url": "https://glow.example/book",
    }
    current = client.post(url, json=evidence, headers=h)
    assert current.status_code == 201, current.text
    assert current.json()["form_version"] == 2
    assert current.json()["consent_text"] == V2
    old = client.post(url, json=evidence | {"form_version": 1}, headers=h).json()
    assert (old["form_version"], old["consent_text"]) == (1, V1)
    assert old["consent_text_sha256"] == hashlib.sha256(V1.encode()).hexdigest()
    missing = client.post(url, json=evidence | {"form_version": 7}, headers=h)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "form_version"]

    revoke = client.post(url, json={"kind": "revocation", "note": "asked by email"}, headers=h)
    assert revoke.status_code == 201
    listed = client.get(url, headers=h).json()
    assert [r["kind"] for r in listed] == ["crm_form", "crm_form", "revocation"]
    assert all(r["recorded_by"] == "api_key:test" for r in listed)

    actions = [
        e["action"]
        for e in client.get("/api/v1/audit-events?entity_type=contact", headers=h).json()["items"]
    ]
    assert actions == ["consent.crm_form", "consent.crm_form", "consent.revocation"]


def test_consent_records_are_append_only(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers
    contact = client.post(
        "/api/v1/contacts",
        json={"location_id": tenant.location_id, "first_name": "Zoe", "phone": "+12125550147"},
        headers=h,
    ).json()
    url = f"/api/v1/contacts/{contact['id']}/consents"
    manual = {"kind": "manual_written", "confirmed_by": "Dana", "note": "Signed intake form"}
    record = client.post(url, json=manual, headers=h).json()
    assert client.patch(f"{url}/{record['id']}", json={"note": "x"}, headers=h).status_code in (
        404,
        405,
    )
    assert client.delete(url, headers=h).status_code == 405
    assert client.put(url, json=manual, headers=h).status_code == 405
    assert len(client.get(url, headers=h).json()) == 1


def test_consent_needs_its_evidence(client: TestClient, tenant: Tenant) -> None:
    h = tenant.headers
    contact = client.post(
        "/api/v1/contacts", json={"location_id": tenant.location_id, "first_name": "Zoe"}, headers=h
    ).json()
    url = f"/api/v1/contacts/{contact['id']}/consents"
    for body in (
        {"kind": "manual_written", "confirmed_by": "Dana"},
        {"kind": "crm_form"},
        {"kind": "opt_in_by_vibes"},
        {"kind": "crm_form", "form_id": 424242},
    ):
        response = client.post(url, json=body, headers=h)
        assert response.status_code == 422, body
    assert client.get(url, headers=h).json() == []
