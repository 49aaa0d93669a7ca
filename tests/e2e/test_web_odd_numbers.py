"""Numbers typed into the staff pages' URLs and forms that Python reads as digits but are not
("²", 40 digits, the calendar's last day) get the page's own answer, never a 500 (review
finding: `str.isdigit` accepted them and `int()` or the date arithmetic then raised)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant
from tests.e2e.web_client import sign_in

SUPERSCRIPT_TWO = "\u00b2"
HUGE = "9" * 40


@pytest.mark.parametrize(
    "path",
    [
        f"/app/contacts?page={SUPERSCRIPT_TWO}",
        f"/app/contacts?location={SUPERSCRIPT_TWO}",
        f"/app/contacts?location={HUGE}",
        f"/app/settings/audit?limit={SUPERSCRIPT_TWO}",
        f"/app/settings/audit?limit={HUGE}",
        "/app/settings/audit?to=9999-12-31",
        "/app/settings/audit?from=9999-12-31&to=9999-12-31",
        "/app/settings/phi?to=9999-12-31",
        f"/app/settings/phi?limit={SUPERSCRIPT_TWO}",
    ],
)
def test_odd_numbers_in_a_url_get_the_pages_own_answer(
    client: TestClient, tenant: Tenant, path: str
) -> None:
    sign_in(client, tenant)
    answer = client.get(path)
    assert answer.status_code < 500, answer.text[:500]
    assert "<h1" in answer.text  # a staff page, not a bare error


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, HUGE, "-3", " 7 x"])
def test_odd_numbers_in_a_form_are_named_not_crashed_on(
    client: TestClient, tenant: Tenant, value: str
) -> None:
    sign_in(client, tenant)
    page = client.get("/app/phone-numbers")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    added = client.post(
        "/app/phone-numbers",
        data={"csrf_token": token, "location_id": value, "number": "(212) 555-0177"},
    )
    assert added.status_code == 422
    assert "Choose the location" in added.text
    new_form = client.get("/app/forms/new")
    token = new_form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    made = client.post(
        "/app/forms/new",
        data={
            "csrf_token": token,
            "name": "Consult",
            "location_id": value,
            "consent_text": "I agree to calls.",
        },
    )
    assert made.status_code == 422, made.text[:300]
    assert 'id="form-location-error"' in made.text
