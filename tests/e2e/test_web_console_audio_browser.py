"""Hearing the agent in headless Chromium: start a test call in the console, press Play on the
agent's first line, and the browser fetches the spoken line and plays it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ringfence.adapters.speech import find_espeak, piper_installed
from ringfence.bootstrap import Container
from tests.conftest import Tenant
from tests.e2e.browser import log_in
from tests.factories import add_voice_agent

pytestmark = pytest.mark.skipif(
    not piper_installed() and find_espeak() is None,
    reason="no text-to-speech engine here (Piper in .venv via the speech extra, or espeak-ng)",
)


def test_press_play_on_the_agents_first_line(
    page: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant, name="Front desk")
    log_in(page, live_server, tenant.api_key)
    page.goto(f"{live_server}/app/voice-ai/console")
    page.get_by_label("What the call is for").select_option(label="Appointment confirmation")
    page.get_by_label("Or an unknown caller's number").fill("2125550100")
    page.get_by_role("button", name="Start test call").click()
    expect(page).to_have_url(re.compile(r"/app/voice-ai/console/calls/\d+$"))

    player = page.get_by_label(re.compile(r"^Play the agent's line: Hi, this is"))
    expect(player).to_have_count(1)
    assert player.evaluate("audio => audio.readyState") == 0  # nothing fetched before Play
    player.evaluate(
        """audio => { window.played = false;
                      audio.addEventListener('playing', () => { window.played = true; }); }"""
    )
    box = player.bounding_box()
    assert box is not None
    # The play button is the first of Chromium's controls, at the left end: a real click (a
    # user gesture, so no autoplay flag is needed).
    player.click(position={"x": min(20.0, box["width"] / 2), "y": box["height"] / 2})
    page.wait_for_function("() => window.played === true")
    assert player.evaluate("audio => audio.duration") > 0.3
    page.wait_for_function("el => el.currentTime > 0", arg=player.element_handle())
