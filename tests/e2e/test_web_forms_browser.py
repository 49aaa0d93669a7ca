"""The Forms pages in headless Chromium: make a form whose text lacks the AI-voice disclosure,
read what the check found, use the suggested wording (no script: the button posts the box as
typed), save, and see the form valid."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import Tenant
from tests.e2e.browser import log_in
from tests.e2e.test_web_forms import AI_WORDING, NO_AI_NO_NAME


def test_create_a_form_apply_the_suggested_wording_and_save_it_valid(
    page: Page, live_server: str, tenant: Tenant
) -> None:
    log_in(page, live_server, tenant.api_key)
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("link", name="Forms").click()
    expect(page.get_by_role("heading", name="Forms", level=1)).to_be_visible()
    page.get_by_role("link", name="New form").first.click()

    page.get_by_role("button", name="Create form").click()  # nothing filled in
    expect(page.get_by_role("alert")).to_contain_text("Not created")
    expect(page.get_by_text("Give the form a name.")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Name").fill("Book a consult")
    page.get_by_label("Location").select_option(label="Glow Aesthetics main")
    page.get_by_label("Consent text").fill(NO_AI_NO_NAME)
    page.get_by_role("button", name="Create form").click()
    expect(page).to_have_url(re.compile(r"/app/forms/\d+$"))
    expect(page.get_by_role("heading", name="Book a consult", level=1)).to_be_visible()
    expect(page.locator("#form-verdict")).to_have_text(
        re.compile(r"Not valid for AI voice calls\s+\(version 1\)")
    )
    voice = page.get_by_role("row", name=re.compile("Says calls may use an AI or prerecorded"))
    expect(voice).to_contain_text("Missing")
    expect(voice).to_contain_text(AI_WORDING)
    expect(page.get_by_role("row", name=re.compile("Names your practice"))).to_contain_text(
        "Missing"
    )

    page.get_by_role(
        "button", name="Use suggested wording: Says calls may use an AI or prerecorded voice"
    ).click()
    expect(page.locator("#draft-note")).to_contain_text("It is not saved yet")
    expect(page.get_by_label("Consent text")).to_have_value(f"{NO_AI_NO_NAME} {AI_WORDING}")
    expect(page.locator("#findings-verdict")).to_contain_text("Every required part is there.")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/app/forms/\d+$"))
    expect(page.get_by_role("status").first).to_contain_text(
        "saved as version 2: it is valid for AI voice calls."
    )
    expect(page.locator("#form-verdict")).to_have_text(
        re.compile(r"Valid for AI voice calls\s+\(version 2\)")
    )
    expect(page.locator("#version-1")).to_contain_text("Not valid for AI voice calls")
    expect(page.locator("#version-2")).to_contain_text("Valid for AI voice calls")

    page.get_by_role("link", name="Forms", exact=True).first.click()
    row = page.get_by_role("row", name=re.compile("Book a consult"))
    expect(row).to_contain_text("Valid for AI voice calls")
    link = row.get_by_role("textbox", name="Public link of Book a consult")
    expect(link).to_have_value(re.compile(rf"^{re.escape(live_server)}/f/\d+$"))
    page.goto(link.input_value())
    expect(page.get_by_text(AI_WORDING, exact=False)).to_be_visible()
