"""Enable Outbound Calls on the staff pages: the KYC form, its errors, approval and the
in-app confirmation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT, not_enabled  # noqa: F401 - the fixture
from tests.e2e.web_client import csrf_token, sign_in

FORM = {
    "legal_name": "Glow Aesthetics LLC",
    "dba": "Glow Aesthetics",
    "ein": "12-3456789",
    "website": "https://glow.example.com",
    "address.street": "10 Park Ave",
    "address.city": "New York",
    "address.state": "ny",
    "address.postal_code": "10016",
    "owners[0].name": "Dana Reyes",
    "owners[0].title": "Managing member",
    "owners[0].ownership_percent": "100",
    "representative.name": "Dana Reyes",
    "representative.title": "Managing member",
    "representative.email": "dana@glow.example.com",
    "representative.phone_e164": "+12125550100",
    "use_case.appointment_confirmation": "on",
    "expected_daily_volume": "80",
}


def test_enable_outbound_calls_from_the_voice_ai_page(
    client: TestClient,
    not_enabled: Tenant,  # noqa: F811 - the fixture
) -> None:
    client.post(
        "/api/v1/forms",
        json={"location_id": not_enabled.location_id, "name": "Book", "consent_text": GOOD_TEXT},
        headers=not_enabled.headers,
    )
    sign_in(client, not_enabled)
    voice_ai = client.get("/app/voice-ai")
    assert "Enable Outbound Calls" in voice_ai.text
    page = client.get("/app/voice-ai/outbound")
    assert "Inbound access does not include outbound calling" in page.text

    wrong = dict(FORM, ein="12-34", **{"owners[0].ownership_percent": "20"})
    refused = client.post("/app/voice-ai/outbound", data={"csrf_token": csrf_token(page), **wrong})
    assert refused.status_code == 422
    assert "an EIN is 9 digits" in refused.text
    assert "name at least one owner with 25 % or more" in refused.text
    assert 'value="Glow Aesthetics LLC"' in refused.text  # kept as typed

    done = client.post("/app/voice-ai/outbound", data={"csrf_token": csrf_token(page), **FORM})
    assert done.status_code == 200  # followed the redirect
    assert "Outbound calling is approved for this account." in done.text
    banner = client.get("/app/voice-ai")
    assert 'id="kyc-approved"' in banner.text
    assert "Enable Outbound Calls" not in banner.text
    dismissed = client.post(
        "/app/voice-ai/outbound/acknowledge", data={"csrf_token": csrf_token(banner)}
    )
    assert 'id="kyc-approved"' not in dismissed.text


def test_an_overlong_field_is_refused_on_the_form_and_the_registration_stays_readable(
    client: TestClient,
    not_enabled: Tenant,  # noqa: F811 - the fixture
) -> None:
    """Every text field has the API's limit on the staff form too: refused next to the
    field (with the other problems), never saved to make GET /api/v1/kyc fail."""
    sign_in(client, not_enabled)
    page = client.get("/app/voice-ai/outbound")
    long = dict(
        FORM,
        dba="D" * 201,
        **{"owners[0].title": "T" * 250, "address.city": "C" * 101},
    )
    refused = client.post("/app/voice-ai/outbound", data={"csrf_token": csrf_token(page), **long})
    assert refused.status_code == 422
    assert "at most 200 characters (this has 201)" in refused.text
    assert "at most 200 characters (this has 250)" in refused.text
    assert "at most 100 characters (this has 101)" in refused.text
    read = client.get("/api/v1/kyc", headers=not_enabled.headers)
    assert read.status_code in (200, 404), read.text
