"""GET /contacts/{id}/call-eligibility: the gate's answer over real data, explained."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from ringfence.adapters.db.calls import CallJob
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import CallPurpose, CallStatus, CallType
from tests.conftest import Tenant

# Friday 27 Nov 2026, 10:00 in New York (EST, UTC-5); the test clock starts a day earlier.
TEN_AM_NY = "2026-11-27T15:00:00Z"


def _contact(client: TestClient, t: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"location_id": t.location_id, "first_name": "Ava", "phone": "+12125550147"} | fields
    response = client.post("/api/v1/contacts", json=body, headers=t.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _consent(client: TestClient, t: Tenant, contact_id: int, **evidence: Any) -> None:
    body = {"kind": "manual_written", "confirmed_by": "Dana", "note": "Signed form"} | evidence
    response = client.post(f"/api/v1/contacts/{contact_id}/consents", json=body, headers=t.headers)
    assert response.status_code == 201, response.text


def _ask(
    client: TestClient,
    t: Tenant,
    contact_id: int,
    at: str,
    purpose: str = "appointment_confirmation",
) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/contacts/{contact_id}/call-eligibility",
        params={"at": at, "purpose": purpose},
        headers=t.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _check(answer: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(c for c in answer["checks"] if c["rule"] == rule)


def test_consented_contact_in_window_may_be_dialed(client: TestClient, tenant: Tenant) -> None:
    contact = _contact(client, tenant, source="import")
    _consent(client, tenant, contact["id"])
    answer = _ask(client, tenant, contact["id"], TEN_AM_NY)
    assert answer["verdict"] == {
        "status": "dial",
        "reason": None,
        "reason_text": None,
        "until": None,
    }
    assert answer["time_zones"] == ["America/New_York"]
    assert {c["outcome"] for c in answer["checks"]} <= {"passed", "not_applicable"}
    assert [w["code"] for w in answer["warnings"]] == ["imported_contact"]


def test_early_morning_defers_to_ten_local(client: TestClient, tenant: Tenant) -> None:
    contact = _contact(client, tenant)
    _consent(client, tenant, contact["id"])
    answer = _ask(client, tenant, contact["id"], "2026-11-27T12:30:00Z")  # 07:30 in New York
    assert answer["verdict"]["status"] == "deferred"
    assert answer["verdict"]["reason"] == "outside_window"
    assert answer["verdict"]["until"] == TEN_AM_NY
    assert _check(answer, "calling_window")["outcome"] == "deferred"


def test_failures_name_the_rule(client: TestClient, tenant: Tenant) -> None:
    no_consent = _contact(client, tenant, source="import")
    answer = _ask(client, tenant, no_consent["id"], TEN_AM_NY)
    assert answer["verdict"]["status"] == "failed"
    assert answer["verdict"]["reason"] == "written_consent_unconfirmed"
    assert answer["verdict"]["reason_text"]

    dnd = _contact(client, tenant, phone="+12125550148", dnd_voice=True)
    # DND suppressed the number: written consent for it needs the attestation.
    _consent(client, tenant, dnd["id"], attestation=True)
    assert _ask(client, tenant, dnd["id"], TEN_AM_NY)["verdict"]["reason"] == "dnd_voice"

    revoked = _contact(client, tenant, phone="+12125550149")
    _consent(client, tenant, revoked["id"])
    _consent(client, tenant, revoked["id"], kind="revocation", note="said stop")
    assert _ask(client, tenant, revoked["id"], TEN_AM_NY)["verdict"]["reason"] == "consent_revoked"

    canadian = _contact(client, tenant, phone="+16475550100")
    _consent(client, tenant, canadian["id"])
    assert _ask(client, tenant, canadian["id"], TEN_AM_NY)["verdict"]["reason"] == "number_not_us"


def test_dial_history_from_the_call_log_is_counted(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    contact = _contact(client, tenant)
    _consent(client, tenant, contact["id"])
    at = datetime.fromisoformat(TEN_AM_NY)
    with container.uow() as uow:
        for days_ago in (1, 4, 8, 13):
            dialed = at - timedelta(days=days_ago)
            uow.session.add(
                CallJob(
                    account_id=tenant.account_id,
                    location_id=tenant.location_id,
                    contact_id=contact["id"],
                    purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
                    call_type=CallType.LIVE,
                    status=CallStatus.COMPLETED,
                    phone_e164=contact["phone"],
                    dialed_at=dialed,
                    created_at=dialed,
                    updated_at=dialed,
                )
            )
        # A call that failed before dialing never counts.
        uow.session.add(
            CallJob(
                account_id=tenant.account_id,
                location_id=tenant.location_id,
                contact_id=contact["id"],
                purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
                call_type=CallType.LIVE,
                status=CallStatus.FAILED,
                phone_e164=contact["phone"],
                created_at=at,
                updated_at=at,
            )
        )
        uow.commit()
    answer = _ask(client, tenant, contact["id"], TEN_AM_NY)
    assert answer["verdict"]["status"] == "failed"
    assert answer["verdict"]["reason"] == "fourteen_day_cap"
    assert "4" in _check(answer, "number_14_day_cap")["detail"]

    # The oldest dial leaves the rolling window one day later: 3 of 4 used, callable again.
    later = _ask(client, tenant, contact["id"], "2026-11-28T15:00:01Z")
    assert later["verdict"]["status"] == "dial", later["verdict"]


def test_bad_queries_are_field_errors(client: TestClient, tenant: Tenant) -> None:
    contact = _contact(client, tenant)
    url = f"/api/v1/contacts/{contact['id']}/call-eligibility"
    for params, field in (
        ({}, "purpose"),
        ({"purpose": "cold_call"}, "purpose"),
        ({"purpose": "lead_reactivation", "at": "2026-11-27T10:00:00"}, "at"),
    ):
        response = client.get(url, params=params, headers=tenant.headers)
        assert response.status_code == 422, params
        assert response.json()["detail"][0]["loc"][-1] == field
