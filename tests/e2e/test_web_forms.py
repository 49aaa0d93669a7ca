"""Automation → Forms on the staff pages: the list with each text's verdict, making a form,
editing its text (a new version, judged again), the scanner's suggested wording, and the
consent its public page recorded."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.orm import ConsentRecord, Contact, Form
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import Channel, ConsentKind, ContactSource
from ringfence.services.forms import text_sha256
from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT, WEAK_TEXT
from tests.e2e.test_public_forms import _fill
from tests.e2e.web_client import csrf_token, sign_in

# Everything a valid consent needs but the practice's name and the AI voice.
NO_AI_NO_NAME = (
    "By checking this box, I agree that we may call me at the phone number I provided, "
    "including with calls placed using automated technology, about my appointments and offers. "
    'Consent is not a condition of purchase. I can opt out at any time by saying "stop" on a call.'
)
AI_WORDING = (
    "I agree that Glow Aesthetics may call me using an artificial or prerecorded voice, "
    "including an AI-generated voice."
)
NAME_WORDING = "I agree that Glow Aesthetics may contact me at the phone number I provided."


def _api_form(client: TestClient, tenant: Tenant, name: str, text: str) -> int:
    made = client.post(
        "/api/v1/forms",
        json={"location_id": tenant.location_id, "name": name, "consent_text": text},
        headers=tenant.headers,
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _row(page: str, row_id: str) -> str:
    """The HTML of the table row (or element) with id `row_id`, up to its end tag."""
    found = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', page, re.S)
    assert found is not None, f"no row {row_id}"
    return found.group(1)


def _textarea(page: str) -> str:
    found = re.search(r'<textarea id="form-consent-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None
    return html.unescape(found.group(1))


def _submit(client: TestClient, form_id: int, phone: str, first: str = "Ana") -> None:
    anonymous = TestClient(client.app)
    _page, data = _fill(anonymous, form_id, phone=phone, consent="yes", first_name=first)
    answer = anonymous.post(f"/f/{form_id}", data=data)
    assert answer.status_code == 200, answer.text
    assert "Thank you" in answer.text


def test_the_list_shows_each_form_with_its_verdict_count_and_public_link(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    good = _api_form(client, tenant, "Book a consult", GOOD_TEXT)
    weak = _api_form(client, tenant, "Newsletter", WEAK_TEXT)
    rival = _api_form(client, other_tenant, "Rival intake", GOOD_TEXT)
    _submit(client, good, "(212) 555-0147")
    sign_in(client, tenant)

    page = client.get("/app/forms")
    assert page.status_code == 200
    assert page.text.count("<h1") == 1
    assert '<a href="/app/forms" aria-current="page">Forms</a>' in page.text
    good_row, weak_row = _row(page.text, f"form-{good}"), _row(page.text, f"form-{weak}")
    assert "Book a consult" in good_row
    assert "Glow Aesthetics main" in good_row  # the location
    assert "Valid for AI voice calls" in good_row
    assert f'value="http://testserver/f/{good}"' in good_row
    assert "<td>1</td>" in good_row  # one consent submission
    assert "Not valid for AI voice calls" in weak_row
    assert "required parts missing or weak" in weak_row
    assert "<td>0</td>" in weak_row
    assert "2026-11-26 10:00 EST" in good_row  # last changed, in the location's zone
    assert "Rival intake" not in page.text
    assert f"form-{rival}" not in page.text


def test_a_new_form_without_a_name_or_text_is_shown_again_naming_the_fields(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    new = client.get("/app/forms/new")
    assert new.status_code == 200
    assert f'<option value="{tenant.location_id}"' in new.text
    token = csrf_token(new)
    refused = client.post(
        "/app/forms/new",
        data={
            "csrf_token": token,
            "name": "  ",
            "location_id": str(tenant.location_id),
            "consent_text": GOOD_TEXT,
        },
    )
    assert refused.status_code == 422
    assert "Give the form a name." in refused.text
    assert 'id="form-name" name="name"' in refused.text
    assert 'aria-invalid="true" aria-describedby="form-name-error"' in refused.text
    assert _textarea(refused.text) == GOOD_TEXT  # kept as typed
    no_text = client.post(
        "/app/forms/new",
        data={"csrf_token": token, "name": "Book", "location_id": str(tenant.location_id)},
    )
    assert no_text.status_code == 422
    assert "Enter the consent text patients agree to." in no_text.text
    too_long = client.post(
        "/app/forms/new",
        data={
            "csrf_token": token,
            "name": "N" * 201,
            "location_id": str(tenant.location_id),
            "consent_text": GOOD_TEXT,
        },
    )
    assert too_long.status_code == 422
    assert "The name can be at most 200 characters." in too_long.text
    with container.uow() as uow:
        assert uow.session.scalars(select(Form)).all() == []


def test_a_new_form_at_another_accounts_location_is_refused_in_words(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    sign_in(client, tenant)
    token = csrf_token(client.get("/app/forms/new"))
    refused = client.post(
        "/app/forms/new",
        data={
            "csrf_token": token,
            "name": "Book",
            "location_id": str(other_tenant.location_id),
            "consent_text": GOOD_TEXT,
        },
    )
    assert refused.status_code == 422
    assert "Choose one of this account&#39;s locations." in refused.text
    with container.uow() as uow:
        assert uow.session.scalars(select(Form)).all() == []


def test_create_a_valid_form_and_see_its_page(client: TestClient, tenant: Tenant) -> None:
    sign_in(client, tenant)
    token = csrf_token(client.get("/app/forms/new"))
    made = client.post(
        "/app/forms/new",
        data={
            "csrf_token": token,
            "name": "Book a consult",
            "location_id": str(tenant.location_id),
            "consent_text": GOOD_TEXT,
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    path = made.headers["location"]
    assert re.fullmatch(r"/app/forms/\d+", path)
    page = client.get(path)
    assert "“Book a consult” saved as version 1: it is valid for AI voice calls." in page.text
    assert page.text.count("<h1") == 1
    assert "<h1>Book a consult</h1>" in page.text
    assert _textarea(page.text) == GOOD_TEXT
    assert "What the check found in version 1" in page.text
    for element in ("business_name", "artificial_voice", "not_condition_of_purchase"):
        assert 'data-status="present"' in page.text.split(f'id="finding-{element}"')[1][:40]
    assert "Every required part is there." in page.text
    assert f'value="http://testserver/f/{path.rsplit("/", 1)[1]}"' in page.text
    assert "No one has given consent through this form yet." in page.text


def test_editing_the_text_makes_a_new_version_and_the_findings_follow_it(
    client: TestClient, tenant: Tenant
) -> None:
    form_id = _api_form(client, tenant, "Book a consult", GOOD_TEXT)
    sign_in(client, tenant)
    page = client.get(f"/app/forms/{form_id}")
    token = csrf_token(page)
    saved = client.post(
        f"/app/forms/{form_id}",
        data={"csrf_token": token, "name": "Book a consult", "consent_text": NO_AI_NO_NAME},
    )
    assert saved.status_code == 200  # the redirect followed
    assert "saved as version 2: it is not valid for AI voice calls yet" in saved.text
    assert "What the check found in version 2" in saved.text
    assert "2 required parts are missing or need rewording" in saved.text
    name_row = _row(saved.text, "finding-business_name")
    assert "Names your practice" in name_row
    assert "Missing" in name_row
    assert NAME_WORDING in name_row
    assert "Use suggested wording" in name_row
    voice_row = _row(saved.text, "finding-artificial_voice")
    assert "Says calls may use an AI or prerecorded voice" in voice_row
    assert "Missing" in voice_row
    assert AI_WORDING in voice_row
    assert "Present" in _row(saved.text, "finding-not_condition_of_purchase")
    assert "Valid for AI voice calls" in _row(saved.text, "version-1")
    assert "Not valid for AI voice calls" in _row(saved.text, "version-2")
    assert "(current)" in _row(saved.text, "version-2")

    again = client.post(
        f"/app/forms/{form_id}",
        data={"csrf_token": token, "name": "Book a consult", "consent_text": NO_AI_NO_NAME},
    )
    assert "The consent text did not change, so there is no new version." in again.text
    assert 'id="version-3"' not in again.text

    fixed = client.post(
        f"/app/forms/{form_id}",
        data={"csrf_token": token, "name": "Consult booking", "consent_text": GOOD_TEXT},
    )
    assert "“Consult booking” saved as version 3: it is valid for AI voice calls." in fixed.text
    assert "Every required part is there." in fixed.text
    assert "Valid for AI voice calls" in _row(fixed.text, "version-3")

    blank = client.post(
        f"/app/forms/{form_id}",
        data={"csrf_token": token, "name": "Consult booking", "consent_text": "   "},
    )
    assert blank.status_code == 422
    assert "Enter the consent text patients agree to." in blank.text
    assert 'id="version-4"' not in blank.text


def test_use_suggested_wording_fills_the_box_unsaved_then_saving_makes_it_valid(
    client: TestClient, tenant: Tenant
) -> None:
    form_id = _api_form(client, tenant, "Book a consult", NO_AI_NO_NAME)
    sign_in(client, tenant)
    page = client.get(f"/app/forms/{form_id}")
    token = csrf_token(page)
    assert 'formaction="/app/forms/' in page.text
    assert 'form="consent-form"' in page.text

    filled = client.post(
        f"/app/forms/{form_id}/suggestion",
        data={
            "csrf_token": token,
            "name": "Book a consult",
            "consent_text": NO_AI_NO_NAME,
            "element": "artificial_voice",
        },
    )
    assert filled.status_code == 200
    assert _textarea(filled.text) == f"{NO_AI_NO_NAME} {AI_WORDING}"
    assert "It is not saved yet" in filled.text
    assert "What the check finds in the text above (not saved yet)" in filled.text
    assert "Every required part is there." in filled.text  # the wording names the practice too
    assert 'id="version-2"' not in filled.text  # nothing saved
    assert "Discard unsaved changes" in filled.text

    # A part the text already covers is not added twice.
    same = client.post(
        f"/app/forms/{form_id}/suggestion",
        data={
            "csrf_token": token,
            "name": "Book a consult",
            "consent_text": _textarea(filled.text),
            "element": "business_name",
        },
    )
    assert _textarea(same.text) == _textarea(filled.text)
    assert "the text below already covers it" in same.text

    saved = client.post(
        f"/app/forms/{form_id}",
        data={"csrf_token": token, "name": "Book a consult", "consent_text": _textarea(same.text)},
    )
    assert "saved as version 2: it is valid for AI voice calls." in saved.text
    assert "Valid for AI voice calls" in _row(saved.text, "version-2")

    whole = client.post(
        f"/app/forms/{form_id}/suggestion",
        data={
            "csrf_token": token,
            "name": "x",
            "consent_text": WEAK_TEXT,
            "element": "recommended",
        },
    )
    assert _textarea(whole.text).startswith("By checking this box, I agree that Glow Aesthetics")
    assert "Every required part is there." in whole.text
    unknown = client.post(
        f"/app/forms/{form_id}/suggestion",
        data={"csrf_token": token, "name": "x", "consent_text": WEAK_TEXT, "element": "nope"},
    )
    assert unknown.status_code == 200
    assert "choose one of the listed findings" in unknown.text
    assert _textarea(unknown.text) == WEAK_TEXT


def test_submissions_of_the_public_form_appear_with_their_version_and_state(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> None:
    form_id = _api_form(client, tenant, "Book a consult", GOOD_TEXT)
    _submit(client, form_id, "(212) 555-0147", first="Ana")
    clock.advance(timedelta(minutes=5))
    client.patch(
        f"/api/v1/forms/{form_id}",
        json={"consent_text": GOOD_TEXT + " (v2)"},
        headers=tenant.headers,
    )
    _submit(client, form_id, "(212) 555-0148", first="Bea")
    clock.advance(timedelta(minutes=5))
    with container.uow() as uow:
        ana = uow.session.scalars(select(Contact).where(Contact.first_name == "Ana")).one().id
        bea = uow.session.scalars(select(Contact).where(Contact.first_name == "Bea")).one().id
    # Bea then says stop; Ana's number is typed in again after her opt-out: held for staff.
    revoked = client.post(
        f"/api/v1/contacts/{bea}/consents", json={"kind": "revocation"}, headers=tenant.headers
    )
    assert revoked.status_code == 201, revoked.text
    client.post(
        f"/api/v1/contacts/{ana}/consents", json={"kind": "revocation"}, headers=tenant.headers
    )
    clock.advance(timedelta(minutes=5))
    _submit(client, form_id, "(212) 555-0147", first="Ana")

    sign_in(client, tenant)
    page = client.get(f"/app/forms/{form_id}")
    with container.uow() as uow:
        records = uow.session.execute(
            select(ConsentRecord.id, ConsentRecord.form_version)
            .where(ConsentRecord.form_id == form_id)
            .order_by(ConsentRecord.recorded_at)
        ).all()
    assert [version for _id, version in records] == [1, 2, 2]
    first, second, third = (f"submission-{record_id}" for record_id, _version in records)
    body = page.text.split('id="submission-list"')[1]
    assert body.index(third) < body.index(second) < body.index(first)  # newest first
    ana_row, bea_row, held_row = (
        _row(page.text, first),
        _row(page.text, second),
        _row(page.text, third),
    )
    assert f'<a href="/app/contacts/{ana}">Ana Diaz</a>' in ana_row
    assert "•••-•••-0147" in ana_row
    assert "555-0147" not in ana_row
    assert "+1212" not in ana_row
    assert "<td>1</td>" in ana_row
    assert "Revoked on 26 Nov 2026 (consent withdrawn)" in ana_row
    assert f'<a href="/app/contacts/{bea}">Bea Diaz</a>' in bea_row
    assert "<td>2</td>" in bea_row
    assert "Revoked on 26 Nov 2026" in bea_row
    assert "<td>2</td>" in held_row
    assert "Held for staff confirmation" in held_row
    assert "3 in all, newest first" in page.text

    # A fresh number's consent is in force.
    _submit(client, form_id, "(212) 555-0149", first="Cai")
    fresh = client.get(f"/app/forms/{form_id}")
    assert 'data-state="in_force"' in fresh.text
    assert "In force" in fresh.text


def test_submissions_are_paged_fifty_at_a_time(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    form_id = _api_form(client, tenant, "Book a consult", GOOD_TEXT)
    with container.uow() as uow:
        start = uow.clock.now()
        for n in range(55):
            at = start + timedelta(minutes=n)
            phone = f"+1212555{1000 + n}"
            contact = Contact(
                account_id=tenant.account_id,
                location_id=tenant.location_id,
                first_name=f"Patient{n:02d}",
                phone_e164=phone,
                source=ContactSource.FORM,
                created_at=at,
                updated_at=at,
            )
            uow.session.add(contact)
            uow.session.flush()
            uow.session.add(
                ConsentRecord(
                    account_id=tenant.account_id,
                    location_id=tenant.location_id,
                    contact_id=contact.id,
                    kind=ConsentKind.CRM_FORM,
                    channel=Channel.VOICE,
                    recorded_at=at,
                    form_id=form_id,
                    form_version=1,
                    consent_text=GOOD_TEXT,
                    consent_text_sha256=text_sha256(GOOD_TEXT),
                    recorded_by=f"form:{form_id}",
                    phone_e164=phone,
                    form_valid=True,
                    scanner_version="2",
                )
            )
        uow.commit()
    sign_in(client, tenant)
    first = client.get(f"/app/forms/{form_id}")
    assert first.text.count('<tr id="submission-') == 50
    assert "Patient54" in first.text
    assert "Patient05" in first.text
    assert "Patient04" not in first.text
    assert "Page 1 of 2" in first.text
    assert f'href="/app/forms/{form_id}?page=2#submissions" rel="next">Older</a>' in first.text
    second = client.get(f"/app/forms/{form_id}?page=2")
    assert second.text.count('<tr id="submission-') == 5
    assert "Patient04" in second.text
    assert "Patient00" in second.text
    assert "Patient05" not in second.text
    assert "55 in all" in second.text
    beyond = client.get(f"/app/forms/{form_id}?page=99")
    assert "Page 2 of 2" in beyond.text  # the last page, not an empty one
    assert client.get(f"/app/forms/{form_id}?page=abc").status_code == 200


def test_another_accounts_form_is_not_found_and_never_changed(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    rival = _api_form(client, other_tenant, "Rival intake", GOOD_TEXT)
    sign_in(client, tenant)
    page = client.get(f"/app/forms/{rival}")
    assert page.status_code == 404
    assert "That form does not exist in this account." in page.text
    assert GOOD_TEXT not in page.text
    token = csrf_token(client.get("/app/forms"))
    saved = client.post(
        f"/app/forms/{rival}",
        data={"csrf_token": token, "name": "Mine now", "consent_text": WEAK_TEXT},
    )
    assert saved.status_code == 404
    suggested = client.post(
        f"/app/forms/{rival}/suggestion",
        data={"csrf_token": token, "consent_text": WEAK_TEXT, "element": "business_name"},
    )
    assert suggested.status_code == 404
    assert client.get("/app/forms/999999").status_code == 404
    assert "Rival intake" not in client.get("/app/forms").text
    with container.uow() as uow:
        form = uow.session.get(Form, rival)
        assert form is not None
        assert (form.name, form.current_version, form.consent_text) == (
            "Rival intake",
            1,
            GOOD_TEXT,
        )


def test_every_post_needs_the_csrf_token(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    form_id = _api_form(client, tenant, "Book a consult", GOOD_TEXT)
    sign_in(client, tenant)
    new = {"name": "Book", "location_id": str(tenant.location_id), "consent_text": GOOD_TEXT}
    assert client.post("/app/forms/new", data=new).status_code == 403
    edit = {"name": "Changed", "consent_text": WEAK_TEXT}
    assert client.post(f"/app/forms/{form_id}", data=edit).status_code == 403
    wrong = dict(edit, csrf_token="not-the-token")
    assert client.post(f"/app/forms/{form_id}", data=wrong).status_code == 403
    suggest = dict(edit, element="business_name")
    assert client.post(f"/app/forms/{form_id}/suggestion", data=suggest).status_code == 403
    with container.uow() as uow:
        forms = uow.session.scalars(select(Form)).all()
        assert [(f.name, f.current_version) for f in forms] == [("Book a consult", 1)]


def test_signed_out_the_pages_send_to_sign_in(client: TestClient, tenant: Tenant) -> None:
    form_id = _api_form(client, tenant, "Book a consult", GOOD_TEXT)
    for path in ("/app/forms", "/app/forms/new", f"/app/forms/{form_id}"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")
