"""The consent scanner's findings follow the text as staff type it, in headless Chromium:
nothing is saved until Save (test_web_forms_browser.py has the path without script)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.conftest import Tenant
from tests.e2e.browser import log_in
from tests.e2e.test_web_forms import AI_WORDING, NO_AI_NO_NAME, _api_form


def test_the_findings_change_as_the_consent_text_is_typed(
    page: Page, live_server: str, client: TestClient, tenant: Tenant
) -> None:
    form_id = _api_form(client, tenant, "Book a consult", NO_AI_NO_NAME)
    log_in(page, live_server, tenant.api_key)
    page.goto(f"{live_server}/app/forms/{form_id}")
    voice = page.locator("#finding-artificial_voice")
    expect(voice).to_contain_text("Missing")

    box = page.get_by_label("Consent text")
    box.press("End")
    box.press_sequentially(f" {AI_WORDING}")
    expect(voice).to_contain_text("Present")
    expect(page.locator("#findings-heading")).to_have_text(
        "What the check finds in the text above (not saved yet)"
    )
    expect(page.locator("#findings-verdict")).to_contain_text("Every required part is there.")
    expect(page.locator("#findings-live")).to_have_text("Valid for AI voice calls.")

    box.fill("You may call me about my appointments.")
    expect(voice).to_contain_text("Missing")
    expect(
        page.get_by_role(
            "button", name="Use suggested wording: Says calls may use an AI or prerecorded voice"
        )
    ).to_be_visible()
    # Still version 1 on the page and in the account: typing saved nothing.
    expect(page.locator("#form-verdict")).to_have_text(
        re.compile(r"Not valid for AI voice calls\s+\(version 1\)")
    )
    saved = client.get(f"/api/v1/forms/{form_id}", headers=tenant.headers).json()
    assert saved["current_version"] == 1
