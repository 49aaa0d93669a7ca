"""`ringfence window NUMBER`: the calling window as JSON, per the compliance issue's contract."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from ringfence.entrypoints.cli import app


def _window(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["window", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def test_multi_zone_area_code_waits_for_the_western_zone() -> None:
    # 541 (Oregon) spans Pacific and Mountain time: 17:30Z is 10:30 in Boise but 09:30 in Bend.
    answer = _window("+1 541 555 0100", "--at", "2026-11-26T17:30:00Z")
    assert answer == {
        "number": "+15415550100",
        "region": "US",
        "time_zones": ["America/Denver", "America/Los_Angeles"],
        "callable": True,
        "allowed_now": False,
        "next_start": "2026-11-26T18:00:00Z",
        "window_end": "2026-11-27T01:00:00Z",
        "reason": "outside_window",
    }


def test_allowed_now_reports_at_itself_and_the_end_of_the_stretch() -> None:
    answer = _window("(212) 555-0147", "--at", "2026-11-27T16:00:00+00:00")
    assert answer["allowed_now"] is True
    assert answer["next_start"] == "2026-11-27T16:00:00Z"
    assert answer["window_end"] == "2026-11-27T23:00:00Z"
    assert answer["reason"] is None


def test_canada_is_never_callable() -> None:
    answer = _window("+1 647 555 0100", "--at", "2026-11-27T16:00:00Z")
    assert answer["region"] == "CA"
    assert answer["callable"] is False
    assert answer["next_start"] is None
    assert answer["reason"] == "number_not_us"


def test_naive_instant_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["window", "+12125550147", "--at", "2026-11-27T10:00"])
    assert result.exit_code == 2
    assert "no time zone" in result.output
