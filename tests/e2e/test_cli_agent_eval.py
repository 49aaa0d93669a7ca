"""`ringfence agent eval`: per-label precision and recall, and its exit code."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ringfence.entrypoints.cli import app


def test_shipped_set_meets_the_targets() -> None:
    result = CliRunner().invoke(app, ["agent", "eval", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["total"] >= 300
    assert report["target_misses"] == []


def test_a_custom_file_and_a_bad_line(tmp_path: Path) -> None:
    good = tmp_path / "cases.jsonl"
    good.write_text(
        '{"text": "please stop calling me", "label": "opt_out"}\n'
        '{"text": "are you a robot?", "label": "ai_question"}\n'
    )
    result = CliRunner().invoke(app, ["agent", "eval", str(good)], catch_exceptions=False)
    assert "opt_out" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi", "label": "optout"}\n')
    failed = CliRunner().invoke(app, ["agent", "eval", str(bad)])
    assert failed.exit_code == 2
    assert "line 1" in failed.output
