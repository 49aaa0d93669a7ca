"""Enable Outbound Calls: the registration's history (its audit events in words, newest
first, with who and when) and, once approved, the registered details read-only above the
"Change details" form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from ringfence.bootstrap import Container
from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT, _operator, not_enabled  # noqa: F401 - the fixture
from tests.e2e.test_web_enablement import FORM
from tests.e2e.web_client import csrf_token, sign_in

PAGE = "/app/voice-ai/outbound"


def _history(html: str) -> list[str]:
    """The history's sentences, in page order."""
    section = html.split('id="kyc-history"')[1].split("</section>")[0]
    return re.findall(r'<li data-event="\d+"><strong>([^<]+)</strong>', section)


def _submit(client: TestClient, values: dict[str, str]) -> str:
    page = client.get(PAGE)
    done = client.post(PAGE, data={"csrf_token": csrf_token(page), **values})
    assert done.status_code == 200, done.text
    return done.text


def test_the_history_tells_the_registrations_story_newest_first(
    client: TestClient,
    container: Container,
    not_enabled: Tenant,  # noqa: F811 - the fixture
    other_tenant: Tenant,
) -> None:
    client.post(
        "/api/v1/forms",
        json={"location_id": not_enabled.location_id, "name": "Book", "consent_text": GOOD_TEXT},
        headers=not_enabled.headers,
    )
    sign_in(client, not_enabled)
    fresh = client.get(PAGE)
    assert "Nothing yet: the registration has not been submitted." in fresh.text
    assert 'id="kyc-registered"' not in fresh.text  # nothing approved to show

    approved = _submit(client, FORM)
    assert _history(approved) == [
        "Business verification approved: outbound calls may start",
        "Sent the business verification application for review",
    ]
    assert "The automatic review, right after the submission by signed-in staff" in approved
    assert "Signed-in staff (key “test”)" in approved
    # Approved: the registered details, read-only, above the prefilled form.
    registered = approved.split('id="kyc-registered"')[1].split("</section>")[0]
    assert "Glow Aesthetics LLC" in registered
    assert "12-3456789" in registered
    assert "Dana Reyes, Managing member, 100 %" in registered
    assert "<input" not in registered
    assert approved.index('id="kyc-registered"') < approved.index('id="kyc-form"')
    assert '<h2 id="kyc-change-heading">Change details</h2>' in approved
    assert "sends the registration back for review" in approved
    assert 'id="f-legal_name" name="legal_name" value="Glow Aesthetics LLC"' in approved

    # A small change stays approved; a new legal name goes back to review.
    _submit(client, dict(FORM, website="https://glow.example.org"))
    moved = _submit(client, dict(FORM, legal_name="Glow Holdings LLC"))
    assert _history(moved)[:2] == [
        "Sent the business verification for review again after changing key business details",
        "Edited the business verification application",
    ]
    assert 'id="kyc-registered"' not in moved  # no longer approved
    asked = client.post(
        f"/api/v1/operator/kyc/{not_enabled.account_id}/decision",
        json={
            "outcome": "needs_changes",
            "reasons": ["send the articles of organization for the new name"],
            "operator": "ops@ringfence",
        },
        headers=_operator(container),
    )
    assert asked.status_code == 200, asked.text
    page = client.get(PAGE).text
    assert _history(page) == [
        "Business verification sent back for changes",
        "Sent the business verification for review again after changing key business details",
        "Edited the business verification application",
        "Business verification approved: outbound calls may start",
        "Sent the business verification application for review",
    ]
    newest = page.split('id="kyc-history"')[1].split("</li>\n")[0]
    assert "Ringfence&#39;s verification team (ops@ringfence)" in newest
    assert "send the articles of organization for the new name" in newest
    assert re.search(r"\d{4} \d{1,2}:\d{2}|\d{1,2}:\d{2}", newest)  # when, in words and digits
    assert "kyc.needs_changes" not in page  # sentences, never the stored codes

    # Another practice's page shows none of it.
    sign_in(client, other_tenant)
    theirs = client.get(PAGE).text
    assert _history(theirs) == []
    assert "ops@ringfence" not in theirs
