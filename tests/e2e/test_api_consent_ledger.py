"""Consent and opt-out belong to a phone number within the practice (issue 14), over HTTP.

Each test reproduces one finding that made the gate say "dial" where it must not, through the
API a practice uses, then asks the eligibility endpoint (the dispatcher's own gate) why.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.orm import AuditEvent, ConsentRecord, NumberSuppression
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.vocabulary import CallPurpose, CallStatus
from ringfence.services.call_jobs import CallRequest, enqueue_calls
from ringfence.services.suppression import suppress_number
from ringfence.services.unit_of_work import TenantScope
from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT, WEAK_TEXT, _form
from tests.e2e.test_public_forms import _fill

TEN_AM_NY = "2026-11-27T15:00:00Z"
NUMBER = "+12125550147"


def _contact(client: TestClient, t: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"location_id": t.location_id, "first_name": "Ava", "phone": NUMBER} | fields
    response = client.post("/api/v1/contacts", json=body, headers=t.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _consent(client: TestClient, t: Tenant, contact_id: int, **evidence: Any) -> Any:
    body = {"kind": "manual_written", "confirmed_by": "Dana", "note": "Signed form"} | evidence
    return client.post(f"/api/v1/contacts/{contact_id}/consents", json=body, headers=t.headers)


def _verdict(client: TestClient, t: Tenant, contact_id: int) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/contacts/{contact_id}/call-eligibility",
        params={"at": TEN_AM_NY, "purpose": "appointment_confirmation"},
        headers=t.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _reason(client: TestClient, t: Tenant, contact_id: int) -> str | None:
    return _verdict(client, t, contact_id)["verdict"]["reason"]  # type: ignore[no-any-return]


def _patch(client: TestClient, t: Tenant, contact_id: int, **fields: Any) -> dict[str, Any]:
    response = client.patch(f"/api/v1/contacts/{contact_id}", json=fields, headers=t.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _second_location(client: TestClient, t: Tenant) -> int:
    made = client.post(
        "/api/v1/locations",
        json={"name": "Brooklyn", "time_zone": "America/New_York"},
        headers=t.headers,
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_crm_form_consent_through_a_failing_form_is_refused_naming_why(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    """Finding 1: a form whose text fails the voice scan carried consent the gate dialed on."""
    weak = _form(client, tenant, WEAK_TEXT)
    contact = _contact(client, tenant, source="form")
    answer = _consent(client, tenant, contact["id"], kind="crm_form", form_id=weak)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"][0]
    assert detail["loc"][-1] == "form_id"
    assert "failed the voice-consent scan" in detail["msg"]
    with container.uow() as uow:
        assert uow.session.scalars(select(ConsentRecord)).all() == []
    assert _reason(client, tenant, contact["id"]) == "no_opt_in"
    good = _form(client, tenant, GOOD_TEXT)
    answer = _consent(client, tenant, contact["id"], kind="crm_form", form_id=good)
    assert answer.status_code == 201, answer.text
    assert answer.json()["form_valid"] is True
    assert answer.json()["phone_e164"] == NUMBER
    assert _verdict(client, tenant, contact["id"])["verdict"]["status"] == "dial"


def test_the_opt_out_tag_suppresses_the_number_at_every_contact_and_location(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    """Findings 2 and 3: the "Opted Out" tag was ignored by the gate, and an opt-out at one
    contact left the same number callable as another contact or at another location."""
    client.post("/api/v1/tags", json={"name": "Opted Out"}, headers=tenant.headers)
    first = _contact(client, tenant)
    second = _contact(client, tenant, location_id=_second_location(client, tenant))
    for contact in (first, second):
        assert _consent(client, tenant, contact["id"]).status_code == 201
        assert _verdict(client, tenant, contact["id"])["verdict"]["status"] == "dial"
    with container.uow() as uow:
        job_ids = enqueue_calls(
            uow.session,
            account_id=tenant.account_id,
            requests=[
                CallRequest(contact_id=second["id"], purpose=CallPurpose.APPOINTMENT_CONFIRMATION)
            ],
            now=uow.clock.now(),
        )
        uow.commit()
    _patch(client, tenant, first["id"], tags=["Opted Out"])  # no flag, only the tag
    for contact in (first, second):
        answer = _verdict(client, tenant, contact["id"])
        assert answer["verdict"]["reason"] == "number_suppressed"
        opt_out = next(c for c in answer["checks"] if c["rule"] == "opt_out")
        assert "opt_out_tag" in opt_out["detail"]
    tags = client.get(f"/api/v1/contacts/{second['id']}", headers=tenant.headers).json()["tags"]
    assert "Opted Out" in tags  # the tag mirrors the ledger on every contact with the number
    with container.uow() as uow:
        job = uow.session.get(CallJob, job_ids[0])
        assert job is not None
        assert job.status is CallStatus.CANCELED
        entries = uow.session.scalars(select(NumberSuppression)).all()
        assert [(e.phone_e164, e.source) for e in entries] == [(NUMBER, "opt_out_tag")]
    # The tag mirrors the ledger: it cannot be taken off while the number is suppressed
    # (leaving suppression takes new consent), and the refusal says so.
    refused = client.patch(
        f"/api/v1/contacts/{first['id']}", json={"tags": []}, headers=tenant.headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"][-1] == "tags"
    assert "only consent recorded after the opt-out" in refused.json()["detail"][0]["msg"]
    assert _reason(client, tenant, first["id"]) == "number_suppressed"
    # A third contact saved later with the same number carries the tag from the start.
    third = _contact(client, tenant, location_id=_second_location(client, tenant))
    assert "Opted Out" in third["tags"]
    assert _reason(client, tenant, third["id"]) == "number_suppressed"


def test_a_revocation_on_any_channel_stops_calls(client: TestClient, tenant: Tenant) -> None:
    """Finding 4: a revocation recorded on the SMS channel was ignored by the gate."""
    for channel, phone in (("sms", "+12125550148"), ("email", "+12125550149")):
        contact = _contact(client, tenant, phone=phone)
        assert _consent(client, tenant, contact["id"]).status_code == 201
        revoked = _consent(
            client, tenant, contact["id"], kind="revocation", channel=channel, note="reply STOP"
        )
        assert revoked.status_code == 201, revoked.text
        assert _reason(client, tenant, contact["id"]) == "consent_revoked"


def test_consent_does_not_follow_a_changed_number(client: TestClient, tenant: Tenant) -> None:
    """Finding 5: consent confirmed for one number gave "dial" for the contact's new number."""
    contact = _contact(client, tenant)
    assert _consent(client, tenant, contact["id"]).status_code == 201
    _patch(client, tenant, contact["id"], phone="+13125550100")
    answer = _verdict(client, tenant, contact["id"])
    assert answer["verdict"]["reason"] == "consent_for_other_number"
    consent = next(c for c in answer["checks"] if c["rule"] == "consent")
    assert NUMBER in consent["detail"]


def test_clearing_an_opt_out_needs_new_attested_consent(
    client: TestClient, tenant: Tenant, container: Container, clock: VirtualClock
) -> None:
    """Finding 6: clearing the opt-out flag restored calling on the old consent."""
    contact = _contact(client, tenant)
    assert _consent(client, tenant, contact["id"]).status_code == 201
    _patch(client, tenant, contact["id"], opted_out_at=TEN_AM_NY, opted_out_channel="voice")
    _patch(client, tenant, contact["id"], opted_out_at=None, opted_out_channel=None)
    _patch(client, tenant, contact["id"], dnd_voice=True)
    _patch(client, tenant, contact["id"], dnd_voice=False)
    assert _reason(client, tenant, contact["id"]) == "number_suppressed"
    refused = _consent(client, tenant, contact["id"])
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "attestation"
    clock.advance(timedelta(minutes=5))  # consent at the opt-out's own instant would not lift it
    assert _consent(client, tenant, contact["id"], attestation=True).status_code == 201
    assert _verdict(client, tenant, contact["id"])["verdict"]["status"] == "dial"
    got = client.get(f"/api/v1/contacts/{contact['id']}", headers=tenant.headers).json()
    assert "Opted Out" not in got["tags"]  # lifted: the tag follows the ledger
    with container.uow() as uow:
        actions = list(uow.session.scalars(select(AuditEvent.action)))
    assert "number.suppressed" in actions
    assert "number.suppression_lifted" in actions


def test_a_public_form_submission_after_an_opt_out_is_held_for_staff(
    client: TestClient, tenant: Tenant, container: Container, clock: VirtualClock
) -> None:
    """Anyone can type someone else's number into a form: it must not lift an opt-out."""
    form_id = _form(client, tenant, GOOD_TEXT)
    anonymous = TestClient(client.app)
    _page, data = _fill(anonymous, form_id, phone="(212) 555-0147", consent="yes")
    assert anonymous.post(f"/f/{form_id}", data=data).status_code == 200
    contact_id = client.get(
        "/api/v1/contacts", params={"phone": NUMBER}, headers=tenant.headers
    ).json()["items"][0]["id"]
    assert _verdict(client, tenant, contact_id)["verdict"]["status"] == "dial"
    clock.advance(timedelta(minutes=5))
    _consent(client, tenant, contact_id, kind="revocation", note="said stop on a call")
    clock.advance(timedelta(minutes=5))
    _page, data = _fill(anonymous, form_id, phone="(212) 555-0147", consent="yes")
    assert anonymous.post(f"/f/{form_id}", data=data).status_code == 200
    with container.uow() as uow:
        latest = uow.session.scalars(
            select(ConsentRecord).order_by(ConsentRecord.id.desc())
        ).first()
        assert latest is not None
        assert (latest.kind.value, latest.held) == ("crm_form", True)
    assert _reason(client, tenant, contact_id) == "consent_held_for_confirmation"
    clock.advance(timedelta(minutes=5))
    assert _consent(client, tenant, contact_id, attestation=True).status_code == 201
    assert _verdict(client, tenant, contact_id)["verdict"]["status"] == "dial"


def test_a_revocation_said_while_the_contact_had_no_number_follows_the_new_number(
    client: TestClient, tenant: Tenant, clock: VirtualClock
) -> None:
    """Review finding: a revocation with no number was lost, and the contact was dialed on
    the consent of its new number's other contact."""
    other = _contact(client, tenant, location_id=_second_location(client, tenant))
    assert _consent(client, tenant, other["id"]).status_code == 201
    contact = _contact(client, tenant, phone=None)
    clock.advance(timedelta(minutes=1))
    revoked = _consent(client, tenant, contact["id"], kind="revocation", note="do not call me")
    assert revoked.status_code == 201, revoked.text
    clock.advance(timedelta(minutes=1))
    _patch(client, tenant, contact["id"], phone=NUMBER)
    assert _verdict(client, tenant, contact["id"])["verdict"]["status"] == "failed"
    assert _reason(client, tenant, other["id"]) == "number_suppressed"


def test_an_opt_out_written_after_consent_was_entered_is_not_lifted_by_it(
    client: TestClient, tenant: Tenant, container: Container, clock: VirtualClock
) -> None:
    """Review finding: an opt-out is stamped when it was said (a call's end) but written
    later; consent recorded in between must not count as coming after it."""
    said = _contact(client, tenant)
    twin = _contact(client, tenant, location_id=_second_location(client, tenant))
    assert _consent(client, tenant, said["id"]).status_code == 201
    spoken_at = clock.now()
    clock.advance(timedelta(minutes=5))
    assert _consent(client, tenant, twin["id"]).status_code == 201  # no opt-out on file yet
    with container.uow() as uow:
        suppress_number(
            uow.session,
            TenantScope(tenant.account_id, "test"),
            NUMBER,
            at=spoken_at,  # the call ended before the consent above was entered
            source=SuppressionSource.CALL_OPT_OUT,
            contact_id=said["id"],
        )
        uow.commit()
    for contact in (said, twin):
        assert _reason(client, tenant, contact["id"]) == "number_suppressed"


def test_form_evidence_recorded_through_the_api_after_an_opt_out_is_held(
    client: TestClient, tenant: Tenant, clock: VirtualClock
) -> None:
    """Review finding: a crm_form record through the API lifted an opt-out with no
    attestation, where the same form submitted publicly was held."""
    good = _form(client, tenant, GOOD_TEXT)
    contact = _contact(client, tenant)
    assert _consent(client, tenant, contact["id"]).status_code == 201
    _consent(client, tenant, contact["id"], kind="revocation", channel="sms", note="STOP")
    clock.advance(timedelta(minutes=5))
    recorded = _consent(client, tenant, contact["id"], kind="crm_form", form_id=good)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["held"] is True
    assert _reason(client, tenant, contact["id"]) == "consent_held_for_confirmation"
