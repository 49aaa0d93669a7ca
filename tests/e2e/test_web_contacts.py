"""Patients → Contacts over HTTP: the list (search, location filter, paging, calling status
from the number's ledger), one contact's page (the gate's answer in words, the number's
consent timeline and opt-out, its calls), "Stop calling this number", and tenancy."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.orm import AuditEvent, ConsentRecord, NumberSuppression
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import CallPurpose, CallStatus, ConsentKind
from ringfence.services.call_jobs import CallRequest, enqueue_calls
from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT, _form
from tests.e2e.web_client import csrf_token, sign_in

AVA = "+12125550147"
BEN = "+12125550148"


def _contact(client: TestClient, t: Tenant, first: str, phone: str | None, **fields: Any) -> int:
    body = {"location_id": t.location_id, "first_name": first, "phone": phone} | fields
    made = client.post("/api/v1/contacts", json=body, headers=t.headers)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _consent(client: TestClient, t: Tenant, contact_id: int, **evidence: Any) -> None:
    body = {"kind": "manual_written", "confirmed_by": "Dana", "note": "Signed intake"} | evidence
    made = client.post(f"/api/v1/contacts/{contact_id}/consents", json=body, headers=t.headers)
    assert made.status_code == 201, made.text


def _location(client: TestClient, t: Tenant, name: str) -> int:
    made = client.post(
        "/api/v1/locations", json={"name": name, "time_zone": "America/Chicago"}, headers=t.headers
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _enqueue(container: Container, t: Tenant, contact_id: int) -> int:
    with container.uow() as uow:
        [job_id] = enqueue_calls(
            uow.session,
            account_id=t.account_id,
            requests=[CallRequest(contact_id, CallPurpose.APPOINTMENT_CONFIRMATION)],
            now=uow.clock.now(),
        )
        uow.commit()
    return job_id


def _rows(html: str) -> dict[str, str]:
    """Each listed contact's name and its calling status."""
    found = re.findall(
        r'<a href="/app/contacts/\d+">([^<]+)</a></th>.*?<span class="badge[^"]*">([^<]+)</span>',
        html,
        flags=re.S,
    )
    return dict(found)


def test_the_list_searches_by_name_phone_in_any_spelling_and_email(
    client: TestClient, tenant: Tenant
) -> None:
    _contact(client, tenant, "Ava", AVA, last_name="Stone", email="ava@example.com")
    _contact(client, tenant, "Ben", BEN, last_name="Ortiz")
    sign_in(client, tenant)
    page = client.get("/app/contacts")
    assert page.status_code == 200
    assert "<h1>Contacts</h1>" in page.text
    assert 'href="/app/contacts" aria-current="page"' in page.text  # the menu entry
    assert set(_rows(page.text)) == {"Ava Stone", "Ben Ortiz"}
    assert "(212) 555-0147" in page.text  # shown as staff write it, not E.164
    assert set(_rows(client.get("/app/contacts", params={"q": "ava st"}).text)) == {"Ava Stone"}
    for spelling in ("(212) 555-0148", "212.555.0148", "+1 212 555 0148", "5550148"):
        found = client.get("/app/contacts", params={"q": spelling}).text
        assert set(_rows(found)) == {"Ben Ortiz"}, spelling
    assert set(_rows(client.get("/app/contacts", params={"q": "AVA@EXAMPLE"}).text)) == {
        "Ava Stone"
    }
    none = client.get("/app/contacts", params={"q": "zelda"})
    assert "No contacts match." in none.text
    assert 'value="zelda"' in none.text  # the search is kept in the box


def test_the_location_filter_and_paging_keep_the_filters(
    client: TestClient, tenant: Tenant
) -> None:
    chicago = _location(client, tenant, "Chicago loop")
    _contact(client, tenant, "Ava", AVA)
    for n in range(51):
        _contact(client, tenant, f"Chi{n:02d}", f"+1312555{n:04d}", location_id=chicago)
    sign_in(client, tenant)
    first = client.get("/app/contacts", params={"location": chicago})
    assert "Ava" not in _rows(first.text)
    assert len(_rows(first.text)) == 50
    assert f'<option value="{chicago}" selected>Chicago loop</option>' in first.text
    assert f'href="/app/contacts?location={chicago}&amp;page=2">Next</a>' in first.text
    second = client.get("/app/contacts", params={"location": chicago, "page": 2})
    assert list(_rows(second.text)) == ["Chi50"]
    assert f'href="/app/contacts?location={chicago}&amp;page=1">Previous</a>' in second.text
    assert ">Next</a>" not in second.text
    everyone = client.get("/app/contacts", params={"page": "not a number"})
    assert everyone.status_code == 200
    assert "Ava" in _rows(everyone.text)


def test_the_calling_status_comes_from_the_numbers_ledger(
    client: TestClient, tenant: Tenant, clock: VirtualClock
) -> None:
    callable_ = _contact(client, tenant, "Callable", AVA)
    _consent(client, tenant, callable_)
    opted = _contact(client, tenant, "Opted", "+12125550150")
    _consent(client, tenant, opted)
    _consent(client, tenant, opted, kind="revocation", note="Asked on the phone")
    _contact(client, tenant, "Noconsent", "+12125550151")
    held = _contact(client, tenant, "Held", "+12125550152")
    form_id = _form(client, tenant, GOOD_TEXT)
    _consent(client, tenant, held, kind="revocation")
    clock.advance(timedelta(minutes=5))
    _consent(client, tenant, held, kind="crm_form", form_id=form_id)  # after the opt-out: held
    # One number, two rows: consent was recorded on the first one only, and the row's own
    # fields of the second say nothing about it.
    chicago = _location(client, tenant, "Chicago loop")
    twin = _contact(client, tenant, "Twin", AVA, location_id=chicago)
    # Do Not Disturb set and cleared on one row: its number stays suppressed, which only the
    # ledger tells (neither row carries a flag, and there is no revocation record).
    flagged = _contact(client, tenant, "Flagged", "+12125550153")
    _consent(client, tenant, flagged)
    flagged_twin = _contact(client, tenant, "Flaggedtwin", "+12125550153", location_id=chicago)
    for dnd in (True, False):
        changed = client.patch(
            f"/api/v1/contacts/{flagged}", json={"dnd_voice": dnd}, headers=tenant.headers
        )
        assert changed.status_code == 200, changed.text
    sign_in(client, tenant)
    assert _rows(client.get("/app/contacts").text) == {
        "Callable": "Can be called",
        "Opted": "Opted out",
        "Noconsent": "No consent on file",
        "Held": "Consent held for staff confirmation",
        "Twin": "Can be called",
        "Flagged": "Opted out",
        "Flaggedtwin": "Opted out",
    }
    flagged_page = client.get(f"/app/contacts/{flagged_twin}").text
    assert "Do Not Disturb for calls was switched on" in flagged_page
    page = client.get(f"/app/contacts/{twin}")
    timeline = page.text.split('id="consent-timeline"')[1]
    assert "Written consent confirmed by staff" in timeline
    assert f'<a href="/app/contacts/{callable_}">Callable</a> (same number)' in timeline
    records = re.findall(r'data-record="(\d+)"', timeline)
    assert len(records) == 1
    assert f'href="/app/contacts/{callable_}/consent-evidence#record-{records[0]}"' in timeline
    evidence = client.get(f"/app/contacts/{callable_}/consent-evidence")
    assert f'id="record-{records[0]}"' in evidence.text  # the link lands on the record
    # An opt-out recorded on one row shows on the other's page: the number opted out.
    _consent(client, tenant, callable_, kind="revocation", channel="sms", note="Replied STOP")
    page = client.get(f"/app/contacts/{twin}")
    assert re.search(r'id="calling-status">Opted out<', page.text)
    assert "Withdrew consent" in page.text
    assert "Replied STOP" in page.text
    assert "<strong>Opted out</strong>" in page.text
    assert "consent was withdrawn" in page.text
    assert f'<a href="/app/contacts/{callable_}">Callable</a>, who has the same number' in page.text


def test_can_we_call_answers_in_words_with_the_codes_in_small_print(
    client: TestClient, tenant: Tenant
) -> None:
    imported = _contact(client, tenant, "Imported", BEN, source="import")
    ready = _contact(client, tenant, "Ready", AVA)
    _consent(client, tenant, ready)
    nobody = _contact(client, tenant, "Nonumber", None)
    sign_in(client, tenant)
    page = client.get(f"/app/contacts/{imported}").text
    assert "Can we call this patient?" in page
    assert "<strong>No.</strong>" in page
    assert "nobody has confirmed their written consent to AI calls yet" in page
    assert "Reason code <code>written_consent_unconfirmed</code>" in page
    assert "This patient came from an imported or outside list." in page  # the risk warning
    assert "written_consent_unconfirmed" not in page.replace(
        "<code>written_consent_unconfirmed</code>", ""
    )  # the code appears only in the small print
    yes = client.get(f"/app/contacts/{ready}", params={"purpose": "no_show_recovery"}).text
    assert "<strong>Yes.</strong> A call for no-show recovery could be placed now" in yes
    assert '<option value="no_show_recovery" selected>' in yes
    none = client.get(f"/app/contacts/{nobody}").text
    assert "There is no phone number on file for this patient." in none
    assert re.search(r'id="calling-status">No usable US phone number<', none)
    assert "Stop calling this number" not in none  # no number to stop
    assert 'id="no-calls">No calls yet.' in none


def test_the_call_history_links_each_call_to_its_dashboard_page(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    ava = _contact(client, tenant, "Ava", AVA)
    _consent(client, tenant, ava)
    job_id = _enqueue(container, tenant, ava)
    sign_in(client, tenant)
    page = client.get(f"/app/contacts/{ava}").text
    calls = page.split('id="contact-calls"')[1]
    assert "Appointment confirmation" in calls
    assert "Waiting to be placed" in calls
    assert "2026-11-26 10:00 EST" in calls  # in the location's zone
    link = f"/app/voice-ai/dashboards/outbound/calls/{job_id}?location={tenant.location_id}"
    assert f'href="{link}"' in calls
    assert client.get(link).status_code == 200
    assert "No calls yet." not in page


def test_stop_calling_suppresses_the_number_cancels_calls_and_is_audited(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    ava = _contact(client, tenant, "Ava", AVA)
    _consent(client, tenant, ava)
    twin = _contact(client, tenant, "Twin", AVA, location_id=_location(client, tenant, "Chicago"))
    jobs = [_enqueue(container, tenant, ava), _enqueue(container, tenant, twin)]
    sign_in(client, tenant)
    page = client.get(f"/app/contacts/{ava}")
    assert "Yes, stop calling (212) 555-0147" in page.text
    assert "Calls resume only after the patient gives consent again" in page.text

    refused = client.post(f"/app/contacts/{ava}/stop-calling", data={"note": "no token"})
    assert refused.status_code == 403
    too_long = client.post(
        f"/app/contacts/{ava}/stop-calling",
        data={"csrf_token": csrf_token(page), "note": "x" * 501},
    )
    assert "Nothing changed: the note is at most 500 characters (this one has 501)." in (
        too_long.text
    )
    with container.uow() as uow:
        assert uow.session.scalars(select(NumberSuppression)).all() == []

    done = client.post(
        f"/app/contacts/{ava}/stop-calling",
        data={"csrf_token": csrf_token(page), "note": "Asked at the front desk"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/app/contacts/{ava}"
    after = client.get(f"/app/contacts/{ava}").text
    assert "Calls to (212) 555-0147 stopped at every location" in after  # the flash
    assert re.search(r'id="calling-status">Opted out<', after)
    assert "<strong>Opted out</strong>" in after
    assert "Yes, stop calling" not in after  # no second press
    assert "Asked at the front desk" in after  # in the consent timeline
    assert "This number asked the practice to stop calling" in after
    with container.uow() as uow:
        [entry] = uow.session.scalars(select(NumberSuppression)).all()
        assert (entry.phone_e164, entry.source) == (AVA, "revocation")
        statuses = [uow.session.get(CallJob, job).status for job in jobs]  # type: ignore[union-attr]
        assert statuses == [CallStatus.CANCELED, CallStatus.CANCELED]
        [record] = uow.session.scalars(
            select(ConsentRecord).where(ConsentRecord.kind == ConsentKind.REVOCATION)
        ).all()
        assert record.recorded_by == "web:api_key:test"
        assert record.note is not None
        assert "Asked at the front desk" in record.note
        audited = uow.session.execute(
            select(AuditEvent.action, AuditEvent.actor).where(
                AuditEvent.action.in_(("number.suppressed", "consent.revocation"))
            )
        ).all()
    assert set(audited) == {
        ("number.suppressed", "web:api_key:test"),
        ("consent.revocation", "web:api_key:test"),
    }
    assert re.search(r'id="calling-status">Opted out<', client.get(f"/app/contacts/{twin}").text)


def test_another_tenants_contacts_are_never_shown_or_changed(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, container: Container
) -> None:
    theirs = _contact(client, other_tenant, "Rivalpatient", BEN)
    _consent(client, other_tenant, theirs)
    _contact(client, tenant, "Ours", BEN)
    sign_in(client, tenant)
    listed = client.get("/app/contacts").text
    assert "Rivalpatient" not in listed
    assert "Rivalpatient" not in client.get("/app/contacts", params={"q": "rival"}).text
    page = client.get(f"/app/contacts/{theirs}")
    assert page.status_code == 404
    assert "That contact does not exist in this account." in page.text
    stop = client.post(
        f"/app/contacts/{theirs}/stop-calling", data={"csrf_token": csrf_token(page)}
    )
    assert stop.status_code == 404
    other_location = client.get("/app/contacts", params={"location": other_tenant.location_id})
    assert other_location.status_code == 404
    assert "That location does not exist in this account." in other_location.text
    with container.uow() as uow:
        assert uow.session.scalars(select(NumberSuppression)).all() == []
    # Our contact with the same number sees none of their consent.
    ours = client.get("/app/contacts").text
    assert _rows(ours) == {"Ours": "No consent on file"}
