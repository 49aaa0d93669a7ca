"""`next` after sign-in: paths on this site only."""

from __future__ import annotations

import pytest

from ringfence.entrypoints.web.redirects import HOME, safe_next


@pytest.mark.parametrize(
    "target",
    [
        "/app/voice-ai",
        "/app/workflows?status=draft",
        "/app/voice-ai/dashboards/outbound#calls",
        "/console",
    ],
)
def test_relative_paths_on_this_site_are_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "http://evil.example/app",
        "//evil.example/app",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\tevil.example",
        "/app\nSet-Cookie: x=1",
        "javascript:alert(1)",
        "app/voice-ai",
        "evil.example",
        "/" + "a" * 5000,
    ],
)
def test_anything_else_falls_back_to_the_home_page(target: str | None) -> None:
    assert safe_next(target) == HOME
