"""`ringfence agent eval-urgency`: the held-out split and the development set apart, and the
exit code decided by the held-out split alone."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from typer.testing import CliRunner

from ringfence.entrypoints.cli import app


def test_the_held_out_split_is_reported_apart_and_decides_the_exit_code() -> None:
    result = CliRunner().invoke(app, ["agent", "eval-urgency", "--json"], catch_exceptions=False)
    # The JSON comes first; the exit code follows the held-out split's targets.
    reports = json.loads(result.output)
    assert [(r["set"], r["held_out"]) for r in reports] == [
        ("held-out split v1", True),
        ("held-out split v2", True),
        ("held-out split v3", True),
        ("held-out split v4", True),
        ("held-out split v6", True),
        ("held-out split v8", True),
        ("train.jsonl (trained and tuned on)", False),
        ("train_v2.jsonl (trained and tuned on)", False),
        ("train_v3.jsonl (trained and tuned on)", False),
        ("train_v4.jsonl (trained and tuned on)", False),
        ("dev_v5.jsonl (tuned on)", False),
        ("dev_v7.jsonl (tuned on)", False),
    ]
    misses = [
        lang
        for held_out in reports[:6]
        for lang, score in held_out["by_language"].items()
        if score["urgent_recall"] < 0.95
        or score["staff_recall"] < 0.95
        or score["false_urgent_rate"] > 0.10
    ]
    assert all(set(r["by_language"]) == {"en", "es"} for r in reports)
    assert result.exit_code == (1 if misses else 0), result.output


def test_a_custom_file_a_missed_target_and_a_bad_line(tmp_path: Path) -> None:
    good = tmp_path / "cases.jsonl"
    good.write_text(
        '{"text": "my lip is turning white since the filler", "label": "urgent", "lang": "en"}\n'
        '{"text": "can we move it to friday", "label": "none", "lang": "en"}\n'
    )
    passed = CliRunner().invoke(app, ["agent", "eval-urgency", str(good)], catch_exceptions=False)
    assert passed.exit_code == 0, passed.output
    assert "1.000 (1/1)" in passed.output
    missed = tmp_path / "missed.jsonl"
    missed.write_text('{"text": "can we move it to friday", "label": "urgent", "lang": "en"}\n')
    failed = CliRunner().invoke(app, ["agent", "eval-urgency", str(missed), "--misses"])
    assert failed.exit_code == 1
    assert "target missed: en: urgent recall 0.000 < 0.95" in failed.output
    assert "urgent -> none: can we move it to friday" in failed.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi", "label": "severe"}\n')
    broken = CliRunner().invoke(app, ["agent", "eval-urgency", str(bad)])
    assert broken.exit_code == 2
    assert ":1: label 'severe'" in broken.output


def test_misses_are_listed_for_the_training_sets_never_for_a_held_out_split() -> None:
    """A held-out split's misses, once read, would be tuned on: `--misses` leaves them out."""
    result = CliRunner().invoke(app, ["agent", "eval-urgency", "--misses"])
    shown = result.output.split("train.jsonl (trained and tuned on)")
    assert len(shown) == 2
    held_out, _training = shown
    assert " -> " not in held_out  # a custom FILE's misses are listed: the test above


def test_a_held_out_split_named_as_file_keeps_its_misses_hidden() -> None:
    folder = resources.files("ringfence.agent").joinpath("data", "urgency")
    with resources.as_file(folder.joinpath("test_frozen_v8.jsonl")) as split:
        result = CliRunner().invoke(app, ["agent", "eval-urgency", str(split), "--misses"])
    assert " -> " not in result.output
