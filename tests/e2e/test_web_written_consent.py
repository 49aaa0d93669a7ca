"""Patients → Contacts → a contact → "Record written consent" over HTTP: the three answers the
service asks for, what recording changes (consent history, calling status, the gate's answer),
every refusal named in plain words with the answers kept, an opted-out number and a held form
sign-up as the service treats them, the audit entry, CSRF and tenancy."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.orm import AuditEvent, ConsentRecord
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import ConsentKind
from ringfence.services.consent import ATTESTATION
from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT, _form
from tests.e2e.web_client import csrf_token, sign_in

AVA = "+12125550147"
BEN = "+12125550148"
GOOD = {"confirmed_by": "Dana Reyes", "note": "Signed intake form v3, paper chart, 2 Dec 2026"}


def _contact(client: TestClient, t: Tenant, first: str, phone: str | None) -> int:
    body = {"location_id": t.location_id, "first_name": first, "phone": phone}
    made = client.post("/api/v1/contacts", json=body, headers=t.headers)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _consent(client: TestClient, t: Tenant, contact_id: int, **evidence: Any) -> None:
    body = {"kind": "manual_written", "confirmed_by": "Dana", "note": "Signed intake"} | evidence
    made = client.post(f"/api/v1/contacts/{contact_id}/consents", json=body, headers=t.headers)
    assert made.status_code == 201, made.text


def _status(html: str) -> str:
    found = re.search(r'id="calling-status">([^<]+)<', html)
    assert found is not None
    return found.group(1)


def _post(client: TestClient, contact_id: int, page: str, **answers: str) -> Any:
    """The form as a browser sends it: its token and the opt-out the page showed."""
    seen = re.search(r'name="opt_out_seen" value="([^"]*)"', page)
    data = {"csrf_token": _token(page)} | answers
    if seen is not None:  # a page without the form (no number) carries none
        data["opt_out_seen"] = seen.group(1)
    return client.post(
        f"/app/contacts/{contact_id}/written-consent", data=data, follow_redirects=False
    )


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _written(container: Container) -> list[tuple[Any, ...]]:
    """Every written-consent record: id, contact, number, who, where, recorded by."""
    with container.uow() as uow:
        rows = uow.session.execute(
            select(
                ConsentRecord.id,
                ConsentRecord.contact_id,
                ConsentRecord.phone_e164,
                ConsentRecord.confirmed_by,
                ConsentRecord.note,
                ConsentRecord.recorded_by,
            ).where(ConsentRecord.kind == ConsentKind.MANUAL_WRITTEN)
        )
        return [tuple(row) for row in rows]


def test_recording_written_consent_makes_the_patient_callable_and_is_audited(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    ava = _contact(client, tenant, "Ava", AVA)
    sign_in(client, tenant)
    page = client.get(f"/app/contacts/{ava}")
    assert _status(page.text) == "No consent on file"
    assert "<code>written_consent_unconfirmed</code>" in page.text
    form = page.text.split('id="written-consent-form"')[1].split("</form>")[0]
    # Exactly the service's three answers, each labelled with help text; the checkbox reads
    # the attestation's exact words, which the audit entry keeps.
    assert sorted(set(re.findall(r'name="([a-z_]+)"', form))) == [
        "attestation",
        "confirmed_by",
        "csrf_token",
        "note",
        "opt_out_seen",  # hidden: the opt-out as the page showed it
    ]
    assert '<label for="wc-confirmed-by">Who checked the signed consent</label>' in form
    assert '<label for="wc-note">Where the signed consent is kept</label>' in form
    assert f"> {ATTESTATION}</label>" in form
    for key in ("confirmed_by", "note", "attestation"):
        assert f'aria-describedby="wc-h-{key}"' in form
        assert f'id="wc-h-{key}"' in form
    assert "<summary>Record written consent</summary>" in page.text

    done = _post(client, ava, page.text, **GOOD, attestation="yes")
    assert done.status_code == 303
    assert done.headers["location"] == f"/app/contacts/{ava}#consent-timeline"
    after = client.get(f"/app/contacts/{ava}").text
    assert "Written consent for calls to (212) 555-0147 recorded under your sign-in." in after
    assert _status(after) == "Can be called"
    assert "written_consent_unconfirmed" not in after  # the gate no longer says so
    timeline = after.split('id="consent-timeline"')[1].split("</table>")[0]
    assert "Written consent confirmed by staff" in timeline
    assert GOOD["note"] in timeline
    [(record_id, *record)] = _written(container)
    assert record == [ava, AVA, GOOD["confirmed_by"], GOOD["note"], "web:api_key:test"]
    with container.uow() as uow:
        [event] = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "consent.manual_written")
        ).all()
        assert (event.actor, event.entity_type, event.entity_id) == (
            "web:api_key:test",
            "contact",
            ava,
        )
        assert event.after is not None
        assert event.after["attestation"] == ATTESTATION
        assert event.after["consent_record_id"] == record_id


def test_each_missing_answer_is_named_in_plain_words_and_the_answers_are_kept(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    ava = _contact(client, tenant, "Ava", AVA)
    sign_in(client, tenant)
    page = client.get(f"/app/contacts/{ava}").text

    nothing = _post(client, ava, page, confirmed_by="  ", note="")
    assert nothing.status_code == 422
    assert "Nothing was recorded: 3 things to correct." in nothing.text
    assert (
        "Who checked the signed consent: enter the name of the person who checked the signed "
        "consent" in nothing.text
    )
    assert (
        "Where the signed consent is kept: say where the signed form or e-signature can be "
        "found" in nothing.text
    )
    assert "Confirmation: tick the box to confirm the written consent is on file" in nothing.text
    assert '<details class="written-consent" open>' in nothing.text  # the form stays open
    assert "confirmed_by" not in nothing.text.split('id="written-consent-errors"')[1][:600]

    no_note = _post(client, ava, page, confirmed_by="Dana Reyes", attestation="yes")
    assert no_note.status_code == 422
    assert "Nothing was recorded: 1 thing to correct." in no_note.text
    assert "Where the signed consent is kept: say where" in no_note.text
    assert "Who checked the signed consent:" not in no_note.text
    assert 'name="confirmed_by" maxlength="200" autocomplete="name" value="Dana Reyes"' in (
        no_note.text
    )
    assert re.search(r'id="wc-attestation" name="attestation" value="yes" checked', no_note.text)
    assert 'id="wc-note" name="note" rows="3" aria-describedby="wc-h-note wc-e-note"' in (
        no_note.text
    )

    unticked = _post(client, ava, page, **GOOD)
    assert unticked.status_code == 422
    assert "Confirmation: tick the box" in unticked.text
    assert f">{GOOD['note']}</textarea>" in unticked.text

    too_long = _post(client, ava, page, confirmed_by="D" * 201, note="x", attestation="yes")
    assert too_long.status_code == 422
    assert "Who checked the signed consent: at most 200 characters" in too_long.text
    assert _written(container) == []
    assert _status(client.get(f"/app/contacts/{ava}").text) == "No consent on file"


def test_an_opted_out_number_takes_new_consent_only_with_the_attestation(
    client: TestClient, tenant: Tenant, container: Container, clock: VirtualClock
) -> None:
    ava = _contact(client, tenant, "Ava", AVA)
    _consent(client, tenant, ava)
    _consent(client, tenant, ava, kind="revocation", note="Said stop on a call")
    clock.advance(timedelta(minutes=5))
    sign_in(client, tenant)
    page = client.get(f"/app/contacts/{ava}").text
    assert _status(page) == "Opted out"
    assert 'id="written-consent-opted-out"' in page
    assert "only do it if the patient signed new consent after opting out" in page

    refused = _post(client, ava, page, **GOOD)
    assert refused.status_code == 422
    assert "Confirmation: tick the box" in refused.text
    assert _status(refused.text) == "Opted out"
    assert len(_written(container)) == 1  # only the one from before the opt-out

    done = _post(client, ava, page, **GOOD, attestation="yes")
    assert done.status_code == 303
    after = client.get(f"/app/contacts/{ava}").text
    assert _status(after) == "Can be called"
    assert "Not opted out now." in after  # consent recorded after the opt-out lifted it
    assert len(_written(container)) == 2
    with container.uow() as uow:
        lifted = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "number.suppression_lifted")
        ).all()
    assert len(lifted) == 1


def test_a_held_form_sign_up_is_shown_and_written_consent_confirms_the_patient(
    client: TestClient, tenant: Tenant, clock: VirtualClock
) -> None:
    held = _contact(client, tenant, "Held", AVA)
    form_id = _form(client, tenant, GOOD_TEXT)
    _consent(client, tenant, held, kind="revocation")
    clock.advance(timedelta(minutes=5))
    _consent(client, tenant, held, kind="crm_form", form_id=form_id)  # after the opt-out: held
    clock.advance(timedelta(minutes=5))
    sign_in(client, tenant)
    page = client.get(f"/app/contacts/{held}").text
    assert _status(page) == "Consent held for staff confirmation"
    assert 'id="written-consent-held"' in page
    assert "it does not count until staff confirm it" in page
    assert _post(client, held, page, **GOOD, attestation="yes").status_code == 303
    assert _status(client.get(f"/app/contacts/{held}").text) == "Can be called"


def test_a_contact_without_a_number_has_nothing_to_record_consent_for(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    nobody = _contact(client, tenant, "Nonumber", None)
    sign_in(client, tenant)
    page = client.get(f"/app/contacts/{nobody}").text
    assert 'id="written-consent-form"' not in page
    assert "add a US phone number for Nonumber before recording their written consent" in page
    refused = _post(client, nobody, page, **GOOD, attestation="yes")
    assert refused.status_code == 422
    assert "This patient: there is no phone number to record consent for" in refused.text
    assert _written(container) == []


def test_another_tenants_contact_is_not_found_and_csrf_is_required(
    client: TestClient, tenant: Tenant, other_tenant: Tenant, container: Container
) -> None:
    theirs = _contact(client, other_tenant, "Rivalpatient", BEN)
    ours = _contact(client, tenant, "Ours", AVA)
    sign_in(client, tenant)
    page = client.get(f"/app/contacts/{ours}").text
    missing = _post(client, theirs, page, **GOOD, attestation="yes")
    assert missing.status_code == 404
    assert "That contact does not exist in this account." in missing.text
    # A refused form of theirs is not found either (never re-rendered with their page).
    assert _post(client, theirs, page, confirmed_by="").status_code == 404

    no_token = client.post(
        f"/app/contacts/{ours}/written-consent", data=GOOD | {"attestation": "yes"}
    )
    assert no_token.status_code == 403
    forged = client.post(
        f"/app/contacts/{ours}/written-consent",
        data=GOOD | {"attestation": "yes", "csrf_token": "forged"},
    )
    assert forged.status_code == 403
    assert _written(container) == []
    assert csrf_token(client.get(f"/app/contacts/{ours}"))  # the page still works


def test_a_page_left_open_never_lifts_an_opt_out_made_after_it_was_shown(
    client: TestClient, tenant: Tenant, container: Container, clock: VirtualClock
) -> None:
    """Review finding: the warning about an opt-out is on the page only if the opt-out was
    there when it was shown; one made while the page stood open refuses the form."""
    ava = _contact(client, tenant, "Ava", AVA)
    sign_in(client, tenant)
    page = client.get(f"/app/contacts/{ava}").text
    assert 'id="written-consent-opted-out"' not in page  # no opt-out to warn about yet
    clock.advance(timedelta(minutes=2))
    _consent(client, tenant, ava, kind="revocation", note="Said stop on a call")  # meanwhile
    clock.advance(timedelta(minutes=2))

    stale = _post(client, ava, page, **GOOD, attestation="yes")
    assert stale.status_code == 303
    shown = client.get(stale.headers["location"]).text
    assert "this number opted out after the page was opened" in shown
    assert _status(shown) == "Opted out"
    assert _written(container) == []

    fresh = client.get(f"/app/contacts/{ava}").text  # read again: the warning is there
    assert 'id="written-consent-opted-out"' in fresh
    assert _post(client, ava, fresh, **GOOD, attestation="yes").status_code == 303
    assert _status(client.get(f"/app/contacts/{ava}").text) == "Can be called"
