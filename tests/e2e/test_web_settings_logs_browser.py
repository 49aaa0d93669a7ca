"""Settings → Audit log in headless Chromium: reach it from the menu, filter it, and open a
row's before/after disclosure."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import Tenant
from tests.e2e.browser import log_in


def test_staff_filter_the_audit_log_and_open_a_change(
    page: Page, live_server: str, tenant: Tenant
) -> None:
    api = page.request
    made = api.post(
        f"{live_server}/api/v1/contacts",
        data={"location_id": tenant.location_id, "first_name": "Ava"},
        headers=tenant.headers,
    )
    assert made.status == 201
    contact = made.json()["id"]
    changed = api.patch(
        f"{live_server}/api/v1/contacts/{contact}", data={"dnd_voice": True}, headers=tenant.headers
    )
    assert changed.ok
    kept = api.patch(
        f"{live_server}/api/v1/account", data={"phi_retention_days": 90}, headers=tenant.headers
    )
    assert kept.ok

    log_in(page, live_server, tenant.api_key)
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Audit log").click()
    expect(page).to_have_url(f"{live_server}/app/settings/audit")
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    events = page.locator("#audit-events > tbody > tr")
    expect(events).to_have_count(2)

    page.get_by_label("What happened").select_option(
        label="Changed how long call recordings and transcripts are kept"
    )
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"action=phi_retention_changed"))
    expect(events).to_have_count(1)
    row = events.first
    expect(row).to_contain_text("The API, with key “test”")

    change = row.get_by_role("row", name=re.compile("Recordings and transcripts kept"))
    expect(change).to_be_hidden()  # closed until asked for
    row.locator("summary").click()
    expect(change).to_be_visible()
    expect(change.get_by_role("cell")).to_have_text(["kept for good (no purge)", "90"])

    page.get_by_label("Record type").select_option(label="Contact")
    page.get_by_label("What happened").select_option(label="Anything")
    page.get_by_role("button", name="Filter").click()
    expect(events).to_have_count(1)
    expect(events.first.get_by_role("link", name=f"Contact #{contact}")).to_have_attribute(
        "href", f"/app/contacts/{contact}"
    )
