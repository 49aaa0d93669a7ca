"""Enable Outbound Calls over the API: submission, automatic and operator review, the
invalidation of an approval by a legal-detail change, and what it does to queued calls."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, update

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.orm import Account, AuditEvent
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import CallStatus, KycStatus
from tests.conftest import Tenant

GOOD_TEXT = (
    "By checking this box, I agree that Glow Aesthetics may contact me at the phone number I "
    "provided, including with calls using automated technology and an artificial or "
    "AI-generated voice, about my appointments and special offers. Consent is not a condition "
    'of purchase. I can opt out at any time by saying "stop" on a call. See our Terms of '
    "Service and Privacy Policy."
)
WEAK_TEXT = "By submitting this form you agree that we may call you."
OPERATOR = "o" * 40

APPLICATION: dict[str, Any] = {
    "legal_name": "Glow Aesthetics LLC",
    "dba": "Glow Aesthetics",
    "ein": "12-3456789",
    "address": {"street": "10 Park Ave", "city": "New York", "state": "NY", "postal_code": "10016"},
    "website": "https://glow.example.com",
    "owners": [
        {"name": "Dana Reyes", "title": "Managing member", "ownership_percent": 60},
        {"name": "Sam Lee", "title": "Member", "ownership_percent": 40},
    ],
    "representative": {
        "name": "Dana Reyes",
        "title": "Managing member",
        "email": "dana@glow.example.com",
        "phone_e164": "+12125550100",
    },
    "use_cases": ["appointment_confirmation", "no_show_recovery"],
    "expected_daily_volume": 120,
}


@pytest.fixture
def not_enabled(container: Container, tenant: Tenant) -> Tenant:
    with container.uow() as uow:
        uow.session.execute(
            update(Account)
            .where(Account.id == tenant.account_id)
            .values(kyc_status=KycStatus.NOT_STARTED, outbound_enabled=False)
        )
        uow.commit()
    return tenant


def _form(client: TestClient, tenant: Tenant, text: str) -> int:
    made = client.post(
        "/api/v1/forms",
        json={"location_id": tenant.location_id, "name": "Book a consult", "consent_text": text},
        headers=tenant.headers,
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _operator(container: Container) -> dict[str, str]:
    container.settings.operator_token = SecretStr(OPERATOR)
    return {"Authorization": f"Bearer {OPERATOR}"}


def test_a_valid_registration_with_valid_forms_is_approved_automatically(
    client: TestClient, not_enabled: Tenant
) -> None:
    _form(client, not_enabled, GOOD_TEXT)
    assert client.get("/api/v1/kyc", headers=not_enabled.headers).json()["status"] == (
        "not_started"
    )
    answer = client.put("/api/v1/kyc", json=APPLICATION, headers=not_enabled.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["outbound_enabled"], body["decided_by"]) == (
        "approved",
        True,
        "automatic review",
    )
    assert body["approval_seen"] is False
    seen = client.post("/api/v1/kyc/acknowledge-approval", headers=not_enabled.headers)
    assert seen.json()["approval_seen"] is True


def test_every_field_problem_is_named_at_once_and_nothing_is_saved(
    client: TestClient, not_enabled: Tenant
) -> None:
    bad = copy.deepcopy(APPLICATION)
    bad["ein"] = "00-1234567"
    bad["owners"] = [{"name": "A", "ownership_percent": 70}, {"name": "B", "ownership_percent": 50}]
    bad["address"]["state"] = "ZZ"
    answer = client.put("/api/v1/kyc", json=bad, headers=not_enabled.headers)
    assert answer.status_code == 422
    locations = [error["loc"][1:] for error in answer.json()["detail"]]
    assert locations == [["ein"], ["address", "state"], ["owners"]]
    assert client.get("/api/v1/kyc", headers=not_enabled.headers).json()["status"] == (
        "not_started"
    )


def test_a_weak_form_leaves_the_registration_to_an_operator(
    client: TestClient, container: Container, not_enabled: Tenant
) -> None:
    form_id = _form(client, not_enabled, WEAK_TEXT)
    body = client.put("/api/v1/kyc", json=APPLICATION, headers=not_enabled.headers).json()
    assert (body["status"], body["outbound_enabled"]) == ("submitted", False)
    assert any(f"form {form_id}" in reason for reason in body["reasons"])

    operator = _operator(container)
    assert client.get("/api/v1/operator/kyc/pending", headers=not_enabled.headers).status_code == (
        401
    )  # a practice's own key is not an operator's
    pending = client.get("/api/v1/operator/kyc/pending", headers=operator).json()
    assert [p["account_id"] for p in pending] == [not_enabled.account_id]
    refused = client.post(
        f"/api/v1/operator/kyc/{not_enabled.account_id}/decision",
        json={"outcome": "needs_changes", "operator": "ops@ringfence"},
        headers=operator,
    )
    assert refused.status_code == 422  # a reason is required
    asked = client.post(
        f"/api/v1/operator/kyc/{not_enabled.account_id}/decision",
        json={
            "outcome": "needs_changes",
            "reasons": ["fix the consent text of the consult form"],
            "operator": "ops@ringfence",
        },
        headers=operator,
    ).json()
    assert (asked["status"], asked["reasons"]) == (
        "needs_changes",
        ["fix the consent text of the consult form"],
    )
    client.patch(
        f"/api/v1/forms/{form_id}", json={"consent_text": GOOD_TEXT}, headers=not_enabled.headers
    )
    again = client.put("/api/v1/kyc", json=APPLICATION, headers=not_enabled.headers).json()
    assert again["status"] == "approved"


def test_a_legal_detail_change_returns_kyc_to_review_and_pauses_calls_without_losing_them(
    client: TestClient, container: Container, not_enabled: Tenant
) -> None:
    _form(client, not_enabled, GOOD_TEXT)
    assert (
        client.put("/api/v1/kyc", json=APPLICATION, headers=not_enabled.headers).json()["status"]
        == "approved"
    )
    # A harmless change keeps the approval.
    moved = copy.deepcopy(APPLICATION)
    moved["website"] = "https://glowaesthetics.example.com"
    assert (
        client.put("/api/v1/kyc", json=moved, headers=not_enabled.headers).json()["status"]
        == "approved"
    )
    # A change of ownership does not.
    sold = copy.deepcopy(moved)
    sold["owners"] = [{"name": "Dana Reyes", "title": "Owner", "ownership_percent": 100}]
    body = client.put("/api/v1/kyc", json=sold, headers=not_enabled.headers).json()
    assert (body["status"], body["outbound_enabled"]) == ("submitted", True)
    assert body["reasons"] == [
        "the legal name, EIN or ownership changed since the approval: reviewed by a person"
    ]
    # The gate now fails the account's calls with kyc_not_approved (they wait, see below).
    from tests.integration.dispatch.practice import Practice

    practice = Practice(
        container, account_id=not_enabled.account_id, location_id=not_enabled.location_id
    )
    contact = practice.add_contact("+12125550141")
    why = client.get(
        f"/api/v1/contacts/{contact}/call-eligibility?purpose=appointment_confirmation",
        headers=not_enabled.headers,
    ).json()
    assert "kyc_not_approved" in str(why)

    with container.uow() as uow:
        actions = uow.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.account_id == not_enabled.account_id)
            .where(AuditEvent.entity_type == "kyc_registration")
            .order_by(AuditEvent.id)
        ).all()
    assert (
        actions
        == [
            "kyc.submitted",
            "kyc.approved",
            "kyc.updated",
            "kyc.resubmitted_after_material_change",
            "kyc.approved",
        ]
        or actions[-1] == "kyc.resubmitted_after_material_change"
    )


def test_approval_wakes_the_calls_that_waited_for_it(
    client: TestClient, container: Container, not_enabled: Tenant
) -> None:
    from tests.integration.dispatch.practice import Practice

    _form(client, not_enabled, WEAK_TEXT)
    client.put("/api/v1/kyc", json=APPLICATION, headers=not_enabled.headers)
    practice = Practice(
        container, account_id=not_enabled.account_id, location_id=not_enabled.location_id
    )
    (job,) = practice.enqueue(practice.add_contact("+12125550140"))
    with container.uow() as uow:
        uow.session.execute(
            update(CallJob)
            .where(CallJob.id == job)
            .values(
                status=CallStatus.DEFERRED, reason_code="kyc_not_approved", next_attempt_at=None
            )
        )
        uow.commit()
    operator = _operator(container)
    approved = client.post(
        f"/api/v1/operator/kyc/{not_enabled.account_id}/decision",
        json={"outcome": "approved", "operator": "ops@ringfence"},
        headers=operator,
    ).json()
    assert (approved["status"], approved["outbound_enabled"]) == ("approved", True)
    woken = practice.job(job)
    assert woken.next_attempt_at == container.clock.now()
    assert woken.status is CallStatus.DEFERRED  # due now: the dispatcher takes it next tick


def test_the_operator_api_is_off_without_a_token(client: TestClient, tenant: Tenant) -> None:
    answer = client.get("/api/v1/operator/kyc/pending", headers={"Authorization": "Bearer x"})
    assert answer.status_code == 404


def test_the_operator_reviews_from_the_command_line(
    client: TestClient, container: Container, not_enabled: Tenant, database_url: str
) -> None:
    import json

    from typer.testing import CliRunner

    from ringfence.entrypoints.cli import app

    _form(client, not_enabled, WEAK_TEXT)
    client.put("/api/v1/kyc", json=APPLICATION, headers=not_enabled.headers)
    env = {"RINGFENCE_DATABASE_URL": database_url}
    listed = CliRunner().invoke(app, ["kyc", "review", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    [waiting] = json.loads(listed.output)
    assert (waiting["account_id"], waiting["ein"]) == (not_enabled.account_id, "12-3456789")
    assert waiting["reasons"]
    no_reason = CliRunner().invoke(
        app,
        ["kyc", "decide", str(not_enabled.account_id), "--operator", "ops", "--reject"],
        env=env,
    )
    assert no_reason.exit_code == 1
    assert "say why" in no_reason.output
    approved = CliRunner().invoke(
        app,
        ["kyc", "decide", str(not_enabled.account_id), "--operator", "ops", "--approve"],
        env=env,
    )
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.output) == {
        "account_id": not_enabled.account_id,
        "status": "approved",
    }
    assert client.get("/api/v1/kyc", headers=not_enabled.headers).json()["outbound_enabled"] is True
