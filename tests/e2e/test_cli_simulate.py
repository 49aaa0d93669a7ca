"""`ringfence simulate --json` end to end (tiny population, temporary SQLite database)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ringfence.entrypoints.cli import app


def test_simulate_prints_an_audited_result() -> None:
    result = CliRunner().invoke(
        app,
        ["simulate", "--locations", "2", "--contacts-per-location", "12", "--seed", "5", "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["violations"] == 0
    assert report["dials"] == report["lawful_capacity"] > 0
    assert report["utilization"] == 1.0
    assert report["ledger_matches"] is True
    assert report["jobs"] == report["contacts"] == 24


def test_simulate_the_ledger_scenario_from_any_start_date() -> None:
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            *("--locations", "2", "--contacts-per-location", "5", "--days", "4"),
            # 8 March 2026 is the spring DST change (a local start once stalled the clock there);
            # two-minute ticks: the same run's rules at a quarter of the ticks (the rules
            # themselves are the integration tests' subject)
            *("--scenario", "ledger", "--start", "2026-03-06", "--step", "120", "--json"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["violations"] == 0
    assert report["lawful_capacity"] >= report["dials"]  # the ledger model's bound
    assert report["jobs"] > report["contacts"]  # recurring calls were enqueued mid-run


def test_simulate_refuses_a_start_without_a_zone() -> None:
    result = CliRunner().invoke(app, ["simulate", "--start", "2026-03-08T10:00", "--json"])
    assert result.exit_code == 2
    assert "--start" in result.output
