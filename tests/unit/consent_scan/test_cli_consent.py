"""`ringfence consent scan|eval` through typer's CliRunner (consent_app on its own)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringfence.entrypoints.cli.consent import consent_app

EVAL_DIR = Path(__file__).parents[3] / "src/ringfence/domain/consent_scan/eval_set"
GOLD = EVAL_DIR / "01_complete_gold.txt"
SUBMIT = EVAL_DIR / "02_typical_medspa_submit.txt"
ORDER = [
    "business_name",
    "artificial_voice",
    "phone_number",
    "not_condition_of_purchase",
    "affirmative_checkbox",
    "autodialer",
    "opt_out",
    "marketing_purpose",
    "terms_privacy",
    "sms_disclosures",
]

runner = CliRunner()


def test_scan_json_valid_exits_0() -> None:
    result = runner.invoke(
        consent_app, ["scan", str(GOLD), "--business", "Glow Aesthetics Med Spa", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["score", "valid_for_voice_opt_in", "findings", "scanner_version"]
    assert data["score"] == 100
    assert data["valid_for_voice_opt_in"] is True
    assert [f["element"] for f in data["findings"]] == ORDER
    assert all(list(f) == ["element", "status", "blocking", "suggestion"] for f in data["findings"])


def test_scan_json_not_valid_exits_1() -> None:
    result = runner.invoke(
        consent_app, ["scan", str(SUBMIT), "--business", "Luxe Skin Studio", "--json"]
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["valid_for_voice_opt_in"] is False
    checkbox = data["findings"][ORDER.index("affirmative_checkbox")]
    assert checkbox == {
        "element": "affirmative_checkbox",
        "status": "weak",
        "blocking": True,
        "suggestion": "By checking this box, I agree that Luxe Skin Studio may contact me as "
        "described above.",
    }


def test_scan_table_shows_findings_and_recommended_text() -> None:
    result = runner.invoke(consent_app, ["scan", str(SUBMIT), "--business", "Luxe Skin Studio"])
    assert result.exit_code == 1
    # v1 scored this 85; v2 reads "automated marketing calls" as an autodialer, not an
    # artificial voice (missing, blocking), and caps an invalid text below 80.
    for word in ("affirmative_checkbox", "weak", "score 70/100", "NOT valid", "Recommended"):
        assert word in result.stdout


def test_scan_table_valid() -> None:
    result = runner.invoke(
        consent_app, ["scan", str(GOLD), "--business", "Glow Aesthetics Med Spa"]
    )
    assert result.exit_code == 0
    assert "score 100/100" in result.stdout
    assert "Recommended" not in result.stdout


def test_sms_flags(tmp_path: Path) -> None:
    path = tmp_path / "calls.txt"
    path.write_text(
        "By checking this box, I agree that Glow Aesthetics Med Spa may call me at the number I "
        "provided using an AI voice. Consent is not a condition of purchase. Reply STOP to opt "
        "out."
    )
    args = ["scan", str(path), "--business", "Glow Aesthetics Med Spa", "--json"]
    default = json.loads(runner.invoke(consent_app, args).stdout)
    with_sms = json.loads(runner.invoke(consent_app, [*args, "--sms"]).stdout)
    assert default["findings"][-1]["status"] == "present"
    assert with_sms["findings"][-1]["status"] == "weak"  # only STOP is disclosed
    assert with_sms["score"] < default["score"]


def test_html_file_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "form.html"
    path.write_bytes(b"\xef\xbb\xbf" + (EVAL_DIR / "08_html_complete.txt").read_bytes())
    result = runner.invoke(consent_app, ["scan", str(path), "--business", "Aura Skin Co."])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "no-such-file.txt", "--business", "X"], "no-such-file.txt: no such file"),
        (["scan", str(GOLD), "--business", "  "], "--business must not be blank"),
        (["scan", str(EVAL_DIR), "--business", "X"], "is a directory"),
    ],
)
def test_scan_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(consent_app, args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_scan_without_business_exits_2() -> None:
    result = runner.invoke(consent_app, ["scan", str(GOLD)])
    assert result.exit_code == 2
    assert "--business" in result.output


def test_scan_non_utf8_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("S\xe9r\xe9nit\xe9".encode("latin-1"))
    result = runner.invoke(consent_app, ["scan", str(path), "--business", "X"])
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr


def test_eval_bundled_prints_figures_per_split() -> None:
    result = runner.invoke(consent_app, ["eval"])
    assert result.exit_code == 0, result.output
    for word in (
        "[dev] 68 cases (tuned on",
        "[holdout] 16 cases (written after v1",
        "overall (elements)",
        "validity confusion",
        "false valid 0",
        "false valid 1",  # holdout_v2: reported, never hidden
        "[holdout_v2]",
        "misses:",
    ):
        assert word in result.stdout
    assert "[all]" not in result.stdout  # tuned-on and held-out cases are never pooled


def test_eval_json_and_fail_under() -> None:
    result = runner.invoke(consent_app, ["eval", "--json"])
    data = json.loads(result.stdout)
    assert list(data) == ["dev", "holdout", "holdout_v2"]
    assert data["dev"]["cases"] >= 68
    assert data["holdout"]["elements"]["artificial_voice"]["unlabelled"] == 0
    assert data["holdout"]["validity_confusion"]["not valid->valid"] == 0
    assert data["holdout_v2"]["validity_confusion"]["not valid->valid"] == 1
    assert runner.invoke(consent_app, ["eval", "--fail-under", "0.5"]).exit_code == 0
    # dev is 100%: the holdout's accuracy alone fails a 0.99 bar
    assert runner.invoke(consent_app, ["eval", "--fail-under", "0.99"]).exit_code == 1
    assert runner.invoke(consent_app, ["eval", "--fail-under", "1.01"]).exit_code == 1


def test_eval_folder(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    expected = json.loads((EVAL_DIR / "expected.json").read_text())
    keep = "05_no_automation_mention.txt"
    shutil.copy(EVAL_DIR / keep, folder / keep)
    expected["cases"] = {keep: expected["cases"][keep]}
    (folder / "expected.json").write_text(json.dumps(expected))
    result = runner.invoke(consent_app, ["eval", str(folder)])
    assert result.exit_code == 0, result.output
    assert "[dev] 1 cases" in result.stdout


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_eval_bad_folder_exits_2(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "set"
    if kind == "empty":
        folder.mkdir()
    result = runner.invoke(consent_app, ["eval", str(folder)])
    assert result.exit_code == 2
    assert str(folder) in result.stderr
