"""`ringfence agent eval`: the held-out split, the development sets and the v1 set apart, and
the exit code."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ringfence.entrypoints.cli import app


def test_the_frozen_split_is_reported_apart_and_decides_the_exit_code() -> None:
    result = CliRunner().invoke(app, ["agent", "eval", "--json"], catch_exceptions=False)
    reports = json.loads(result.output)
    assert [r["set"] for r in reports] == [
        "frozen test split v4 (held out)",
        "split v1 (development: its misses were read)",
        "split v2 (development: its misses were read)",
        "split v3 (development: its misses were read)",
        "v1 guardrail set (labels folded to six)",
    ]
    held_out, v1, v2, v3 = reports[0], reports[1], reports[2], reports[3]
    assert held_out["total"] >= 670
    assert v1["total"] >= 700
    assert v2["total"] >= 500
    assert v3["total"] >= 640
    assert set(held_out["opt_out_by_language"]) == {"en", "es"}
    # Only the held-out split decides: the development sets were read while tuning.
    assert result.exit_code == (1 if held_out["target_misses"] else 0), result.output
    # The v1 set is scored on its six labels only.
    assert set(reports[4]["labels"]) == {
        "opt_out",
        "ai_question",
        "clinical_question",
        "reschedule",
        "confirm",
        "other",
    }


def test_a_custom_file_and_a_bad_line(tmp_path: Path) -> None:
    good = tmp_path / "cases.jsonl"
    good.write_text(
        '{"text": "please stop calling me", "label": "opt_out"}\n'
        '{"text": "are you a robot?", "label": "ai_question", "lang": "en"}\n'
    )
    result = CliRunner().invoke(app, ["agent", "eval", str(good)], catch_exceptions=False)
    assert "opt_out" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi", "label": "optout"}\n')
    failed = CliRunner().invoke(app, ["agent", "eval", str(bad)])
    assert failed.exit_code == 2
    assert ":1: label" in failed.output


def test_the_rules_alone_keep_their_v1_evaluation() -> None:
    result = CliRunner().invoke(app, ["agent", "eval", "--rules", "--json"])
    report = json.loads(result.output)
    assert report["total"] >= 300
    assert result.exit_code == (1 if report["target_misses"] else 0)
