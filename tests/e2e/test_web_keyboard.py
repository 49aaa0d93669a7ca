"""The workflow editor and the dashboard work from the keyboard alone, with focus visible.

Nothing here clicks: a member of staff who cannot use a mouse reaches each control with Tab
(and Shift+Tab), and uses it with Enter, Space, typing and the arrow keys. Each control that
takes focus on the way must show it (an outline or a ring), or keyboard users are lost.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.services.demo_history import set_up_demo_with_history
from tests.e2e.browser import log_in

MAX_TABS = 200  # more than any page here has controls: a control never reached fails


def _focused(page: Page) -> dict[str, str]:
    """The focused element's accessible-ish name, its tag, and whether focus is visible."""
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            const labels = e.labels ? Array.from(e.labels).map(l => l.innerText).join(' ') : '';
            const style = getComputedStyle(e);
            const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                || (style.boxShadow && style.boxShadow !== 'none');
            return {
                name: (e.getAttribute('aria-label') || labels || e.innerText || e.value || '')
                    .trim().replace(/\\s+/g, ' '),
                tag: e.tagName.toLowerCase(),
                visible: ring ? 'yes' : 'no',
            };
        }"""
    )


def _tab_to(page: Page, name: str | re.Pattern[str], *, back: bool = False) -> None:
    """Tab (or Shift+Tab) until the control named `name` has focus; it must show it."""
    pattern = name if isinstance(name, re.Pattern) else re.compile(re.escape(name))
    seen: list[str] = []
    for _ in range(MAX_TABS):
        focused = _focused(page)
        seen.append(f"{focused['tag']}:{focused['name'][:30]}")
        # The control may have focus already (autofocus); past the last control focus leaves
        # the page for a moment (the body), which names nothing.
        if focused["tag"] != "body" and pattern.search(focused["name"]):
            assert focused["visible"] == "yes", f"focus on {focused} is not visible"
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    pytest.fail(f"no control named {pattern.pattern!r} is reachable with Tab; went {seen[:60]}")


@pytest.fixture
def staff(page: Page, live_server: str, container: Container, clock: VirtualClock) -> Page:
    result, _ = set_up_demo_with_history(container.session_factory, now=clock.now(), days=2)
    log_in(page, live_server, result.api_key)
    return page


def test_a_step_is_added_to_a_draft_from_the_keyboard(staff: Page, live_server: str) -> None:
    page = staff
    page.goto(f"{live_server}/app/workflows")
    _tab_to(page, re.compile(r"^Consult follow-up"))  # a draft the demo left to explore
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Consult follow-up")
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
    steps = page.get_by_role("list", name="Steps").locator(":scope > li")
    before = steps.count()

    _tab_to(page, "Add a step after step 1")
    page.keyboard.press("Enter")
    picker = page.get_by_role("group", name="Add an action")
    expect(picker).to_be_visible()
    _tab_to(page, "Search actions")
    # A person cannot type before htmx has wired the box it just swapped in; a test can.
    page.wait_for_function(
        "() => document.activeElement['htmx-internal-data']?.firstInitCompleted === true"
    )
    page.keyboard.type("note")
    expect(page.locator("#picker-1-results").get_by_role("link")).to_have_count(1)
    _tab_to(page, re.compile(r"Add Note|Note"))
    page.keyboard.press("Enter")

    form = page.locator("#step-form")
    expect(form).to_be_visible()
    # The form that replaced the picker has focus: keyboard users are not left on the page.
    expect(form.get_by_role("heading", name="Add Note")).to_be_focused()
    _tab_to(page, re.compile(r"^Note"))
    page.keyboard.type("Called about the consult.")
    _tab_to(page, "Save step")
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"Step 2 added"))).to_be_visible()
    expect(steps).to_have_count(before + 1)
    expect(steps.nth(1)).to_contain_text("Called about the consult.")


def test_the_dashboard_filters_and_drawer_from_the_keyboard(staff: Page, live_server: str) -> None:
    page = staff
    outbound = f"{live_server}/app/voice-ai/dashboards/outbound"
    page.goto(outbound)
    rows = page.locator("#call-log tbody tr")
    expect(rows.first).to_be_visible()
    everything = rows.count()

    # A status filter: Tab to its box, Space to tick it, Tab on to Apply, Enter.
    _tab_to(page, re.compile(r"^Voicemail$"))
    page.keyboard.press("Space")
    _tab_to(page, re.compile(r"^Apply$"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"status=voicemail"))
    expect(rows.first).to_contain_text("Voicemail")
    assert rows.count() <= everything

    # A call's details open in the drawer with focus in it; Escape closes it and gives focus
    # back where it was.
    _tab_to(page, re.compile(r"^(View|Details|Play)\b"))
    page.keyboard.press("Enter")
    drawer = page.locator("#drawer")
    expect(drawer).to_be_visible()
    expect(drawer.locator("#drawer-title")).to_be_focused()
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    assert re.match(r"^(View|Details|Play)\b", _focused(page)["name"])
