"""`ringfence agent eval`: the held-out split, the development sets and the v1 set apart, and
the exit code."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from typer.testing import CliRunner

from ringfence.agent.understanding.corpus import (
    TEST_FROZEN,
    TEST_FROZEN_ES_OPT_OUT,
    TEST_FROZEN_V2,
    TEST_FROZEN_V3,
    TEST_FROZEN_V4,
    shipped,
    shipped_v1,
)
from ringfence.entrypoints.cli import app


def test_the_frozen_split_is_reported_apart_and_decides_the_exit_code() -> None:
    result = CliRunner().invoke(app, ["agent", "eval", "--json"], catch_exceptions=False)
    reports = json.loads(result.output)
    assert [r["set"] for r in reports] == [
        "frozen test split v4 (held out)",
        "frozen Spanish opt-out split (held out; opt-out targets)",
        "split v1 (development: its misses were read)",
        "split v2 (development: its misses were read)",
        "split v3 (development: its misses were read)",
        "Spanish hard negatives (development)",
        "v1 guardrail set (labels folded to six)",
    ]
    held_out, spanish, v1, v2, v3, spanish_dev = reports[:6]
    assert held_out["total"] >= 670
    assert spanish["total"] == 300
    assert set(spanish["opt_out_by_language"]) == {"es"}
    assert v1["total"] >= 700
    assert v2["total"] >= 500
    assert v3["total"] >= 640
    assert spanish_dev["total"] >= 290
    assert set(spanish_dev["opt_out_by_language"]) == {"es"}
    assert set(held_out["opt_out_by_language"]) == {"en", "es"}
    # A held-out split's misses are counted, never listed; the development sets' are listed.
    assert [r["held_out"] for r in reports] == [True, True, False, False, False, False, False]
    assert all("misses" not in r and r["misses_withheld"] >= 0 for r in reports[:2])
    assert all(isinstance(r["misses"], list) for r in reports[2:])
    # The Spanish split is judged on the opt-out targets only (it was written for them).
    assert all(m.startswith("opt_out") for m in spanish["target_misses"])
    # Only the held-out splits decide: the development sets were read while tuning.
    failing = held_out["target_misses"] or spanish["target_misses"]
    assert result.exit_code == (1 if failing else 0), result.output
    # The v1 set is scored on its six labels only.
    assert set(reports[6]["labels"]) == {
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


def test_misses_are_never_listed_for_a_held_out_split() -> None:
    result = CliRunner().invoke(app, ["agent", "eval", "--misses"], catch_exceptions=False)
    # A listed miss is a whole line ending in the utterance ("    opt_out -> other: <text>").
    listed = {line.partition(": ")[2] for line in result.output.splitlines() if " -> " in line}
    assert listed  # the development sets' misses are listed
    development = {
        u.text for name in (TEST_FROZEN, TEST_FROZEN_V2, TEST_FROZEN_V3) for u in shipped(name)
    } | {u.text for u in shipped_v1()}
    held_out = [*shipped(TEST_FROZEN_V4), *shipped(TEST_FROZEN_ES_OPT_OUT)]
    assert [u.text for u in held_out if u.text in listed and u.text not in development] == []


def test_a_held_out_split_named_as_file_keeps_its_misses_hidden() -> None:
    folder = resources.files("ringfence.agent").joinpath("data", "understanding")
    with resources.as_file(folder.joinpath(TEST_FROZEN_ES_OPT_OUT)) as split:
        shown = CliRunner().invoke(app, ["agent", "eval", str(split), "--misses"])
        as_json = CliRunner().invoke(app, ["agent", "eval", str(split), "--json"])
    assert " -> " not in shown.output
    [report] = json.loads(as_json.output)
    assert "misses" not in report
    assert report["held_out"] is True
