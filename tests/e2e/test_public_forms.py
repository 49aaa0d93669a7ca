"""CRM-hosted forms through their real public page: the exact consent evidence, the contact,
the workflow trigger, and a form whose text cannot carry voice consent."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.orm import ConsentRecord, Contact
from ringfence.adapters.db.workflows import WorkflowEvent
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import ConsentKind, ContactSource
from ringfence.services.forms import text_sha256
from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT, WEAK_TEXT, _form

_SHOWN = re.compile(r'name="shown" value="([^"]+)"')


def _fill(client: TestClient, form_id: int, **fields: str) -> tuple[str, dict[str, str]]:
    page = client.get(f"/f/{form_id}")
    assert page.status_code == 200
    shown = _SHOWN.search(page.text)
    assert shown is not None
    data = {"shown": shown.group(1), "first_name": "Ana", "last_name": "Diaz"} | fields
    return page.text, data


def test_a_ticked_box_on_the_public_page_records_the_exact_evidence(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    form_id = _form(client, tenant, GOOD_TEXT)
    anonymous = TestClient(client.app)
    page, data = _fill(anonymous, form_id, phone="(212) 555-0147", consent="yes")
    assert GOOD_TEXT.replace('"', "&#34;") in page  # rendered exactly, escaped
    assert 'type="checkbox" name="consent" value="yes" id="consent-box">' in page  # unchecked
    # The practice edits the text after the page was shown: the evidence keeps what was shown.
    client.patch(
        f"/api/v1/forms/{form_id}",
        json={"consent_text": GOOD_TEXT + " (v2)"},
        headers=tenant.headers,
    )
    answer = anonymous.post(
        f"/f/{form_id}",
        data=data,
        headers={"User-Agent": "Mozilla/5.0 (iPhone)", "Referer": "https://glow.example/book"},
    )
    assert answer.status_code == 200
    assert "Thank you" in answer.text
    with container.uow() as uow:
        contact = uow.session.scalars(
            select(Contact).where(Contact.phone_e164 == "+12125550147")
        ).one()
        record = uow.session.scalars(
            select(ConsentRecord).where(ConsentRecord.contact_id == contact.id)
        ).one()
        events = uow.session.scalars(
            select(WorkflowEvent.kind).where(WorkflowEvent.contact_id == contact.id)
        ).all()
        uow.session.expunge_all()  # read after the block as they were
    assert (contact.first_name, contact.source) == ("Ana", ContactSource.FORM)
    assert record.kind is ConsentKind.CRM_FORM
    assert (record.form_id, record.form_version) == (form_id, 1)
    assert record.consent_text == GOOD_TEXT
    assert record.consent_text_sha256 == text_sha256(GOOD_TEXT)
    assert record.recorded_at == container.clock.now()
    assert record.ip_address == "testclient"
    assert record.user_agent == "Mozilla/5.0 (iPhone)"
    assert record.page_url == "https://glow.example/book"
    assert events == ["form_submitted"]

    evidence = client.get(
        f"/api/v1/contacts/{contact.id}/consents/evidence", headers=tenant.headers
    ).json()
    assert evidence["voice_consent_in_force"] is True
    assert evidence["records"][0]["text_matches_hash"] is True
    assert evidence["records"][0]["consent_text"] == GOOD_TEXT


def test_an_unticked_box_or_an_invalid_text_creates_the_contact_without_voice_consent(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    good = _form(client, tenant, GOOD_TEXT)
    weak = _form(client, tenant, WEAK_TEXT)
    anonymous = TestClient(client.app)
    _page, data = _fill(anonymous, good, phone="2125550148")
    assert anonymous.post(f"/f/{good}", data=data).status_code == 200
    _page, data = _fill(anonymous, weak, phone="2125550149", consent="yes")
    assert anonymous.post(f"/f/{weak}", data=data).status_code == 200
    with container.uow() as uow:
        phones = set(uow.session.scalars(select(Contact.phone_e164)).all())
        records = uow.session.scalars(select(ConsentRecord)).all()
    assert {"+12125550148", "+12125550149"} <= phones
    assert records == []


def test_bad_input_is_named_and_keeps_what_was_typed(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    form_id = _form(client, tenant, GOOD_TEXT)
    anonymous = TestClient(client.app)
    _page, data = _fill(anonymous, form_id, phone="12345", first_name="", consent="yes")
    answer = anonymous.post(f"/f/{form_id}", data=data)
    assert answer.status_code == 422
    assert "please enter your first name" in answer.text
    assert "please enter a valid US mobile or phone number" in answer.text
    assert 'value="Diaz"' in answer.text
    tampered = dict(data, shown=data["shown"][:-3] + "abc", first_name="Ana", phone="2125550150")
    assert anonymous.post(f"/f/{form_id}", data=tampered).status_code == 400
    with container.uow() as uow:
        assert uow.session.scalars(select(ConsentRecord)).all() == []
    assert anonymous.get("/f/999999").status_code == 404


def test_a_too_long_name_gets_the_forms_own_error_not_a_raw_page(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    """A patient who pastes too much sees the form again with the field's error (the page's
    inputs carry maxlength too), never a JSON validation error."""
    form_id = _form(client, tenant, GOOD_TEXT)
    anonymous = TestClient(client.app)
    page, data = _fill(anonymous, form_id, phone="2125550151", first_name="A" * 150)
    assert 'name="first_name" autocomplete="given-name" maxlength="100"' in page
    assert 'name="email" autocomplete="email" maxlength="254"' in page
    answer = anonymous.post(f"/f/{form_id}", data=data | {"email": "a@" + "b" * 300 + ".com"})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.text.count("please use at most") == 2
    assert "please use at most 100 characters" in answer.text
    assert "please use at most 254 characters" in answer.text
    with container.uow() as uow:
        assert (
            uow.session.scalars(select(Contact).where(Contact.phone_e164 == "+12125550151")).all()
            == []
        )


def test_every_new_consent_text_is_scanned_and_the_verdict_kept(
    client: TestClient, tenant: Tenant
) -> None:
    form_id = _form(client, tenant, WEAK_TEXT)
    weak = client.get(f"/api/v1/forms/{form_id}", headers=tenant.headers).json()
    scan = weak["consent_scan"]
    assert scan["valid_for_voice_opt_in"] is False
    gaps = {f["element"] for f in scan["findings"] if f["blocking"] and f["status"] != "present"}
    assert {"artificial_voice", "not_condition_of_purchase"} <= gaps
    assert "Glow Aesthetics" in scan["recommended_text"]
    fixed = client.patch(
        f"/api/v1/forms/{form_id}", json={"consent_text": GOOD_TEXT}, headers=tenant.headers
    ).json()
    assert fixed["consent_scan"]["valid_for_voice_opt_in"] is True
    assert [v["scan"]["valid_for_voice_opt_in"] for v in fixed["versions"]] == [False, True]
    audit = client.get(
        "/api/v1/audit-events?action=form.consent_scanned", headers=tenant.headers
    ).json()["items"]
    assert [e["after"]["valid_for_voice_opt_in"] for e in audit] == [False, True]
