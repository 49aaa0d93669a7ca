"""The Inbound tab in headless Chromium: calls answered through the sandbox
(`take_sandbox_call`, the path the CLI's `call-inbound` takes) show in the tiles, the chart
and the call log; the line and status filters go through the real form; a call's drawer shows
its transcript; the CSV downloads; a new call appears without a reload; and a share link made
from the tab shows inbound calls only.

Screenshots go to `test-artifacts/` at the repository root (git-ignored).
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path
from typing import Final

import pytest
from playwright.sync_api import Locator, Page, expect

from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import CallOutcome
from ringfence.entrypoints.web.routes import dashboard as dashboard_routes
from tests.conftest import Tenant
from tests.dashboard_calls import PRACTICE_LINE, CallBook, answer
from tests.e2e.browser import ARTIFACTS
from tests.factories import add_voice_agent

TODAY: Final = date(2026, 11, 26)  # the virtual clock's day in New York (10:00 there)
DASHBOARDS: Final = "/app/voice-ai/dashboards"
INBOUND: Final = f"{DASHBOARDS}/inbound"
SECOND_LINE: Final = "+12125550188"
MARIA: Final = "+12125550142"


@pytest.fixture
def calls(container: Container, tenant: Tenant) -> dict[str, int]:
    """Three callers on the practice line (a patient moving her appointment, a stranger, one
    who wants no more calls), one on a second line, and an outbound call the tab never shows."""
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    book.number(PRACTICE_LINE)
    book.number(SECOND_LINE)
    book.patient("Maria", "Lopez", MARIA)
    return {
        "move": answer(container, MARIA, "Can I move my appointment to Friday?"),
        "stranger": answer(container, "+12125550177", "Hello, who is this?"),
        "stop": answer(container, "+12125550166", "Stop calling me."),
        "second line": answer(container, "+12125550155", "Hello?", line=SECOND_LINE),
        "outbound": book.call(CallOutcome.CONNECTED, day=TODAY, duration=30),
    }


def _screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def _rows(page: Page) -> Locator:
    return page.locator("#call-log-table tbody tr[data-job]")


def _row(page: Page, job_id: int) -> Locator:
    return page.locator(f'#call-log-table tbody tr[data-job="{job_id}"]')


def _filters(page: Page) -> Locator:
    return page.get_by_role("form", name="Filters")


def _shown(page: Page, *jobs: int) -> None:
    rows = _rows(page)
    expect(rows).to_have_count(len(jobs))
    for job in jobs:
        expect(_row(page, job)).to_have_count(1)


def test_the_inbound_tab_shows_filters_and_opens_answered_calls(
    staff: Page, live_server: str, calls: dict[str, int]
) -> None:
    page = staff
    page.goto(f"{live_server}{DASHBOARDS}")
    tabs = page.get_by_role("navigation", name="Call direction")
    expect(tabs.get_by_role("link", name="Inbound")).to_have_attribute("aria-current", "page")
    expect(page.locator("#inbound-empty")).to_have_count(0)
    expect(page.locator("#tile-attempted .tile__label")).to_have_text("Inbound Calls")
    expect(page.locator("#tile-attempted .tile__value")).to_have_text("4")
    expect(page.locator("#tile-connected .tile__value")).to_have_text("4")
    expect(page.locator("#tile-actions")).to_contain_text("Opt-out applied")
    _shown(page, calls["move"], calls["stranger"], calls["stop"], calls["second line"])
    expect(_row(page, calls["move"])).to_contain_text("Maria Lopez")
    expect(_row(page, calls["move"])).to_contain_text(PRACTICE_LINE)
    # The chart names its series for inbound calls.
    page.wait_for_function(
        """() => {
             const chart = Chart.getChart(document.getElementById('trend-chart'));
             return chart !== undefined && chart.data.datasets[0].label === 'Calls'
               && chart.data.datasets[0].data.at(-1) === 4;
           }"""
    )
    _screenshot(page, "dashboard-inbound")

    # The practice line filter, through the form.
    _filters(page).get_by_label("Practice line").select_option(label=SECOND_LINE)
    _filters(page).get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/app/voice-ai/dashboards/inbound\?.*number=\d+"))
    _shown(page, calls["second line"])
    expect(page.locator("#tile-attempted .tile__value")).to_have_text("1")
    _filters(page).get_by_label("Practice line").select_option(label="All lines")
    _filters(page).get_by_label("Answered (calls still in progress left out)").check()
    _filters(page).get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"status=connected"))
    _shown(page, calls["move"], calls["stranger"], calls["stop"], calls["second line"])

    # The drawer: the caller's words, in the transcript.
    drawer = page.locator("#drawer")
    _row(page, calls["move"]).get_by_role("link", name="View").click()
    expect(drawer).to_be_visible()
    expect(drawer.locator("#drawer-title")).to_contain_text(f"Call #{calls['move']}")
    expect(drawer.locator(".facts")).to_contain_text("Practice line called")
    expect(drawer.locator(".transcript")).to_contain_text("Can I move my appointment to Friday?")
    expect(drawer.locator(".transcript .turn").first).to_contain_text("Agent")
    _screenshot(page, "dashboard-inbound-drawer")
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    _row(page, calls["stop"]).get_by_role("link", name="View").click()
    expect(drawer.locator(".transcript")).to_contain_text("Stop calling me.")
    expect(drawer.locator(".actions")).to_contain_text("Opt-out applied")

    # The CSV of the filtered calls.
    page.keyboard.press("Escape")
    page.get_by_label("More actions").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV (the filtered calls)").click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename == "inbound-calls-live-2026-11-20-to-2026-11-26.csv"
    with Path(download.path()).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(int(r["Call ID"]) for r in rows) == sorted(
        calls[k] for k in ("move", "stranger", "stop", "second line")
    )
    assert {r["Contact"] for r in rows} >= {"Maria Lopez"}
    expect(page.get_by_role("link", name="Export CSV (stopped before dialing)")).to_have_count(0)


def test_a_new_inbound_call_appears_without_a_reload(
    staff: Page,
    live_server: str,
    container: Container,
    calls: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dashboard_routes, "LIVE_REFRESH_SECONDS", 1)
    page = staff
    page.goto(f"{live_server}{INBOUND}")
    expect(page.locator("#live")).to_have_attribute("hx-trigger", "every 1s")
    expect(_rows(page)).to_have_count(4)
    page.evaluate("window.notReloaded = true")
    new = answer(container, "+12125550133", "What are your hours?")
    expect(_row(page, new)).to_have_count(1)
    expect(page.locator("#tile-attempted .tile__value")).to_have_text("5")
    assert page.evaluate("window.notReloaded") is True
    _row(page, new).get_by_role("link", name="View").click()
    expect(page.locator("#drawer .transcript")).to_contain_text("What are your hours?")


def test_a_share_link_made_on_the_inbound_tab_shows_inbound_calls_only(
    staff: Page, anonymous: Page, live_server: str, calls: dict[str, int]
) -> None:
    page = staff
    page.goto(f"{live_server}{INBOUND}")
    page.get_by_label("More actions").click()
    page.get_by_role("link", name="Share a read-only link…").click()
    expect(page.locator("#share-form")).to_contain_text("Inbound")
    page.get_by_label("Label").fill("Front desk review")
    page.get_by_label("Include contact names, recordings and transcripts (PHI)").check()
    page.get_by_role("button", name="Create link").click()
    row = page.locator("#share-links tbody tr").first
    expect(row).to_contain_text("Inbound")
    url = row.get_by_label("Share URL").input_value()

    anonymous.goto(url)
    expect(anonymous.get_by_role("heading", level=1)).to_contain_text("Inbound dashboard")
    expect(anonymous.locator("#call-log-table tbody tr[data-job]")).to_have_count(4)
    expect(anonymous.locator("form")).to_have_count(0)
    anonymous.locator("#call-log-table tbody tr[data-job]").filter(
        has_text="Maria Lopez"
    ).get_by_role("link", name="View").click()
    expect(anonymous.locator("#drawer .transcript")).to_contain_text(
        "Can I move my appointment to Friday?"
    )
