"""The outbound dashboard in headless Chromium: the tab rule, every filter through the real
form, sorting, tiles, the chart, the call drawer with a recording that plays, the CSV
download, read-only share links, and the live refresh.

Screenshots of the main views go to `test-artifacts/` at the repository root (git-ignored).
"""

from __future__ import annotations

import csv
import math
import re
import sys
import wave
from array import array
from datetime import date, time, timedelta
from pathlib import Path
from typing import Final

import pytest
from playwright.sync_api import Locator, Page, expect

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import CallOutcome, CallType
from ringfence.entrypoints.web.routes import dashboard as dashboard_routes
from tests.conftest import Tenant
from tests.dashboard_calls import CallBook
from tests.e2e.browser import ARTIFACTS, log_in
from tests.factories import add_voice_agent

TODAY: Final = date(2026, 11, 26)  # the virtual clock's day in New York (10:00 there)
EARLY: Final = time(9, 0)  # before the clock's 10:00, so "today's" calls are in the past
DASHBOARDS: Final = "/app/voice-ai/dashboards"
OUTBOUND: Final = f"{DASHBOARDS}/outbound"


@pytest.fixture(autouse=True)
def recordings_dir(container: Container, tmp_path: Path) -> Path:
    """Recordings in the test's own folder, not var/recordings in the working tree (the
    routes read `container.settings` on every request)."""
    store = tmp_path / "recordings"
    store.mkdir()
    container.settings = container.settings.model_copy(update={"recordings_dir": store})
    return store


def _screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def _write_tone(path: Path, *, seconds: float = 1.0, rate: int = 8_000) -> None:
    """A real WAV the browser can decode: a 440 Hz tone, mono, 16-bit PCM."""
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = array(
        "h",
        (int(12_000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(rate * seconds))),
    )
    if sys.byteorder == "big":  # WAV is little-endian
        samples.byteswap()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


def _play_muted(page: Page) -> None:
    """Start the drawer's recording and wait until the browser has decoded and played some.

    Muted, so Chromium's autoplay policy lets a script start it without a user gesture."""
    page.evaluate(
        """async () => {
             const audio = document.getElementById('recording-player');
             audio.muted = true;
             await audio.play();
           }"""
    )
    page.wait_for_function(
        """() => {
             const audio = document.getElementById('recording-player');
             return audio.error === null && audio.readyState >= 2 && audio.currentTime > 0;
           }"""
    )


def _rows(page: Page) -> Locator:
    return page.locator("#call-log-table tbody tr[data-job]")


def _row(page: Page, job_id: int) -> Locator:
    return page.locator(f'#call-log-table tbody tr[data-job="{job_id}"]')


def _tile(page: Page, name: str) -> Locator:
    return page.locator(f"#tile-{name}")


def _filters(page: Page) -> Locator:
    return page.get_by_role("form", name="Filters")


def _apply(page: Page) -> None:
    _filters(page).get_by_role("button", name="Apply").click()


def _shown_jobs(page: Page, *expected: int) -> None:
    """The call log shows exactly these calls, in this order."""
    rows = _rows(page)
    expect(rows).to_have_count(len(expected))
    for index, job_id in enumerate(expected):
        expect(rows.nth(index)).to_have_attribute("data-job", str(job_id))


def test_the_outbound_tab_appears_once_an_outbound_agent_and_a_call_exist(
    staff: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    page = staff
    page.goto(f"{live_server}{OUTBOUND}")
    missing = page.locator("#outbound-unavailable")
    expect(missing).to_contain_text("The Outbound dashboard is not available yet")
    expect(missing.locator(".missing li")).to_have_count(2)
    expect(missing).to_contain_text("No Voice AI agent at this location is configured")
    expect(missing).to_contain_text("No outbound call has been logged yet")
    tabs = page.get_by_role("navigation", name="Call direction")
    expect(tabs.get_by_role("link")).to_have_text(["Inbound"])

    add_voice_agent(container, tenant)
    page.reload()
    expect(missing.locator(".missing li")).to_have_count(1)
    expect(missing).to_contain_text("No outbound call has been logged yet")
    expect(tabs.get_by_role("link")).to_have_text(["Inbound"])

    CallBook(container, tenant).call(CallOutcome.CONNECTED, day=TODAY, at=EARLY, duration=30)
    page.goto(f"{live_server}{DASHBOARDS}")
    expect(tabs.get_by_role("link")).to_have_text(["Inbound", "Outbound"])
    expect(tabs.get_by_role("link", name="Inbound")).to_have_attribute("aria-current", "page")
    tabs.get_by_role("link", name="Outbound").click()
    expect(page).to_have_url(f"{live_server}{OUTBOUND}")
    expect(tabs.get_by_role("link", name="Outbound")).to_have_attribute("aria-current", "page")
    expect(_tile(page, "attempted").locator(".tile__value")).to_have_text("1")
    expect(page.locator("#outbound-unavailable")).to_have_count(0)


def test_every_filter_goes_through_the_form_into_a_bookmarkable_url(
    staff: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    today = book.call(CallOutcome.CONNECTED, day=TODAY, at=EARLY, duration=30)
    monday = book.call(
        CallOutcome.VOICEMAIL,
        day=TODAY - timedelta(days=3),
        duration=20,
        workflow="Lead reactivation",
    )
    two_weeks_ago = book.call(CallOutcome.FAILED, day=TODAY - timedelta(days=16))
    october = book.call(CallOutcome.NO_ANSWER, day=date(2026, 10, 1))
    test_call = book.call(
        CallOutcome.CONNECTED, day=TODAY, at=time(9, 30), duration=12, call_type=CallType.TEST
    )
    page = staff
    form = _filters(page)
    attempted = _tile(page, "attempted").locator(".tile__value")

    page.goto(f"{live_server}{OUTBOUND}")  # the default view: 7 days, live calls
    _shown_jobs(page, today, monday)
    expect(attempted).to_have_text("2")

    form.get_by_label("Time range").select_option(label="Today")
    _apply(page)
    expect(page).to_have_url(re.compile(r"[?&]range=today(&|$)"))
    _shown_jobs(page, today)
    expect(attempted).to_have_text("1")
    page.reload()  # the URL alone carries the view
    expect(form.get_by_label("Time range")).to_have_value("today")
    _shown_jobs(page, today)

    form.get_by_label("Time range").select_option(label="30 Days")
    _apply(page)
    expect(page).to_have_url(re.compile(r"[?&]range=30d(&|$)"))
    _shown_jobs(page, today, monday, two_weeks_ago)
    expect(attempted).to_have_text("3")

    # Typing a date picks Custom (a range left at "30 Days" would silently drop the dates).
    form.get_by_label("From", exact=True).fill("2026-09-25")
    expect(form.get_by_label("Time range")).to_have_value("custom")
    form.get_by_label("To", exact=True).fill("2026-10-05")
    _apply(page)
    expect(page).to_have_url(re.compile(r"range=custom&from=2026-09-25&to=2026-10-05"))
    _shown_jobs(page, october)
    expect(page.locator(".dash-scope")).to_contain_text("2026-09-25 to 2026-10-05")
    page.goto(page.url)  # bookmarked: opened again from the address alone
    _shown_jobs(page, october)
    expect(form.get_by_label("From", exact=True)).to_have_value("2026-09-25")

    # Test calls: only under Call Type = Test, badged as never counting.
    form.get_by_label("Time range").select_option(label="7 Days")
    form.get_by_label("Call Type").select_option(label="Test calls")
    _apply(page)
    expect(page).to_have_url(re.compile(r"[?&]type=test(&|$)"))
    _shown_jobs(page, test_call)
    expect(page.locator(".badge--test")).to_have_text("Test calls never count in live metrics")
    form.get_by_label("Call Type").select_option(label="Live calls")
    _apply(page)
    expect(page).not_to_have_url(re.compile(r"type=test"))
    _shown_jobs(page, today, monday)
    expect(page.locator(".badge--test")).to_have_count(0)

    # Workflow.
    form.get_by_label("Workflow").select_option(label="Lead reactivation")
    _apply(page)
    expect(page).to_have_url(re.compile(rf"[?&]workflow={book.workflows['Lead reactivation']}"))
    _shown_jobs(page, monday)
    expect(page.locator(".dash-scope")).to_contain_text("workflow “Lead reactivation”")
    page.reload()
    expect(form.get_by_label("Workflow")).to_have_value(str(book.workflows["Lead reactivation"]))
    _shown_jobs(page, monday)

    # Status checkboxes (with a range wide enough to hold one of each).
    form.get_by_label("Workflow").select_option(label="All workflows")
    form.get_by_label("Time range").select_option(label="30 Days")
    form.get_by_label("Failed", exact=True).check()
    form.get_by_label("Voicemail", exact=True).check()
    _apply(page)
    expect(page).to_have_url(re.compile(r"[?&]status=voicemail&status=failed(&|$)"))
    _shown_jobs(page, monday, two_weeks_ago)
    expect(attempted).to_have_text("2")
    page.reload()
    expect(form.get_by_label("Failed", exact=True)).to_be_checked()
    expect(form.get_by_label("Connected", exact=True)).not_to_be_checked()
    _shown_jobs(page, monday, two_weeks_ago)

    form.get_by_role("link", name="Reset").click()
    expect(page).to_have_url(f"{live_server}{OUTBOUND}")
    _shown_jobs(page, today, monday)


def test_clicking_a_column_header_sorts_and_a_second_click_reverses(
    staff: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    medium = book.call(CallOutcome.CONNECTED, day=TODAY, at=time(8, 0), duration=30)
    longest = book.call(CallOutcome.CONNECTED, day=TODAY, at=time(8, 30), duration=90)
    shortest = book.call(CallOutcome.CONNECTED, day=TODAY, at=time(9, 0), duration=10)
    page = staff
    page.goto(f"{live_server}{OUTBOUND}")
    header = page.locator("#call-log-table thead th", has_text="Duration")
    date_header = page.locator("#call-log-table thead th", has_text="Date / Time")
    expect(date_header).to_have_attribute("aria-sort", "descending")  # newest first by default
    expect(header).not_to_have_attribute("aria-sort", re.compile("."))
    _shown_jobs(page, shortest, longest, medium)

    # A new column sorts ascending first (only the date column starts descending).
    header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=duration&dir=asc#call-log$"))
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(date_header).not_to_have_attribute("aria-sort", re.compile("."))
    _shown_jobs(page, shortest, medium, longest)
    expect(_rows(page).locator("td:nth-child(4)")).to_have_text(["10 s", "30 s", "90 s"])

    header.get_by_role("link").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"sort=duration#call-log$"))  # desc is the default
    _shown_jobs(page, longest, medium, shortest)
    expect(_rows(page).locator("td:nth-child(4)")).to_have_text(["90 s", "30 s", "10 s"])


def test_the_connected_tile_leads_to_the_log_of_connected_and_voicemail_calls(
    staff: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    connected = book.call(CallOutcome.CONNECTED, day=TODAY, at=time(8, 0), duration=30)
    voicemail = book.call(CallOutcome.VOICEMAIL, day=TODAY, at=time(8, 30), duration=20)
    book.call(CallOutcome.NO_ANSWER, day=TODAY, at=time(8, 45))
    book.call(CallOutcome.FAILED, day=TODAY, at=time(9, 0))
    page = staff
    page.goto(f"{live_server}{OUTBOUND}")
    expect(_rows(page)).to_have_count(4)

    _tile(page, "connected").click()
    expect(page).to_have_url(re.compile(r"\?status=connected&status=voicemail#call-log$"))
    _shown_jobs(page, voicemail, connected)
    expect(_rows(page).locator(".status")).to_have_text(["Voicemail", "Connected"])
    form = _filters(page)
    expect(form.get_by_label("Connected", exact=True)).to_be_checked()
    expect(form.get_by_label("Voicemail", exact=True)).to_be_checked()
    expect(form.get_by_label("Failed", exact=True)).not_to_be_checked()
    expect(page.locator("#call-log")).to_be_in_viewport()


def test_tiles_and_the_trend_chart_show_exact_counts_on_hover(
    staff: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    book.call(CallOutcome.CONNECTED, day=TODAY, at=time(8, 0), duration=30, sentiment="positive")
    book.call(CallOutcome.VOICEMAIL, day=TODAY, at=time(8, 30), duration=20)
    book.call(CallOutcome.NO_ANSWER, day=TODAY, at=time(8, 45))
    book.call(CallOutcome.FAILED, day=TODAY, at=time(9, 0))
    book.call(CallOutcome.CONNECTED, day=TODAY - timedelta(days=2), duration=60)
    page = staff
    page.goto(f"{live_server}{OUTBOUND}")

    expect(_tile(page, "attempted")).to_have_attribute(
        "title", "5 dials: 2 connected, 1 voicemail, 1 no answer, 1 failed"
    )
    expect(_tile(page, "connected")).to_have_attribute(
        "title", "3 reached: 2 live person, 1 voicemail"
    )
    expect(_tile(page, "sentiment")).to_have_attribute(
        "title",
        "Live conversations only (voicemail excluded): 1 positive, 0 neutral, 0 negative",
    )

    page.wait_for_function("() => window.Chart !== undefined")
    page.wait_for_function("Chart.getChart(document.getElementById('trend-chart')) !== undefined")
    totals = page.evaluate(
        """() => Chart.getChart(document.getElementById('trend-chart')).data.datasets
             .map(d => [d.label, d.data.reduce((a, b) => a + b, 0)])"""
    )
    assert totals == [["Attempted", 5], ["Connected", 3], ["Failed", 1]]

    # Hovering today's bars shows every series' exact count for that day.
    point = page.evaluate(
        """() => {
             const chart = Chart.getChart(document.getElementById('trend-chart'));
             const bars = chart.getDatasetMeta(0).data;
             const today = bars[bars.length - 1];
             return {x: today.x, y: (today.y + today.base) / 2};
           }"""
    )
    page.locator("#trend-chart").hover(position=point)  # scrolls it into view first
    page.wait_for_function(
        """() => Chart.getChart(document.getElementById('trend-chart'))
             .tooltip.getActiveElements().length === 3"""
    )
    lines = page.evaluate(
        """() => Chart.getChart(document.getElementById('trend-chart'))
             .tooltip.body.flatMap(b => b.lines)"""
    )
    assert lines == ["Attempted: 4", "Connected: 2", "Failed: 1"]
    _screenshot(page, "dashboard")


def test_the_drawer_plays_the_recording_and_shows_transcript_actions_and_trail(
    staff: Page,
    live_server: str,
    container: Container,
    tenant: Tenant,
    recordings_dir: Path,
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    job = book.call(
        CallOutcome.CONNECTED,
        day=TODAY,
        at=EARLY,
        duration=70,
        sentiment="positive",
        actions=("tag_applied",),
        recording=True,
        name="Dana Patient",
        turns=[
            {
                "speaker": "agent",
                "text": "Hi Dana, it's Glow Aesthetics.",
                "start": 0.0,
                "end": 2.0,
            },
            {"speaker": "callee", "text": "Yes, see you Friday.", "start": 65.5, "end": 67.0},
        ],
    )
    # Long enough to be still playing when the drawer closes, however slow this machine is.
    _write_tone(recordings_dir / f"{tenant.account_id}/{job}.wav", seconds=10.0)
    page = staff
    page.goto(f"{live_server}{OUTBOUND}")
    drawer = page.locator("#drawer")
    expect(drawer).to_be_hidden()

    _row(page, job).get_by_role("link", name="Play").click()
    expect(drawer).to_be_visible()
    expect(page).to_have_url(f"{live_server}{OUTBOUND}")  # a drawer, not a page change
    expect(drawer.get_by_role("heading", level=2)).to_contain_text(f"Call #{job}")
    expect(drawer.locator("#drawer-title")).to_be_focused()
    expect(drawer.locator(".facts")).to_contain_text("Dana Patient")

    player = drawer.locator("audio#recording-player")
    expect(player).to_have_attribute("src", f"{OUTBOUND}/calls/{job}/recording")
    _play_muted(page)
    duration = page.evaluate("document.getElementById('recording-player').duration")
    assert duration == pytest.approx(10.0, abs=0.05)

    expect(drawer.locator(".transcript .turn")).to_have_text(
        [
            "0:00.0 Agent Hi Dana, it's Glow Aesthetics.",
            "1:05.5 Callee Yes, see you Friday.",
        ]
    )
    expect(drawer.locator(".actions li")).to_have_text(["Tag applied: tag_applied"])
    expect(drawer.locator(".trail li")).to_have_count(1)
    expect(drawer.locator(".trail li").first).to_contain_text("queued → completed")
    _screenshot(page, "dashboard-drawer")

    assert page.evaluate("document.getElementById('recording-player').paused") is False
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    # Closing the drawer stops the recording: nothing plays from a hidden drawer.
    assert page.evaluate("document.getElementById('recording-player').paused") is True

    # The close button does the same, and the drawer opens again for the next call.
    _row(page, job).get_by_role("link", name="View").click()
    expect(drawer).to_be_visible()
    _play_muted(page)
    drawer.get_by_role("button", name="Close details").click()
    expect(drawer).to_be_hidden()
    assert page.evaluate("document.getElementById('recording-player').paused") is True


def test_the_kebab_menu_exports_only_the_connected_calls_as_csv(
    staff: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    first = book.call(CallOutcome.CONNECTED, day=TODAY, at=time(8, 0), duration=30)
    second = book.call(CallOutcome.CONNECTED, day=TODAY - timedelta(days=1), duration=45)
    book.call(CallOutcome.VOICEMAIL, day=TODAY, at=time(8, 30), duration=20)
    book.call(CallOutcome.FAILED, day=TODAY, at=time(9, 0))
    page = staff
    page.goto(f"{live_server}{OUTBOUND}")
    _filters(page).get_by_label("Connected", exact=True).check()
    _apply(page)
    expect(page).to_have_url(re.compile(r"\?range=7d&.*status=connected"))
    _shown_jobs(page, first, second)

    export = page.get_by_role("link", name="Export CSV (the filtered calls)")
    expect(export).to_be_hidden()  # inside the closed kebab menu
    page.get_by_label("More actions").click()
    expect(export).to_be_visible()
    with page.expect_download() as info:
        export.click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename == "outbound-calls-live-2026-11-20-to-2026-11-26.csv"
    with Path(download.path()).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(r["Call ID"]), r["Call Status"]) for r in rows] == [
        (first, "Connected"),
        (second, "Connected"),
    ]


def test_a_share_link_is_read_only_without_phi_and_refused_once_revoked_or_expired(
    staff: Page,
    anonymous: Page,
    live_server: str,
    container: Container,
    clock: VirtualClock,
    tenant: Tenant,
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    book.call(CallOutcome.CONNECTED, day=TODAY, at=time(8, 0), duration=40, name="Dana Patient")
    book.call(CallOutcome.FAILED, day=TODAY, at=time(9, 0), name="Evan Patient")
    page = staff
    page.goto(f"{live_server}{OUTBOUND}")
    _filters(page).get_by_label("Connected", exact=True).check()
    _apply(page)
    page.get_by_label("More actions").click()
    page.get_by_role("link", name="Share a read-only link").click()
    expect(page).to_have_url(re.compile(r"/shares\?.*status=connected"))
    share_form = page.locator("#share-form")
    expect(share_form).to_contain_text("View shared: status=connected")
    share_form.get_by_label("Label").fill("Owners' review")
    share_form.get_by_role("button", name="Create link").click()
    expect(page.locator(".flash--success")).to_contain_text("Share link made (without PHI)")
    links = page.locator("#share-links tbody tr")
    expect(links).to_have_count(1)
    url = links.first.get_by_label("Share URL").input_value()
    assert re.fullmatch(rf"{re.escape(live_server)}/share/dashboard/[\w.-]+", url)

    response = anonymous.goto(url)
    assert response is not None
    assert response.status == 200
    expect(anonymous.get_by_role("heading", level=1)).to_contain_text("Outbound dashboard")
    expect(anonymous.locator("form")).to_have_count(0)
    expect(anonymous.get_by_role("button", name="Sign out")).to_have_count(0)
    body = anonymous.locator("body")
    expect(body).not_to_contain_text("Dana Patient")
    expect(body).not_to_contain_text("Evan Patient")
    expect(anonymous.locator("#call-log-table tbody tr[data-job]")).to_have_count(1)
    expect(anonymous.locator("#tile-attempted .tile__value")).to_have_text("1")
    expect(anonymous.locator("#tile-connected .tile__value")).to_have_text("1")
    expect(anonymous.locator("#tile-duration .tile__value")).to_have_text("0m 40s")
    expect(anonymous.get_by_role("link", name="Play")).to_have_count(0)
    anonymous.wait_for_function(
        "Chart.getChart(document.getElementById('trend-chart')) !== undefined"
    )
    _screenshot(anonymous, "dashboard-share")

    links.first.get_by_role("button", name="Revoke").click()
    expect(page.locator(".flash--success")).to_contain_text("Share link revoked")
    expect(links.first.locator("td").nth(5)).to_have_text("revoked")
    response = anonymous.reload()
    assert response is not None
    assert response.status == 410
    expect(anonymous.locator("#share-refused")).to_have_attribute("data-reason", "revoked")
    expect(anonymous.locator("#share-refused")).to_contain_text("has been revoked")

    # A second link (7 days by default) is refused once eight days have passed.
    share_form.get_by_role("button", name="Create link").click()
    expect(links).to_have_count(2)
    second = links.first.get_by_label("Share URL").input_value()
    response = anonymous.goto(second)
    assert response is not None
    assert response.status == 200
    clock.advance(timedelta(days=8))
    response = anonymous.reload()
    assert response is not None
    assert response.status == 410
    expect(anonymous.locator("#share-refused")).to_have_attribute("data-reason", "expired")
    log_in(page, live_server, tenant.api_key)  # the staff session lapsed in those days too
    page.goto(f"{live_server}{OUTBOUND}/shares")
    expect(links.locator("td:nth-child(6)")).to_have_text(["expired", "revoked"])


def test_a_call_that_just_ended_appears_without_a_reload(
    staff: Page,
    live_server: str,
    container: Container,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The route reads the interval when it renders; one second keeps this test quick.
    monkeypatch.setattr(dashboard_routes, "LIVE_REFRESH_SECONDS", 1)
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    first = book.call(CallOutcome.CONNECTED, day=TODAY, at=time(8, 0), duration=30)
    page = staff
    page.goto(f"{live_server}{OUTBOUND}")
    expect(page.locator("#live")).to_have_attribute("hx-trigger", "every 1s")
    _shown_jobs(page, first)
    expect(_tile(page, "attempted").locator(".tile__value")).to_have_text("1")
    page.evaluate("window.notReloaded = true")

    just_ended = book.call(
        CallOutcome.VOICEMAIL, day=TODAY, at=time(9, 55), duration=25, name="Newly Done"
    )
    expect(_row(page, just_ended)).to_contain_text("Newly Done")
    _shown_jobs(page, just_ended, first)
    expect(_tile(page, "attempted").locator(".tile__value")).to_have_text("2")
    expect(_tile(page, "connected")).to_have_attribute(
        "title", "2 reached: 1 live person, 1 voicemail"
    )
    assert page.evaluate("window.notReloaded") is True
    # htmx wired up the swapped-in rows: their drawer links work.
    _row(page, just_ended).get_by_role("link", name="Details").click()
    expect(page.locator("#drawer")).to_contain_text(f"Call #{just_ended}")
    expect(page.locator("#drawer")).to_be_visible()
    # The chart is redrawn from the swapped-in figures.
    page.wait_for_function(
        """() => {
             const chart = Chart.getChart(document.getElementById('trend-chart'));
             return chart !== undefined && chart.data.datasets[0].data.at(-1) === 2;
           }"""
    )


def test_a_share_link_with_phi_opens_the_drawer_and_plays_the_recording(
    staff: Page,
    anonymous: Page,
    live_server: str,
    container: Container,
    tenant: Tenant,
    recordings_dir: Path,
) -> None:
    add_voice_agent(container, tenant)
    job = CallBook(container, tenant).call(
        CallOutcome.VOICEMAIL,
        day=TODAY,
        at=EARLY,
        duration=20,
        recording=True,
        name="Dana Patient",
        turns=[{"speaker": "agent", "text": "Please call us back.", "start": 0.5, "end": 2.0}],
    )
    _write_tone(recordings_dir / f"{tenant.account_id}/{job}.wav")
    page = staff
    page.goto(f"{live_server}{OUTBOUND}/shares")
    page.get_by_label("Include contact names, recordings and transcripts").check()
    page.get_by_role("button", name="Create link").click()
    expect(page.locator(".flash--success")).to_contain_text("with recordings and transcripts")
    url = page.locator("#share-links").get_by_label("Share URL").input_value()

    anonymous.goto(url)
    expect(anonymous.locator("#call-log-table")).to_contain_text("Dana Patient")
    expect(anonymous.locator("form")).to_have_count(0)
    drawer = anonymous.locator("#drawer")
    row = anonymous.locator("#call-log-table tr[data-job]")
    expect(row).to_have_count(1)
    ref = row.get_attribute("data-job")
    assert ref is not None
    assert ref != str(job)  # the shared page names calls by opaque references, not ids
    row.get_by_role("link", name="Play").click()
    expect(drawer).to_be_visible()
    expect(drawer.locator(".transcript .turn")).to_have_text(["0:00.5 Agent Please call us back."])
    expect(drawer.locator("audio")).to_have_attribute(
        "src", re.compile(rf"^/share/dashboard/[\w.-]+/calls/{re.escape(ref)}/recording$")
    )
    _play_muted(anonymous)
    anonymous.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
