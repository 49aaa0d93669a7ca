"""CSV import and bulk written consent through HTTP: status codes, field-named errors,
tenancy, and the eligibility answer before and after consent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ringfence.bootstrap import Container
from ringfence.entrypoints.asgi import create_app
from tests.conftest import Tenant

IMPORTS = "/api/v1/contact-imports"
MANUAL = "/api/v1/consents/manual-written"
CSV = (
    "\ufeffMobile,First Name,Last Name,Email\n"
    "(212) 555-0147,Ava,Smith,ava@example.com\n"
    "\n"
    "647-555-0100,Chloé,Martin,\n"
    "555-01,Ben,Jones,\n"
    "212.555.0147,,,\n"
    "212-555-0148,Dee,,\n"
)


def _body(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"location_id": tenant.location_id, "csv_text": CSV, "dry_run": False}
    body.update(fields)
    return body


def _contacts(client: TestClient, tenant: Tenant) -> list[dict[str, Any]]:
    response = client.get("/api/v1/contacts?limit=200", headers=tenant.headers)
    assert response.status_code == 200
    return list(response.json()["items"])


def _locs(response: Any) -> list[list[Any]]:
    return [error["loc"] for error in response.json()["detail"]]


def test_dry_run_previews_then_the_import_commits(client: TestClient, tenant: Tenant) -> None:
    preview = client.post(IMPORTS, json=_body(tenant, dry_run=True), headers=tenant.headers)
    assert preview.status_code == 200, preview.text
    assert _contacts(client, tenant) == []

    committed = client.post(IMPORTS, json=_body(tenant), headers=tenant.headers)
    assert committed.status_code == 201, committed.text
    report = committed.json()
    assert report["dry_run"] is False
    assert report["delimiter"] == ","
    assert report["mapping"] == {
        "Mobile": "phone",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
    }
    assert report["totals"] == {
        "rows": 5,
        "created": 3,
        "merged": 1,
        "rejected": 1,
        "warnings": 1,
    }
    rows = {row["line"]: row for row in report["rows"]}
    assert sorted(rows) == [2, 4, 5, 6, 7]
    assert rows[4]["warnings"][0]["code"] == "number_not_us"
    assert rows[5]["status"] == "rejected"
    assert rows[5]["reasons"] == [
        {
            "code": "invalid_phone",
            "message": "not a valid phone number: '555-01'",
            "column": "Mobile",
        }
    ]
    assert rows[6]["status"] == "merged"
    assert rows[6]["duplicate_of_line"] == 2
    assert rows[6]["contact_id"] == rows[2]["contact_id"]
    # The preview said the same, without ids for contacts not yet created.
    previewed = preview.json()
    assert previewed["totals"] == report["totals"]
    assert [(r["line"], r["status"]) for r in previewed["rows"]] == [
        (r["line"], r["status"]) for r in report["rows"]
    ]
    assert {r["contact_id"] for r in previewed["rows"]} == {None}

    stored = _contacts(client, tenant)
    assert sorted((c["phone"], c["first_name"], c["source"]) for c in stored) == [
        ("+12125550147", "Ava", "import"),
        ("+12125550148", "Dee", "import"),
        ("+16475550100", "Chloé", "import"),
    ]
    for contact in stored:
        consents = client.get(f"/api/v1/contacts/{contact['id']}/consents", headers=tenant.headers)
        assert consents.json() == []
    audit = client.get(
        "/api/v1/audit-events?action=contacts.imported", headers=tenant.headers
    ).json()
    assert [(e["entity_type"], e["entity_id"]) for e in audit["items"]] == [
        ("location", tenant.location_id)
    ]


def _consent_check(client: TestClient, tenant: Tenant, contact_id: int) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/contacts/{contact_id}/call-eligibility?purpose=appointment_confirmation",
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    [check] = [c for c in response.json()["checks"] if c["rule"] == "consent"]
    return dict(check)


def test_written_consent_in_bulk_unlocks_the_consent_rule(
    client: TestClient, tenant: Tenant
) -> None:
    report = client.post(IMPORTS, json=_body(tenant), headers=tenant.headers).json()
    ids = [row["contact_id"] for row in report["rows"] if row["status"] == "created"]
    before = _consent_check(client, tenant, ids[0])
    assert (before["outcome"], before["reason"]) == ("failed", "written_consent_unconfirmed")

    confirmed = client.post(
        MANUAL,
        json={
            "contact_ids": ids,
            "confirmed_by": "Dr. Reyes",
            "note": "Signed intake forms, cabinet B",
            "attestation": True,
        },
        headers=tenant.headers,
    )
    assert confirmed.status_code == 201, confirmed.text
    body = confirmed.json()
    assert body["contact_ids"] == ids
    assert len(body["consent_record_ids"]) == len(ids)
    after = _consent_check(client, tenant, ids[0])
    assert (after["outcome"], after["reason"]) == ("passed", None)
    [record] = client.get(f"/api/v1/contacts/{ids[0]}/consents", headers=tenant.headers).json()
    assert record["id"] == body["consent_record_ids"][0]
    assert (record["kind"], record["confirmed_by"], record["note"]) == (
        "manual_written",
        "Dr. Reyes",
        "Signed intake forms, cabinet B",
    )


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"dry_run": None}, ["body", "dry_run"]),
        ({"csv_text": ""}, ["body", "csv_text"]),
        ({"location_id": 999_999}, ["body", "location_id"]),
        ({"mapping": {"Mobile": "nickname"}}, ["body", "mapping", "Mobile"]),
        ({"mapping": {"Phone": "phone"}}, ["body", "mapping", "Phone"]),
        ({"csv_text": "Name,Email\nAva,ava@example.com\n"}, ["body", "mapping"]),
        ({"csv_text": 'Mobile\n"2125550147\n'}, ["body", "csv_text"]),
        ({"source": "purchased_list"}, ["body", "source"]),
    ],
)
def test_import_errors_name_the_field_and_write_nothing(
    client: TestClient, tenant: Tenant, fields: dict[str, Any], loc: list[str]
) -> None:
    body = _body(tenant, **fields)
    if fields.get("dry_run", False) is None:
        del body["dry_run"]
    response = client.post(IMPORTS, json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text
    assert loc in _locs(response)
    assert _contacts(client, tenant) == []


def test_too_many_rows_is_a_clear_422(client: TestClient, tenant: Tenant) -> None:
    csv_text = "phone\n" + "2125550147\n" * 50_001
    response = client.post(IMPORTS, json=_body(tenant, csv_text=csv_text), headers=tenant.headers)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "csv_text"]
    assert "more than 50000 rows" in error["msg"]
    assert _contacts(client, tenant) == []


@pytest.fixture
def roomy_client(container: Container) -> Iterator[TestClient]:
    """The app with a request-size limit above the import's own 5,000,000 characters."""
    settings = container.settings.model_copy(update={"max_request_bytes": 8_000_000})
    roomy = Container(settings, container.engine, container.session_factory, container.clock)
    with TestClient(create_app(roomy)) as test_client:
        yield test_client


def test_oversized_csv_text_is_refused(
    client: TestClient, roomy_client: TestClient, tenant: Tenant
) -> None:
    huge = "phone\n" + "x" * 5_000_000
    response = roomy_client.post(IMPORTS, json=_body(tenant, csv_text=huge), headers=tenant.headers)
    assert response.status_code == 422
    assert _locs(response) == [["body", "csv_text"]]
    # Under the default 1 MiB request limit, the body never reaches the route.
    default = client.post(IMPORTS, json=_body(tenant, csv_text=huge), headers=tenant.headers)
    assert default.status_code == 413


def _manual(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "contact_ids": [1],
        "confirmed_by": "Dr. Reyes",
        "note": "Intake binder",
        "attestation": True,
    }
    body.update(fields)
    return body


def test_bulk_consent_errors_name_the_field_and_write_nothing(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    report = client.post(IMPORTS, json=_body(tenant), headers=tenant.headers).json()
    mine = [row["contact_id"] for row in report["rows"] if row["status"] == "created"]
    theirs = client.post(
        "/api/v1/contacts",
        json={"location_id": other_tenant.location_id, "first_name": "Zed"},
        headers=other_tenant.headers,
    ).json()["id"]
    cases: list[tuple[dict[str, Any], list[Any]]] = [
        (_manual(contact_ids=mine, attestation=False), ["body", "attestation"]),
        (_manual(contact_ids=mine, confirmed_by=""), ["body", "confirmed_by"]),
        (_manual(contact_ids=mine, note="   "), ["body", "note"]),
        (_manual(contact_ids=[]), ["body", "contact_ids"]),
        (_manual(contact_ids=list(range(1, 1002))), ["body", "contact_ids"]),
        (_manual(contact_ids=[*mine, theirs]), ["body", "contact_ids"]),
        (_manual(contact_ids=mine, file="consent.pdf"), ["body", "file"]),
    ]
    for body, loc in cases:
        response = client.post(MANUAL, json=body, headers=tenant.headers)
        assert response.status_code == 422, (body, response.text)
        assert loc in _locs(response), response.json()
    foreign = client.post(MANUAL, json=_manual(contact_ids=[*mine, theirs]), headers=tenant.headers)
    assert str(theirs) in foreign.json()["detail"][0]["msg"]
    for contact_id in mine:
        consents = client.get(f"/api/v1/contacts/{contact_id}/consents", headers=tenant.headers)
        assert consents.json() == []


def test_routes_need_a_key(client: TestClient, tenant: Tenant) -> None:
    assert client.post(IMPORTS, json=_body(tenant)).status_code == 401
    assert client.post(MANUAL, json=_manual()).status_code == 401
