"""The web pages in headless Chromium: sign in through the real form, see the agents, sign out."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from ringfence.bootstrap import Container
from tests.conftest import Tenant
from tests.e2e.browser import log_in
from tests.e2e.test_kyc import not_enabled  # noqa: F401 - the fixture
from tests.factories import add_voice_agent


def test_staff_sign_in_see_their_voice_agents_and_sign_out(
    page: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant, name="Manhattan front desk")
    add_voice_agent(
        container,
        tenant,
        name="Broken opener",
        outbound_openings={"lead_reactivation": "Hello there, got a minute?"},
    )

    page.goto(f"{live_server}/app/voice-ai")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fapp%2Fvoice-ai$"))

    log_in(page, live_server, tenant.api_key)
    expect(page).to_have_url(f"{live_server}/app/voice-ai")
    expect(page.get_by_role("heading", name="Voice AI", level=1)).to_be_visible()
    expect(page.locator(".account")).to_have_text("Glow Aesthetics")
    menu = page.get_by_role("navigation", name="Main menu")
    expect(menu.get_by_role("link", name="Voice AI")).to_have_attribute("aria-current", "page")
    expect(menu.get_by_role("link", name="Workflows")).to_have_attribute("href", "/app/workflows")

    ready = page.locator(".agent", has=page.get_by_role("heading", name="Manhattan front desk"))
    expect(ready.locator(".badge")).to_have_text("Ready for outbound")
    broken = page.locator(".agent", has=page.get_by_role("heading", name="Broken opener"))
    expect(broken.locator(".badge")).to_have_text("Needs attention")
    expect(broken.get_by_role("row", name=re.compile("Lead reactivation"))).to_contain_text("fails")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto(f"{live_server}/app/voice-ai")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_a_wrong_key_stays_on_the_form_with_an_error(
    page: Page, live_server: str, tenant: Tenant
) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("API key").fill("rf_wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    expect(page.get_by_label("API key")).to_have_attribute("aria-invalid", "true")


def test_the_enable_button_reads_as_a_button_and_checkboxes_sit_beside_their_labels(
    page: Page,
    live_server: str,
    not_enabled: Tenant,  # noqa: F811 - the fixture
) -> None:
    """The button's text is the button's ink (not the warning's brown), not underlined; each
    intended-use checkbox is a box beside its words, not stretched across the row."""
    log_in(page, live_server, not_enabled.api_key)
    page.goto(f"{live_server}/app/voice-ai")
    button = page.locator("#outbound-not-enabled").get_by_role("link", name="Enable Outbound Calls")
    expect(button).to_be_visible()
    style = button.evaluate(
        """el => {
            const css = getComputedStyle(el);
            const ink = getComputedStyle(document.documentElement)
                .getPropertyValue('--brand-ink').trim();
            const probe = document.createElement('span');
            probe.style.color = ink;
            document.body.append(probe);
            const inkRgb = getComputedStyle(probe).color;
            probe.remove();
            return {color: css.color, ink: inkRgb, line: css.textDecorationLine,
                    background: css.backgroundColor};
        }"""
    )
    assert style["color"] == style["ink"]
    assert style["line"] == "none"
    assert style["background"] != style["color"]

    button.click()
    boxes = page.locator("label.check input[type=checkbox]")
    # count() does not wait: the enablement page must have loaded first (it had not, once, on CI).
    expect(boxes.first).to_be_visible()
    assert boxes.count() >= 5
    for i in range(boxes.count()):
        box = boxes.nth(i).bounding_box()
        label = boxes.nth(i).locator("xpath=..").bounding_box()
        assert box is not None
        assert label is not None
        assert box["width"] < 30  # a box, not a bar
        # On the label's line, with the label's words to its right.
        assert label["y"] <= box["y"] + box["height"] / 2 <= label["y"] + label["height"]
        assert label["x"] + label["width"] > box["x"] + box["width"] + 20


def test_the_api_reference_renders_with_no_internet(page: Page, live_server: str) -> None:
    """/docs loads Swagger UI from this server: every request leaving it is refused here, as
    on a self-hosted machine with no internet access, and the reference still renders."""
    outside: list[str] = []

    def only_this_server(route: Route) -> None:
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(f"{live_server}/docs")
    # The server builds the OpenAPI document on its first request (every route's schema):
    # seconds on a machine busy with the rest of the suite, beyond expect's 5 s default
    # (a CI run failed here once; alone it renders in under a second).
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Ringfence", timeout=30_000)
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    assert outside == []


def test_testing_an_agent_from_its_card_in_the_console(
    page: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    """Voice AI → Test this agent → a test call, typed turn by turn (htmx swaps the
    conversation in place), the agent's actions in words, then hanging up."""
    add_voice_agent(container, tenant, name="Manhattan front desk")
    log_in(page, live_server, tenant.api_key)
    page.goto(f"{live_server}/app/voice-ai")
    page.get_by_role("link", name="Test this agent").click()
    expect(page.get_by_role("heading", name="Test console", level=1)).to_be_visible()
    page.get_by_label("What the call is for").select_option(label="No-show recovery")
    page.get_by_label("Or an unknown caller's number").fill("(212) 555-0100")
    page.get_by_role("button", name="Start test call").click()
    expect(page.get_by_role("heading", name="Test call · No-show recovery")).to_be_visible()
    expect(page.locator(".console-line--agent").first).to_contain_text("Glow Aesthetics")

    page.get_by_label("Say, as the patient").fill("Is this a real person or a recording?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-event=ai_disclosed]")).to_have_text("Said it is an AI assistant")
    expect(page.locator(".console-line--callee")).to_have_count(1)
    expect(page.get_by_label("Say, as the patient")).to_be_focused()
    page.get_by_role("button", name="Hang up").click()
    expect(page.locator("#call-ended")).to_contain_text("The call has ended")
