"""The evaluator's arithmetic and parsing, and the shipped set against measured floors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ringfence.domain.consent_scan import CATALOGUE, ConsentScan, Element, Finding, Status, scan
from ringfence.domain.consent_scan.evaluation import (
    EvalCase,
    ScanFunction,
    evaluate,
    evaluate_splits,
    format_report,
    parse_eval_set,
)
from ringfence.domain.consent_scan.scanner import score, valid
from ringfence.entrypoints.cli_consent import bundled_eval_set, load_eval_dir

EVAL_DIR = Path(__file__).parents[3] / "src/ringfence/domain/consent_scan/eval_set"

# Measured when the set was written (see the package's eval_set/README.md). The dev cases
# were written alongside the scanner; the holdout cases were written afterwards and their
# first run gave 139/144 elements (96.5%), 16/16 validity. Floors are the measured values
# rounded down; a case listed here is a known miss, any other case must stay correct.
KNOWN_MISSES = frozenset(
    {
        ("53_the_skin_bar.txt", Element.TERMS_PRIVACY),
        ("56_html_mixed_boxes.txt", Element.AFFIRMATIVE_CHECKBOX),
        ("57_derm_recall_informational.txt", Element.OPT_OUT),
        ("59_intake_form_sections.txt", Element.AUTOMATED_OR_AI_VOICE),
    }
)
FLOOR_ALL_ELEMENTS = 0.99  # measured 590/594 = 0.993
FLOOR_HOLDOUT_ELEMENTS = 0.97  # measured 140/144 = 0.972
FLOOR_VALIDITY = 1.0  # measured 66/66


def _fake_scan(statuses: dict[str, list[Status]]) -> ScanFunction:
    """A scan function that answers from a table keyed by text."""

    def fake(text: str, *, business_name: str, covers_sms: bool | None = None) -> ConsentScan:
        real = scan("", business_name=business_name)
        by_element = dict(zip([s.element for s in CATALOGUE], statuses[text], strict=True))
        findings = tuple(
            Finding(f.element, by_element[f.element], f.blocking, "", "") for f in real.findings
        )
        return ConsentScan(score(by_element), valid(by_element), findings, False, "")

    return fake


def _case(name: str, expected: list[Status], *, split: str = "dev") -> EvalCase:
    is_valid = all(s is Status.PRESENT for s in expected[:5])
    return EvalCase(name, name, "Biz", tuple(expected), is_valid, split=split)


P, W, M = Status.PRESENT, Status.WEAK, Status.MISSING


def test_confusion_and_accuracy_arithmetic() -> None:
    cases = [_case("a", [P] * 9), _case("b", [M] * 9, split="holdout")]
    answers = {"a": [P] * 8 + [W], "b": [P] + [M] * 8}
    report = evaluate(cases, _fake_scan(answers))
    assert report.cases == 2
    assert report.element_total == 18
    assert report.element_correct == 16
    sms = report.score(Element.SMS_DISCLOSURES)
    assert sms.confusion == ((0, 1, 0), (0, 0, 0), (0, 0, 1))
    assert sms.accuracy == 0.5
    name = report.score(Element.BUSINESS_NAME)
    assert name.confusion == ((1, 0, 0), (0, 0, 0), (1, 0, 0))
    assert report.validity_correct == 2
    assert report.false_valid == report.false_invalid == 0
    assert [(m.case, m.element) for m in report.misses] == [
        ("a", Element.SMS_DISCLOSURES),
        ("b", Element.BUSINESS_NAME),
    ]
    splits = evaluate_splits(cases, _fake_scan(answers))
    assert [title for title, _ in splits] == ["all", "dev", "holdout"]
    text = format_report(report)
    assert "sms_disclosures" in text
    assert "present->weak x1" in text
    assert json.loads(json.dumps(report.as_dict()))["element_accuracy"] == 16 / 18


def test_false_valid_is_counted() -> None:
    cases = [_case("a", [M] + [P] * 8)]
    report = evaluate(cases, _fake_scan({"a": [P] * 9}))
    assert report.false_valid == 1
    assert report.misses[-1].element is None
    assert report.misses[-1].as_dict()["got"] == "valid"


def _entry(**overrides: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "business": "Biz",
        "expected": {s.element.value: "present" for s in CATALOGUE},
        "valid_for_voice_opt_in": True,
    }
    entry.update(overrides)
    return entry


@pytest.mark.parametrize(
    ("entry", "texts", "message"),
    [
        (_entry(), {}, "has no text file"),
        (_entry(), {"a.txt": "x", "b.txt": "y"}, "no expectations for b.txt"),
        (_entry(business=""), {"a.txt": "x"}, "'business'"),
        (_entry(colour="red"), {"a.txt": "x"}, "'colour' is unknown"),
        (_entry(covers_sms="yes"), {"a.txt": "x"}, "'covers_sms'"),
        (_entry(expected={"business_name": "present"}), {"a.txt": "x"}, "each of"),
        (
            _entry(expected={s.element.value: "great" for s in CATALOGUE}),
            {"a.txt": "x"},
            "'great' is not valid",
        ),
        (_entry(valid_for_voice_opt_in=False), {"a.txt": "x"}, "blocking statuses"),
    ],
)
def test_parse_errors_name_the_case(
    entry: dict[str, object], texts: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_eval_set(json.dumps({"cases": {"a.txt": entry}}), texts)


def test_parse_rejects_bad_json() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_eval_set("{", {})
    with pytest.raises(ValueError, match="'cases'"):
        parse_eval_set("[]", {})


# --- the shipped set --------------------------------------------------------------------


def test_shipped_set_size_and_loading() -> None:
    cases = bundled_eval_set()
    assert len(cases) >= 48
    assert cases == load_eval_dir(EVAL_DIR)
    assert {c.split for c in cases} == {"dev", "holdout"}
    names = [c.name for c in cases]
    assert names == sorted(names)
    assert len({c.text for c in cases}) == len(cases)


def test_shipped_set_meets_its_measured_floors() -> None:
    reports = dict(evaluate_splits(bundled_eval_set(), scan))
    everything, holdout = reports["all"], reports["holdout"]
    assert everything.element_accuracy is not None
    assert everything.element_accuracy >= FLOOR_ALL_ELEMENTS, format_report(everything)
    assert holdout.element_accuracy is not None
    assert holdout.element_accuracy >= FLOOR_HOLDOUT_ELEMENTS, format_report(holdout)
    assert everything.validity_accuracy is not None
    assert everything.validity_accuracy >= FLOOR_VALIDITY, format_report(everything)
    assert everything.false_valid == 0


def test_only_known_misses_are_missed() -> None:
    report = evaluate(bundled_eval_set(), scan)
    misses = {(m.case, m.element) for m in report.misses}
    assert misses <= KNOWN_MISSES, sorted(misses - KNOWN_MISSES, key=str)
    fixed = KNOWN_MISSES - misses
    assert not fixed, f"now correct, remove from KNOWN_MISSES: {sorted(fixed, key=str)}"
