"""The menu entry a page belongs to."""

from __future__ import annotations

import pytest

from ringfence.entrypoints.web.navigation import MENU, current_link


@pytest.mark.parametrize(
    ("path", "entry"),
    [
        ("/app/voice-ai", "/app/voice-ai"),
        ("/app/voice-ai/agents/3", "/app/voice-ai"),
        ("/app/voice-ai/dashboards/outbound", "/app/voice-ai/dashboards/outbound"),
        ("/app/voice-ai/dashboards/outbound/calls/7", "/app/voice-ai/dashboards/outbound"),
        ("/app/voice-ai/dashboards/inbound/calls/7", "/app/voice-ai/dashboards/inbound"),
        ("/app/workflows/12/edit", "/app/workflows"),
        ("/app/voice-ai/console", "/app/voice-ai/console"),
        ("/app/voice-ai/console/calls/4", "/app/voice-ai/console"),
        # Settings → Share links sits under the dashboard's path: the longer entry wins.
        (
            "/app/voice-ai/dashboards/outbound/shares",
            "/app/voice-ai/dashboards/outbound/shares",
        ),
        ("/app/voice-ai-other", None),
        ("/login", None),
    ],
)
def test_the_longest_matching_entry_is_current(path: str, entry: str | None) -> None:
    assert current_link(path) == entry


def test_the_menu_mirrors_the_products() -> None:
    assert [section.label for section in MENU] == [
        "AI Agents",
        "Patients",
        "Automation",
        "Dashboards & Logs",
        "Settings",
    ]
    assert MENU[0].links[0].label == "Voice AI"
