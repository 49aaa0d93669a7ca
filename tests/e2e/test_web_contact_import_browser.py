"""Import contacts in headless Chromium: choose a file, fix a column, import, read the report."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from ringfence.bootstrap import Container
from ringfence.entrypoints.asgi import create_app
from ringfence.entrypoints.web.routes.contact_import import get_runner
from ringfence.services.contact_import_report import ImportPhase
from tests.conftest import Tenant
from tests.e2e.browser import log_in, serve_in_thread
from tests.e2e.test_web_accessibility import _violations
from tests.e2e.test_web_contact_import import HeldRunner

CSV = (
    b"Cell phone,Given,Surname\n"
    b"(212) 555-0147,Ava,Smith\n"
    b"555-01,Ben,Jones\n"
    b"212-555-0148,Dee,Reyes\n"
)


def test_staff_import_a_csv_and_see_the_report(
    page: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    log_in(page, live_server, tenant.api_key)
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("link", name="Import contacts").click()
    expect(page.get_by_role("heading", name="Import contacts", level=1)).to_be_visible()

    page.get_by_label("CSV file").set_input_files(
        {"name": "patients.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    expect(page.get_by_label("Location")).to_have_value(str(tenant.location_id))
    page.get_by_role("button", name="Upload and check the columns").click()

    expect(page.get_by_role("heading", name="Check the columns", level=1)).to_be_visible()
    phone = page.get_by_label("Ringfence field for column “Cell phone”")
    expect(phone).to_have_value("phone")  # recognised by its name
    given = page.get_by_label("Ringfence field for column “Given”")
    expect(given).to_have_value("ignore")  # not recognised: staff choose
    given.select_option(label="First name")
    page.get_by_label("Ringfence field for column “Surname”").select_option("last_name")
    preview = page.locator("#import-preview")
    expect(preview.get_by_role("row", name=re.compile(r"^3 555-01 Ben Jones"))).to_be_visible()

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import report", level=1)).to_be_visible()
    expect(page.get_by_text("Imported: 2 new, 0 merged, 1 skipped.")).to_be_visible()
    expect(page.locator('[data-count="created"]')).to_have_text("2")
    expect(page.locator('[data-count="skipped"]')).to_have_text("1")
    problem = page.locator("#import-problems").get_by_role("row", name=re.compile(r"^3 "))
    expect(problem).to_contain_text("Skipped")
    expect(problem).to_contain_text("Phone number not valid")
    expect(page.locator("#consent-notice")).to_contain_text("never records consent")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the row report (CSV)").click()
    assert download.value.suggested_filename == "patients-import-report.csv"

    contacts = page.request.get(f"{live_server}/api/v1/contacts", headers=tenant.headers).json()
    assert sorted((c["phone"], c["first_name"]) for c in contacts["items"]) == [
        ("+12125550147", "Ava"),
        ("+12125550148", "Dee"),
    ]


def test_a_spreadsheet_file_is_named_before_it_is_sent(
    page: Page, live_server: str, tenant: Tenant
) -> None:
    log_in(page, live_server, tenant.api_key)
    page.goto(f"{live_server}/app/contacts/import")
    page.get_by_label("CSV file").set_input_files(
        {
            "name": "patients.xlsx",
            "mimeType": "application/vnd.ms-excel",
            "buffer": b"PK\x03\x04\x00\x00",
        }
    )
    expect(page.locator("#import-file-size")).to_contain_text("“patients.xlsx” is not a CSV file")
    page.get_by_role("button", name="Upload and check the columns").click()
    # The browser keeps the form: nothing was sent.
    expect(page).to_have_url(f"{live_server}/app/contacts/import")
    expect(page.get_by_role("heading", name="Import contacts", level=1)).to_be_visible()


def test_the_progress_page_moves_and_opens_the_report(
    page: Page, container: Container, tenant: Tenant
) -> None:
    held = HeldRunner()
    app = create_app(container)
    app.dependency_overrides[get_runner] = lambda: held
    with serve_in_thread(app) as server:
        log_in(page, server, tenant.api_key)
        page.goto(f"{server}/app/contacts/import")
        page.get_by_label("CSV file").set_input_files(
            {"name": "patients.csv", "mimeType": "text/csv", "buffer": CSV}
        )
        page.get_by_role("button", name="Upload and check the columns").click()
        page.get_by_label("Ringfence field for column “Given”").select_option("first_name")
        page.get_by_role("button", name="Check without saving").click()

        expect(page.get_by_role("heading", name="Checking the file", level=1)).to_be_visible()
        bar = page.get_by_role("progressbar", name="Checking rows: 0 of 3")
        expect(bar).to_be_visible()
        expect(page.locator("#import-phase")).to_have_text("Checking rows…")
        assert _violations(page, "import progress") == []

        [job] = held.held
        job.tracker(ImportPhase.VALIDATING, 2, 3)
        # htmx polls every second: the bar moves without a reload.
        expect(page.get_by_role("progressbar", name="Checking rows: 2 of 3")).to_have_attribute(
            "value", "2"
        )
        held.run_all()
        expect(
            page.get_by_role("heading", name=re.compile("^Check report"), level=1)
        ).to_be_visible()
        expect(page.get_by_text("Checked 3 rows: nothing was saved.")).to_be_visible()
