"""Settings → PHI access & retention: changing the retention policy from the page, with what
the next purge would remove shown before saving; the same service, choices and audit event
as the API's `PATCH /api/v1/account`."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ringfence.adapters.db.orm import Account, AuditEvent
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.services.phi_retention import purge_expired
from tests.conftest import Tenant
from tests.dashboard_calls import CallBook
from tests.e2e.browser import log_in
from tests.e2e.web_client import csrf_token, sign_in
from tests.factories import add_voice_agent
from tests.phi_calls import recorded_call, use_store

TODAY = date(2026, 11, 26)
PHI = "/app/settings/phi"
RETENTION = "/app/settings/phi/retention"


@pytest.fixture
def store(container: Container, tmp_path: Path) -> Path:
    use_store(container, tmp_path)
    return tmp_path


def _effect(page: str, value: str) -> str:
    return page.split(f'id="retention-{value}-effect">')[1].split("</small>")[0]


def _retention(container: Container, t: Tenant) -> int | None:
    with container.uow() as uow:
        return uow.session.scalar(
            select(Account.phi_retention_days).where(Account.id == t.account_id)
        )


def _audits(container: Container, t: Tenant) -> list[tuple[str, object, object]]:
    """(actor, before, after) of the account's retention changes, oldest first."""
    with container.uow() as uow:
        return list(
            uow.session.execute(
                select(AuditEvent.actor, AuditEvent.before, AuditEvent.after)
                .where(
                    AuditEvent.account_id == t.account_id,
                    AuditEvent.action == "phi_retention_changed",
                )
                .order_by(AuditEvent.id)
            )
        )


def test_shortening_retention_says_what_the_next_purge_removes_and_is_audited(
    client: TestClient,
    container: Container,
    clock: VirtualClock,
    tenant: Tenant,
    other_tenant: Tenant,
    store: Path,
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    recorded_call(book, store, day=TODAY - timedelta(days=40))
    recorded_call(book, store, day=TODAY - timedelta(days=100))
    recorded_call(book, store, day=TODAY - timedelta(days=2))
    sign_in(client, tenant)
    page = client.get(PHI)
    assert 'id="retention-keep" name="days" value="keep" checked' in page.text
    assert "2 transcripts and 2 recordings older than 30 days" in _effect(page.text, "30")
    assert "1 transcript and 1 recording older than 90 days" in _effect(page.text, "90")
    assert "Nothing is older than 365 days now" in _effect(page.text, "365")
    assert "Nothing is removed." in _effect(page.text, "keep")

    saved = client.post(RETENTION, data={"csrf_token": csrf_token(page), "days": "30"})
    assert saved.status_code == 200  # followed the redirect back to the page
    assert (
        "Saved: recordings and transcripts are kept for 30 days. The next hourly purge removes "
        "2 transcripts and 2 recordings older than that, for good."
    ) in saved.text
    assert "Kept for 30 days after the call ended, then removed." in saved.text
    assert 'id="retention-30" name="days" value="30" checked' in saved.text
    assert _retention(container, tenant) == 30
    assert _audits(container, tenant) == [
        (
            "web:api_key:test",
            {"phi_retention_days": None},
            {"phi_retention_days": 30},
        )
    ]
    # The page's count is the purge's own selection.
    report = purge_expired(container.session_factory, clock, store_dir=store)
    assert (report.transcripts, report.recordings) == (2, 2)
    after = client.get(PHI)
    assert "Nothing is older than 30 days now" in _effect(after.text, "30")

    # The same choice again changes nothing and writes no audit event.
    again = client.post(RETENTION, data={"csrf_token": csrf_token(after), "days": "30"})
    assert "Nothing changed: recordings and transcripts are kept for 30 days already." in again.text
    assert len(_audits(container, tenant)) == 1
    back = client.post(RETENTION, data={"csrf_token": csrf_token(after), "days": "keep"})
    assert "Saved: recordings and transcripts are kept for good" in back.text
    assert _retention(container, tenant) is None
    assert _retention(container, other_tenant) is None  # only the viewer's account changed
    assert len(_audits(container, other_tenant)) == 0


@pytest.mark.parametrize("value", ["45", "", "forever", "-30"])
def test_a_value_outside_the_choices_is_refused_in_words(
    client: TestClient, container: Container, tenant: Tenant, value: str
) -> None:
    sign_in(client, tenant)
    page = client.get(PHI)
    refused = client.post(RETENTION, data={"csrf_token": csrf_token(page), "days": value})
    assert refused.status_code == 422
    assert (
        "Choose how long recordings and transcripts are kept: 30, 90 or 365 days, or for good."
        in (refused.text)
    )
    assert 'aria-describedby="retention-error"' in refused.text
    assert '"detail"' not in refused.text  # a page, not the framework's JSON
    assert _retention(container, tenant) is None
    assert _audits(container, tenant) == []


def test_the_form_needs_the_csrf_token(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    refused = client.post(RETENTION, data={"days": "30"})
    assert refused.status_code == 403
    assert _retention(container, tenant) is None


def test_staff_change_retention_in_chromium_from_the_settings_menu(
    page: Page, live_server: str, tenant: Tenant
) -> None:
    log_in(page, live_server, tenant.api_key)
    menu = page.get_by_role("navigation", name="Main menu")
    # Settings → Share links reaches the dashboard's share links and is the current entry.
    menu.get_by_role("link", name="Share links").click()
    expect(page).to_have_url(f"{live_server}/app/voice-ai/dashboards/outbound/shares")
    expect(menu.get_by_role("link", name="Share links")).to_have_attribute("aria-current", "page")
    expect(menu.locator('[aria-current="page"]')).to_have_count(1)

    menu.get_by_role("link", name="PHI access & retention").click()
    form = page.locator("#retention-form")
    expect(form.get_by_role("radio", name=re.compile("For good"))).to_be_checked()
    form.get_by_role("radio", name=re.compile("^90 days")).check()
    form.get_by_role("button", name="Save retention").click()
    expect(page.locator(".flash--success")).to_contain_text(
        "Saved: recordings and transcripts are kept for 90 days."
    )
    expect(page.locator("#retention-policy")).to_contain_text("Kept for 90 days")
    expect(form.get_by_role("radio", name=re.compile("^90 days"))).to_be_checked()
