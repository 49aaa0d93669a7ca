"""Phone numbers and agent editing in headless Chromium: add a caller ID through the menu's
page, then change an agent's voicemail script from the Voice AI page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from ringfence.bootstrap import Container
from tests.conftest import Tenant
from tests.e2e.browser import log_in
from tests.factories import add_voice_agent

VOICEMAIL = (
    "Hello from the AI assistant at {practice}. We have a courtesy message: "
    "please call us back at {callback_number}."
)


def test_add_a_number_then_edit_an_agents_voicemail_script(
    page: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant, name="Front desk")
    log_in(page, live_server, tenant.api_key)

    page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name="Phone numbers"
    ).click()
    expect(page.get_by_role("heading", name="Phone numbers", level=1)).to_be_visible()
    page.get_by_label("Phone number", exact=True).fill("212-555-0177")
    page.get_by_label("Label (optional)").fill("Main line")
    page.get_by_role("button", name="Add number").click()
    expect(page.get_by_text("(212) 555-0177 added as a caller ID.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile(r"\(212\) 555-0177"))
    expect(row).to_contain_text("Main line")
    expect(row).to_contain_text("No calls yet")

    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Voice AI").click()
    page.get_by_role("link", name="Edit Front desk").click()
    expect(page.get_by_role("heading", name="Edit Front desk", level=1)).to_be_visible()
    page.get_by_label("Voicemail script").fill(VOICEMAIL)
    page.get_by_role("button", name="Save changes").click()

    expect(page).to_have_url(re.compile(r"/app/voice-ai\?location=\d+#agent-\d+$"))
    expect(page.locator(".flash--success")).to_have_text(
        "Saved “Front desk”: voicemail script changed."
    )
    agent = page.locator(".agent", has=page.get_by_role("heading", name="Front desk"))
    expect(agent.locator(".badge")).to_have_text("Ready for outbound")
    agent.get_by_role("link", name="Edit Front desk").click()
    expect(page.get_by_label("Voicemail script")).to_have_value(VOICEMAIL)
