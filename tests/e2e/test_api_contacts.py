"""Contacts through HTTP: normalisation, field-named errors, nothing half-written, audit."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Tenant


def _contact(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"location_id": tenant.location_id, "first_name": "Ava"}
    body.update(fields)
    return body


def _count(client: TestClient, tenant: Tenant) -> int:
    response = client.get("/api/v1/contacts?limit=200", headers=tenant.headers)
    assert response.status_code == 200
    return len(response.json()["items"])


def _error_fields(response: Any) -> list[str]:
    return [str(err["loc"][-1]) for err in response.json()["detail"]]


def test_phone_is_stored_as_e164(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/contacts", json=_contact(tenant, phone="(212) 555-0147"), headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["phone"] == "+12125550147"
    assert body["source"] == "api"
    fetched = client.get(f"/api/v1/contacts/{body['id']}", headers=tenant.headers).json()
    assert fetched == body


def test_bad_input_names_the_field_and_writes_nothing(client: TestClient, tenant: Tenant) -> None:
    client.post("/api/v1/tags", json={"name": "VIP"}, headers=tenant.headers)
    cases: list[tuple[dict[str, Any], str]] = [
        (_contact(tenant, phone="555-01"), "phone"),
        (_contact(tenant, phone="+1 123 456 7890"), "phone"),
        (_contact(tenant, tags=["VIP", "No Such Tag"]), "tags"),
        (_contact(tenant, first_name=12345), "first_name"),
        (_contact(tenant, first_name=""), "first_name"),
        (_contact(tenant, dnd_voice="perhaps"), "dnd_voice"),
        (_contact(tenant, source="purchased_list"), "source"),
        (_contact(tenant, postal_code="ABCDE"), "postal_code"),
        (_contact(tenant, opted_out_at="2026-11-01T10:00:00"), "opted_out_at"),
        (_contact(tenant, favourite_colour="teal"), "favourite_colour"),
        (_contact(tenant, location_id=999_999), "location_id"),
        ({"first_name": "Ava"}, "location_id"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/contacts", json=body, headers=tenant.headers)
        assert response.status_code == 422, (body, response.text)
        assert field in _error_fields(response), (body, response.json())
    assert _count(client, tenant) == 0


def test_unknown_tag_does_not_create_the_contact_or_the_tag(
    client: TestClient, tenant: Tenant
) -> None:
    response = client.post(
        "/api/v1/contacts", json=_contact(tenant, tags=["Typo Tag"]), headers=tenant.headers
    )
    assert response.status_code == 422
    assert "Typo Tag" in response.json()["detail"][0]["msg"]
    assert client.get("/api/v1/tags", headers=tenant.headers).json()["items"] == []
    assert _count(client, tenant) == 0


def test_oversized_payloads_are_refused(client: TestClient, tenant: Tenant) -> None:
    huge = _contact(tenant, last_name="x" * 2_000_000)
    response = client.post("/api/v1/contacts", json=huge, headers=tenant.headers)
    assert response.status_code == 413

    def chunks() -> Any:
        yield b'{"location_id": 1, "first_name": "'
        for _ in range(300):
            yield b"y" * 4096
        yield b'"}'

    streamed = client.post(
        "/api/v1/contacts",
        content=chunks(),
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    too_long = client.post(
        "/api/v1/contacts", json=_contact(tenant, last_name="x" * 101), headers=tenant.headers
    )
    assert too_long.status_code == 422
    assert _error_fields(too_long) == ["last_name"]
    assert _count(client, tenant) == 0


def test_duplicate_phone_at_a_location_conflicts(client: TestClient, tenant: Tenant) -> None:
    first = client.post(
        "/api/v1/contacts", json=_contact(tenant, phone="2125550147"), headers=tenant.headers
    )
    assert first.status_code == 201
    second = client.post(
        "/api/v1/contacts", json=_contact(tenant, phone="+1 212-555-0147"), headers=tenant.headers
    )
    assert second.status_code == 409
    assert "+12125550147" in second.json()["detail"]
    assert _count(client, tenant) == 1


def test_dnd_and_opt_out_changes_are_audited(client: TestClient, tenant: Tenant) -> None:
    contact = client.post("/api/v1/contacts", json=_contact(tenant), headers=tenant.headers).json()
    url = f"/api/v1/contacts/{contact['id']}"
    assert client.patch(url, json={"dnd_voice": True}, headers=tenant.headers).status_code == 200
    opted = {"opted_out_at": "2026-11-26T15:00:00Z", "opted_out_channel": "voice"}
    assert client.patch(url, json=opted, headers=tenant.headers).status_code == 200
    assert (
        client.patch(url, json={"first_name": "Avery"}, headers=tenant.headers).status_code == 200
    )

    half = client.patch(url, json={"opted_out_at": None}, headers=tenant.headers)
    assert half.status_code == 422
    assert client.get(url, headers=tenant.headers).json()["opted_out_channel"] == "voice"

    events = client.get(
        f"/api/v1/audit-events?entity_type=contact&entity_id={contact['id']}",
        headers=tenant.headers,
    ).json()["items"]
    assert [e["action"] for e in events] == ["contact.flags_changed", "contact.flags_changed"]
    assert events[0]["before"] == {"dnd_voice": False}
    assert events[0]["after"] == {"dnd_voice": True}
    assert events[0]["actor"] == "api_key:test"
    assert events[1]["after"] == {
        "opted_out_at": "2026-11-26T15:00:00+00:00",
        "opted_out_channel": "voice",
    }


def test_required_fields_cannot_be_nulled(client: TestClient, tenant: Tenant) -> None:
    contact = client.post("/api/v1/contacts", json=_contact(tenant), headers=tenant.headers).json()
    for field in ("first_name", "dnd_voice", "tags"):
        response = client.patch(
            f"/api/v1/contacts/{contact['id']}", json={field: None}, headers=tenant.headers
        )
        assert response.status_code == 422, field
        assert _error_fields(response) == [field]


def test_pagination_and_filters(client: TestClient, tenant: Tenant) -> None:
    client.post("/api/v1/tags", json={"name": "Botox"}, headers=tenant.headers)
    names = ["Ava", "Mia", "Zoe", "Liam", "Noah"]
    for i, name in enumerate(names):
        body = _contact(
            tenant,
            first_name=name,
            phone=f"+1212555010{i}",
            tags=["Botox"] if i % 2 == 0 else [],
            dnd_voice=i == 1,
        )
        assert client.post("/api/v1/contacts", json=body, headers=tenant.headers).status_code == 201

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/contacts", params=params, headers=tenant.headers).json()
        pages += 1
        seen += [c["first_name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert (seen, pages) == (names, 3)

    def first_names(query: str) -> list[str]:
        response = client.get(f"/api/v1/contacts?{query}", headers=tenant.headers)
        assert response.status_code == 200, response.text
        return [c["first_name"] for c in response.json()["items"]]

    assert first_names("tag=Botox") == ["Ava", "Zoe", "Noah"]
    assert first_names("dnd_voice=true") == ["Mia"]
    assert first_names("q=OA") == ["Noah"]
    assert first_names("phone=(212)%20555-0103") == ["Liam"]
    assert first_names(f"location_id={tenant.location_id}&tag=Botox&q=z") == ["Zoe"]

    bad = client.get("/api/v1/contacts?cursor=not-ours", headers=tenant.headers)
    assert bad.status_code == 422
    assert "cursor" in _error_fields(bad)
    unknown = client.get("/api/v1/contacts?colour=teal", headers=tenant.headers)
    assert unknown.status_code == 422
    assert "colour" in _error_fields(unknown)
    too_big = client.get("/api/v1/contacts?limit=100000", headers=tenant.headers)
    assert too_big.status_code == 422
    assert "limit" in _error_fields(too_big)


def test_contacts_with_consent_evidence_cannot_be_deleted(
    client: TestClient, tenant: Tenant
) -> None:
    keep = client.post(
        "/api/v1/contacts", json=_contact(tenant, phone="+12125550147"), headers=tenant.headers
    ).json()
    drop = client.post("/api/v1/contacts", json=_contact(tenant), headers=tenant.headers).json()
    manual = {"kind": "manual_written", "confirmed_by": "Dana", "note": "Signed form in chart"}
    kept = client.post(
        f"/api/v1/contacts/{keep['id']}/consents", json=manual, headers=tenant.headers
    )
    assert kept.status_code == 201, kept.text

    refused = client.delete(f"/api/v1/contacts/{keep['id']}", headers=tenant.headers)
    assert refused.status_code == 409
    assert "consent" in refused.json()["detail"]
    assert (
        client.delete(f"/api/v1/contacts/{drop['id']}", headers=tenant.headers).status_code == 204
    )
    assert client.get(f"/api/v1/contacts/{drop['id']}", headers=tenant.headers).status_code == 404
    assert client.get(f"/api/v1/contacts/{keep['id']}", headers=tenant.headers).status_code == 200


def test_requests_without_a_valid_key_are_refused(client: TestClient, tenant: Tenant) -> None:
    for headers in ({}, {"Authorization": "Bearer rf_wrong"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/contacts", headers=headers)
        assert response.status_code == 401
    assert client.get("/api/v1/openapi.json").status_code == 200
