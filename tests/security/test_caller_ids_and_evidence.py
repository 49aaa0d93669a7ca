"""Two Low findings (6): caller-ID numbers were unique across accounts, so registering one told a
tenant that another tenant used it; consent evidence (user agent, page URL) was silently cut to
500 and 2,000 characters, so the record no longer said what the browser sent."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.orm import ConsentRecord
from ringfence.bootstrap import Container
from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT, _form
from tests.security.test_abuse_limits import _shown

NUMBERS = "/api/v1/phone-numbers"
NUMBER = "+12125550142"


def test_a_number_another_tenant_uses_tells_nothing(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = client.post(
        NUMBERS,
        json={"location_id": other_tenant.location_id, "e164": NUMBER},
        headers=other_tenant.headers,
    )
    assert theirs.status_code == 201, theirs.text
    mine = client.post(
        NUMBERS, json={"location_id": tenant.location_id, "e164": NUMBER}, headers=tenant.headers
    )
    assert mine.status_code == 201, mine.text  # the same answer as for a number nobody has
    listed = client.get(NUMBERS, headers=tenant.headers).json()["items"]
    assert [n["id"] for n in listed if n["e164"] == NUMBER] == [mine.json()["id"]]


def test_a_number_is_unique_within_the_account_without_saying_where(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    second = client.post(
        "/api/v1/locations",
        json={"name": "Uptown", "time_zone": "America/New_York"},
        headers=tenant.headers,
    ).json()
    first = client.post(
        NUMBERS, json={"location_id": tenant.location_id, "e164": NUMBER}, headers=tenant.headers
    )
    assert first.status_code == 201
    again = client.post(
        NUMBERS, json={"location_id": second["id"], "e164": NUMBER}, headers=tenant.headers
    )
    assert again.status_code == 409
    # Names neither location (nor any id): only the number the caller typed.
    assert again.json() == {"detail": f"e164: {NUMBER} is already one of this account's caller IDs"}


def test_consent_evidence_is_stored_whole(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    form_id = _form(client, tenant, GOOD_TEXT)
    person = TestClient(client.app)
    user_agent = "Mozilla/5.0 " + "(KHTML, like Gecko) " * 150  # about 3,000 characters
    page_url = "https://glow.example/book?" + "&".join(f"utm_{n}=campaign{n}" for n in range(300))
    assert len(user_agent) > 500
    assert len(page_url) > 2000
    answer = person.post(
        f"/f/{form_id}",
        data={
            "shown": _shown(person, form_id),
            "first_name": "Ana",
            "phone": "(212) 555-0147",
            "consent": "yes",
        },
        headers={"User-Agent": user_agent, "Referer": page_url},
    )
    assert answer.status_code == 200, answer.text
    with container.session_factory() as session:
        record = session.scalars(select(ConsentRecord)).one()
    assert record.user_agent == user_agent
    assert record.page_url == page_url


def test_the_api_refuses_over_long_evidence_instead_of_cutting_it(
    client: TestClient, tenant: Tenant
) -> None:
    contact = client.post(
        "/api/v1/contacts",
        json={"location_id": tenant.location_id, "first_name": "Bo", "phone": "+12125550143"},
        headers=tenant.headers,
    ).json()
    too_long = client.post(
        f"/api/v1/contacts/{contact['id']}/consents",
        json={"kind": "manual_written", "confirmed_by": "Front desk", "page_url": "x" * 9000},
        headers=tenant.headers,
    )
    assert too_long.status_code == 422
    assert "page_url" in too_long.text
