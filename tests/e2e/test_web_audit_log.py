"""Settings → Audit log over HTTP: changes made through the real API and pages read back as
sentences with their before/after values, filters narrow, pages follow the API's cursor, and
another account's events never show."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from ringfence.clock import VirtualClock
from tests.conftest import Tenant
from tests.e2e.web_client import csrf_token, sign_in

AUDIT = "/app/settings/audit"


def _contact(client: TestClient, tenant: Tenant, **fields: Any) -> int:
    body: dict[str, Any] = {"location_id": tenant.location_id, "first_name": "Ava", **fields}
    made = client.post("/api/v1/contacts", json=body, headers=tenant.headers)
    assert made.status_code == 201, made.text
    contact_id: int = made.json()["id"]
    return contact_id


def _actions(page_html: str) -> list[str]:
    """The stored actions of the page's rows, in page order."""
    return re.findall(r'data-action="([^"]+)"', page_html)


def _row(page_html: str, action: str) -> str:
    """The first row of `action`, its markup unescaped."""
    found = re.search(
        rf'<tr data-event="\d+" data-action="{re.escape(action)}">(.*?)</details>', page_html, re.S
    )
    assert found is not None, f"no {action} row"
    return html.unescape(found.group(1))


def _audit(client: TestClient, query: str = "") -> str:
    page = client.get(f"{AUDIT}{query}")
    assert page.status_code == 200, page.text
    return page.text


def test_api_and_page_changes_read_as_sentences_with_before_and_after(
    client: TestClient, tenant: Tenant
) -> None:
    contact_id = _contact(client, tenant)
    url = f"/api/v1/contacts/{contact_id}"
    assert client.patch(url, json={"dnd_voice": True}, headers=tenant.headers).status_code == 200
    retention = client.patch(
        "/api/v1/account", json={"phi_retention_days": 30}, headers=tenant.headers
    )
    assert retention.status_code == 200
    sign_in(client, tenant)
    security = client.get("/app/security")
    made = client.post(
        "/app/security/keys",
        data={"csrf_token": csrf_token(security), "name": "Front desk laptop"},
    )
    assert made.status_code == 201
    found = re.search(r'data-key="(\d+)">\s*<td>Front desk laptop</td>', made.text)
    assert found is not None
    key_id = found.group(1)
    revoked = client.post(
        f"/app/security/keys/{key_id}/revoke",
        data={"csrf_token": csrf_token(made)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303

    page = _audit(client)
    assert "<h1>Audit log</h1>" in page
    assert 'href="/app/settings/audit" aria-current="page"' in page
    # Newest first.
    assert _actions(page) == [
        "api_key.revoked",
        "api_key.created",
        "phi_retention_changed",
        "contact.flags_changed",
    ]
    revoke = _row(page, "api_key.revoked")
    assert "Signed-in staff (key “test”)" in revoke
    assert "Revoked an API key: it no longer opens anything" in revoke
    assert f'<a href="/app/security">API key #{key_id}</a>' in revoke
    assert re.search(
        r"<th scope=\"row\">Revoked on</th><td>not set</td><td>2026-11-26 10:00 EST</td>", revoke
    )

    flags = _row(page, "contact.flags_changed")
    assert "The API, with key “test”" in flags
    assert "Changed a contact's phone number, do-not-contact or opt-out settings" in flags
    assert f'<a href="/app/contacts/{contact_id}">Contact #{contact_id}</a>' in flags
    assert '<th scope="row">Do not call</th><td>no</td><td>yes</td>' in flags
    assert "<summary>1 field" in flags

    kept = _row(page, "phi_retention_changed")
    assert "Changed how long call recordings and transcripts are kept" in kept
    assert "<td>kept for good (no purge)</td><td>30</td>" in kept
    assert "This account" in kept
    assert "Times are in America/New_York (your practice&#39;s time zone)" in page
    assert "2026-11-26 10:00 EST" in page


def test_filters_narrow_by_action_record_type_and_dates(
    client: TestClient, tenant: Tenant, clock: VirtualClock
) -> None:
    first = _contact(client, tenant, dnd_sms=True)  # on 26 Nov: "created with flags"
    clock.advance(timedelta(days=2))
    url = f"/api/v1/contacts/{first}"
    client.patch(url, json={"dnd_voice": True}, headers=tenant.headers)  # 28 Nov
    client.patch("/api/v1/account", json={"phi_retention_days": 90}, headers=tenant.headers)
    sign_in(client, tenant)

    assert _actions(_audit(client, "?action=contact.flags_changed")) == ["contact.flags_changed"]
    assert _actions(_audit(client, "?entity_type=contact")) == [
        "contact.flags_changed",
        "contact.created_with_flags",
    ]
    assert _actions(_audit(client, "?entity_type=account")) == ["phi_retention_changed"]
    assert _actions(_audit(client, "?from=2026-11-27")) == [
        "phi_retention_changed",
        "contact.flags_changed",
    ]
    assert _actions(_audit(client, "?to=2026-11-26")) == ["contact.created_with_flags"]
    both = _audit(client, "?entity_type=contact&from=2026-11-28&to=2026-11-28")
    assert _actions(both) == ["contact.flags_changed"]
    assert 'value="2026-11-28"' in both  # the form keeps what was asked for
    none = _audit(client, "?action=api_key.revoked")
    assert _actions(none) == []
    assert "No events match these filters." in none


def test_a_mistyped_filter_names_the_field(client: TestClient, tenant: Tenant) -> None:
    sign_in(client, tenant)
    bad = client.get(f"{AUDIT}?from=26/11/2026")
    assert bad.status_code == 422
    assert "From is not a date" in bad.text
    assert 'id="log-from" name="from" value="26/11/2026" aria-invalid="true"' in bad.text
    backwards = client.get(f"{AUDIT}?from=2026-11-28&to=2026-11-26")
    assert backwards.status_code == 422
    assert "To is before From" in backwards.text
    assert client.get(f"{AUDIT}?limit=0").status_code == 422
    stale = client.get(f"{AUDIT}?cursor=not-ours")
    assert stale.status_code == 200
    assert "That page link is out of date" in stale.text


def test_pages_follow_the_cursor_newest_first(client: TestClient, tenant: Tenant) -> None:
    contact_id = _contact(client, tenant)
    url = f"/api/v1/contacts/{contact_id}"
    for field in ("dnd_voice", "dnd_sms", "dnd_email"):
        client.patch(url, json={field: True}, headers=tenant.headers)
    sign_in(client, tenant)

    first = _audit(client, "?entity_type=contact&limit=2")
    assert len(_actions(first)) == 2
    assert "Do not email" in first
    assert "Do not text" in first
    older = re.search(r'<a href="([^"]+)" rel="next">Older entries</a>', first)
    assert older is not None
    assert "entity_type=contact" in older.group(1)
    assert "limit=2" in older.group(1)
    second = _audit(client, html.unescape(older.group(1)).removeprefix(AUDIT))
    assert _actions(second) == ["contact.flags_changed"]
    assert "Do not call" in second
    assert "Do not email" not in second
    assert 'rel="next"' not in second
    assert "Back to the newest" in second


def test_another_accounts_events_never_show(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = _contact(client, other_tenant, dnd_voice=True)
    client.patch("/api/v1/account", json={"phi_retention_days": 365}, headers=other_tenant.headers)
    mine = _contact(client, tenant)
    client.patch(f"/api/v1/contacts/{mine}", json={"dnd_sms": True}, headers=tenant.headers)
    sign_in(client, tenant)

    page = _audit(client)
    assert _actions(page) == ["contact.flags_changed"]
    assert f">Contact #{theirs}<" not in page
    assert f">Contact #{mine}<" in page
    assert _actions(_audit(client, "?action=phi_retention_changed")) == []
    assert _actions(_audit(client, "?entity_type=contact&action=contact.created_with_flags")) == []


def test_the_page_asks_a_stranger_to_sign_in(client: TestClient) -> None:
    response = client.get(AUDIT, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
