"""Patients → Contacts: the calling-status and tag filters (with the search, the location and
paging, every link keeping them), the empty states, and one contact's appointments."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from ringfence.adapters.db.orm import Appointment
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import AppointmentStatus
from ringfence.services import contact_views
from ringfence.services.contact_appointments import APPOINTMENT_STATUS_WORDS
from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT, _form
from tests.e2e.test_web_contacts import _consent, _contact, _location, _rows
from tests.e2e.web_client import sign_in


def _tag(client: TestClient, t: Tenant, name: str) -> int:
    made = client.post("/api/v1/tags", json={"name": name}, headers=t.headers)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _practice(client: TestClient, t: Tenant, clock: VirtualClock) -> int:
    """One contact in each of the five statuses, two of them tagged "vip" (its id)."""
    vip = _tag(client, t, "vip")
    callable_ = _contact(client, t, "Callable", "+12125550147", tags=["vip"])
    _consent(client, t, callable_)
    opted = _contact(client, t, "Opted", "+12125550150", tags=["vip"])
    _consent(client, t, opted)
    _consent(client, t, opted, kind="revocation", note="Asked on the phone")
    _contact(client, t, "Noconsent", "+12125550151")
    held = _contact(client, t, "Held", "+12125550152")
    _consent(client, t, held, kind="revocation")
    clock.advance(timedelta(minutes=5))
    _consent(client, t, held, kind="crm_form", form_id=_form(client, t, GOOD_TEXT))
    _contact(client, t, "Nonumber", None)
    return vip


@pytest.mark.parametrize(
    ("status", "names"),
    [
        ("can_be_called", {"Callable"}),
        ("opted_out", {"Opted"}),
        ("no_consent", {"Noconsent"}),
        ("consent_held", {"Held"}),
        ("no_number", {"Nonumber"}),
    ],
)
def test_the_status_filter_matches_the_status_column(
    client: TestClient, tenant: Tenant, clock: VirtualClock, status: str, names: set[str]
) -> None:
    _practice(client, tenant, clock)
    sign_in(client, tenant)
    everyone = _rows(client.get("/app/contacts").text)
    assert len(everyone) == 5
    page = client.get("/app/contacts", params={"status": status})
    assert page.status_code == 200
    found = _rows(page.text)
    assert set(found) == names
    # The same words as the column of the unfiltered list: one rule for both.
    assert all(everyone[name] == label for name, label in found.items())
    assert f'<option value="{status}" selected>' in page.text
    assert "Clear the filters" in page.text


def test_the_tag_filter_combines_with_status_search_and_location(
    client: TestClient, container: Container, tenant: Tenant, clock: VirtualClock
) -> None:
    vip = _practice(client, tenant, clock)
    sign_in(client, tenant)
    tagged = client.get("/app/contacts", params={"tag": vip})
    assert set(_rows(tagged.text)) == {"Callable", "Opted"}
    assert f'<option value="{vip}" selected>vip</option>' in tagged.text
    both = client.get("/app/contacts", params={"tag": vip, "status": "opted_out"})
    assert _rows(both.text) == {"Opted": "Opted out"}
    searched = client.get("/app/contacts", params={"tag": vip, "q": "call"})
    assert set(_rows(searched.text)) == {"Callable"}
    elsewhere = _location(client, tenant, "Chicago loop")
    nobody = client.get("/app/contacts", params={"tag": vip, "location": elsewhere})
    assert _rows(nobody.text) == {}
    assert "No contacts match." in nobody.text
    assert '<a href="/app/contacts">Clear the filters</a> to see all 5' in nobody.text


def test_status_paging_scans_in_batches_and_links_keep_every_filter(
    client: TestClient,
    container: Container,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Small pages and batches, so that a page of one status spans several batches.
    monkeypatch.setattr(contact_views, "PAGE_SIZE", 2)
    monkeypatch.setattr(contact_views, "SCAN_BATCH", 3)
    lead = _tag(client, tenant, "lead")
    for n in range(7):
        _contact(client, tenant, f"Ann{n}", None, tags=["lead"])  # no number
        made = _contact(client, tenant, f"Ann{n}b", f"+1212555{n:04d}", tags=["lead"])
        _consent(client, tenant, made)  # can be called
    sign_in(client, tenant)
    query = {"status": "no_number", "tag": lead, "q": "ann"}
    seen: list[str] = []
    for number in (1, 2, 3, 4):
        page = client.get("/app/contacts", params=query | {"page": number})
        rows = _rows(page.text)
        assert set(rows.values()) <= {"No usable US phone number"}
        seen += list(rows)
        if number < 4:
            assert f"q=ann&amp;tag={lead}&amp;status=no_number&amp;page={number + 1}" in page.text
        else:
            assert ">Next</a>" not in page.text
        if number > 1:
            assert f'status=no_number&amp;page={number - 1}">Previous</a>' in page.text
    assert seen == [f"Ann{n}" for n in range(7)]


def test_empty_states_say_what_to_do_next(client: TestClient, tenant: Tenant) -> None:
    sign_in(client, tenant)
    empty = client.get("/app/contacts")
    assert "No contacts yet" in empty.text
    assert '<a href="/app/contacts/import">import a CSV</a>' in empty.text
    _contact(client, tenant, "Ava", "+12125550147")
    none = client.get("/app/contacts", params={"status": "opted_out"})
    assert "No contacts match." in none.text
    assert "No contacts yet" not in none.text


def test_another_accounts_tag_and_unknown_filters_answer_not_found(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = _tag(client, other_tenant, "theirs")
    _contact(client, other_tenant, "Rival", "+13105550100", tags=["theirs"])
    _tag(client, tenant, "mine")
    _contact(client, tenant, "Ava", "+12125550147", tags=["mine"])
    sign_in(client, tenant)
    page = client.get("/app/contacts")
    assert ">mine</option>" in page.text
    assert "theirs" not in page.text  # only the account's own tags are offered
    refused = client.get("/app/contacts", params={"tag": theirs})
    assert refused.status_code == 404
    assert "Rival" not in refused.text
    assert client.get("/app/contacts", params={"status": "bogus"}).status_code == 404
    assert client.get("/app/contacts", params={"tag": "x"}).status_code == 404


def test_the_contact_page_lists_upcoming_and_past_appointments(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    ava = _contact(client, tenant, "Ava", "+12125550147")
    rival = _contact(client, other_tenant, "Rival", "+13105550100")
    sign_in(client, tenant)
    assert "No upcoming appointments." in client.get(f"/app/contacts/{ava}").text
    with container.uow() as uow:
        now = uow.clock.now()
        for contact, t, at, service, status in (
            (ava, tenant, now + timedelta(days=2), "Botox", AppointmentStatus.CONFIRMED),
            (ava, tenant, now - timedelta(days=30), "HydraFacial", AppointmentStatus.NO_SHOW),
            (ava, tenant, now - timedelta(days=60), "Consult", AppointmentStatus.COMPLETED),
            (rival, other_tenant, now + timedelta(days=1), "Secret", AppointmentStatus.SCHEDULED),
        ):
            uow.session.add(
                Appointment(
                    account_id=t.account_id,
                    location_id=t.location_id,
                    contact_id=contact,
                    starts_at=at,
                    service=service,
                    status=status,
                    created_at=now,
                    updated_at=now,
                )
            )
        uow.commit()
    page = client.get(f"/app/contacts/{ava}").text
    upcoming = page.split('id="appointments-upcoming"')[1].split("</table>")[0]
    past = page.split('id="appointments-past"')[1].split("</table>")[0]
    assert "Botox" in upcoming
    assert "Confirmed by the patient" in upcoming
    assert "HydraFacial" not in upcoming
    assert re.search(r"HydraFacial.*Missed \(did not come\).*Consult.*Attended", past, re.S)
    assert "Secret" not in page
    section = page.split('id="appointments"')[1].split("</section>")[0]
    assert "no_show" not in section  # status in words, never the code
    assert f'/app/contacts/{rival}"' not in page


def test_every_appointment_status_has_words() -> None:
    assert set(APPOINTMENT_STATUS_WORDS) == set(AppointmentStatus)
