"""Contacts in headless Chromium: sign in, find a patient, read the number's consent history,
stop calling the number and see it opted out."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.conftest import Tenant
from tests.e2e.browser import log_in
from tests.e2e.test_web_accessibility import SCREENSHOTS
from tests.e2e.test_web_contacts import AVA, BEN, _consent, _contact


def test_find_a_patient_read_the_timeline_and_stop_calling(
    page: Page, live_server: str, client: TestClient, tenant: Tenant
) -> None:
    ava = _contact(client, tenant, "Ava", AVA, last_name="Stone")
    _consent(client, tenant, ava, note="Signed intake form, binder 3")
    _contact(client, tenant, "Ben", BEN, last_name="Ortiz")

    log_in(page, live_server, tenant.api_key)
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("link", name="Contacts", exact=True).click()
    expect(page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    page.get_by_label("Search").fill("(212) 555-0147")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#contacts tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Can be called")

    rows.first.get_by_role("link", name="Ava Stone").click()
    expect(page.get_by_role("heading", name="Ava Stone", level=1)).to_be_visible()
    expect(page.locator("#calling-status")).to_have_text("Can be called")
    timeline = page.locator("#consent-timeline")
    expect(timeline).to_contain_text("Written consent confirmed by staff")
    expect(timeline).to_contain_text("Signed intake form, binder 3")
    expect(timeline.get_by_role("link", name=re.compile("View evidence"))).to_have_count(1)
    expect(page.locator("#no-calls")).to_have_text("No calls yet.")

    page.get_by_text("Stop calling this number").click()  # opens the confirmation
    page.get_by_label("Why (optional)").fill("Asked at the front desk")
    page.get_by_role("button", name="Yes, stop calling (212) 555-0147").click()

    expect(page.get_by_role("status")).to_contain_text("Calls to (212) 555-0147 stopped")
    expect(page.locator("#calling-status")).to_have_text("Opted out")
    expect(page.locator("#suppression-state")).to_contain_text("Opted out")
    expect(timeline.locator("tbody tr")).to_have_count(2)
    expect(timeline.locator("tbody tr").first).to_contain_text("Withdrew consent")
    expect(page.get_by_role("button", name=re.compile("Yes, stop calling"))).to_have_count(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "contact-detail-opted-out.png", full_page=True)
