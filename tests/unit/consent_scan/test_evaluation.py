"""The evaluator's arithmetic and parsing, and the shipped set against measured floors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from ringfence.domain.consent_scan import CATALOGUE, ConsentScan, Element, Finding, Status, scan
from ringfence.domain.consent_scan.evaluation import (
    EvalCase,
    ScanFunction,
    derived_validity,
    evaluate,
    evaluate_splits,
    format_report,
    parse_eval_set,
)
from ringfence.domain.consent_scan.scanner import score, valid
from ringfence.entrypoints.cli.consent import bundled_eval_set, load_eval_dir

EVAL_DIR = Path(__file__).parents[3] / "src/ringfence/domain/consent_scan/eval_set"

# Measured per split (see the package's eval_set/README.md), never pooled. The dev cases were
# written alongside the scanner (tuned on). The holdout cases were written after v1, and their
# v2 voice/dialer labels were given by an independent labeller; holdout_v2 was written by that
# labeller before v2 was ever run on it. Neither holdout was tuned on: the first v2 run's
# misses are listed here and left unfixed so the splits stay fair. Floors are the measured
# values rounded down; a case listed here is a known miss, any other case must stay correct.
KNOWN_MISSES = frozenset(
    {
        ("53_the_skin_bar.txt", Element.TERMS_PRIVACY),
        ("55_submit_with_ai.txt", Element.AUTODIALER),
        ("56_html_mixed_boxes.txt", Element.AFFIRMATIVE_CHECKBOX),
        ("57_derm_recall_informational.txt", Element.OPT_OUT),
        ("59_intake_form_sections.txt", Element.AUTODIALER),
        ("h2_13_automated_voice_assistant.txt", Element.AUTODIALER),
        ("h2_17_es_ia_marcador_sms_valida.txt", Element.OPT_OUT),
        ("h2_17_es_ia_marcador_sms_valida.txt", Element.SMS_DISCLOSURES),
        ("h2_19_es_al_enviar_formulario.txt", Element.TERMS_PRIVACY),
        ("h2_20_es_nunca_voces_artificiales.txt", Element.SMS_DISCLOSURES),
        ("h2_29_sms_atds_recurring.txt", Element.AUTODIALER),
        # The one false "valid": AI named only in a privacy excerpt, outside the agreement.
        ("h2_36_ai_in_privacy_excerpt.txt", Element.ARTIFICIAL_VOICE),
        ("h2_36_ai_in_privacy_excerpt.txt", None),  # its validity verdict
    }
)
FALSE_VALID = frozenset({"h2_36_ai_in_privacy_excerpt.txt"})
FLOOR_DEV_ELEMENTS = 0.99  # measured 680/680
FLOOR_HOLDOUT_ELEMENTS = 0.96  # measured 155/160 = 0.969
FLOOR_HOLDOUT_V2_ELEMENTS = 0.98  # measured 373/380 = 0.982
FLOOR_VALIDITY = 1.0  # measured dev 68/68, holdout 16/16
FLOOR_VALIDITY_V2 = 0.97  # measured 37/38 (one false valid, above)
N = len(CATALOGUE)


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


def _case(name: str, expected: Sequence[Status | None], *, split: str = "dev") -> EvalCase:
    return EvalCase(name, name, "Biz", tuple(expected), derived_validity(expected), split=split)


P, W, M = Status.PRESENT, Status.WEAK, Status.MISSING


def test_confusion_and_accuracy_arithmetic() -> None:
    cases = [_case("a", [P] * N), _case("b", [M] * N, split="holdout")]
    answers = {"a": [P] * (N - 1) + [W], "b": [P] + [M] * (N - 1)}
    report = evaluate(cases, _fake_scan(answers))
    assert report.cases == 2
    assert report.element_total == 2 * N
    assert report.element_correct == 2 * N - 2
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
    assert [title for title, _ in splits] == ["dev", "holdout"]
    text = format_report(report)
    assert "sms_disclosures" in text
    assert "present->weak x1" in text
    data = json.loads(json.dumps(report.as_dict()))
    assert data["element_accuracy"] == (2 * N - 2) / (2 * N)
    assert data["validity_confusion"] == {
        "valid->valid": 1,
        "valid->not valid": 0,
        "not valid->valid": 0,
        "not valid->not valid": 1,
    }


def test_false_valid_is_counted() -> None:
    cases = [_case("a", [M] + [P] * (N - 1))]
    report = evaluate(cases, _fake_scan({"a": [P] * N}))
    assert report.false_valid == 1
    assert report.misses[-1].element is None
    assert report.misses[-1].as_dict()["got"] == "valid"
    assert "not valid->valid 1" in format_report(report)


def test_unlabelled_elements_and_validity_are_skipped() -> None:
    voice = [s.element for s in CATALOGUE].index(Element.ARTIFICIAL_VOICE)
    dialer = [s.element for s in CATALOGUE].index(Element.AUTODIALER)
    open_case: list[Status | None] = [P] * N
    open_case[voice] = open_case[dialer] = None
    decided = [*open_case]
    decided[0] = M  # the name is missing: invalid whatever the voice
    cases = [_case("a", open_case, split="holdout"), _case("b", decided, split="holdout")]
    assert cases[0].valid_for_voice_opt_in is None
    assert cases[1].valid_for_voice_opt_in is False
    answers = {"a": [M] * N, "b": [M] * N}
    report = evaluate(cases, _fake_scan(answers))
    assert report.score(Element.ARTIFICIAL_VOICE).total == 0
    assert report.score(Element.ARTIFICIAL_VOICE).unlabelled == 2
    assert report.score(Element.ARTIFICIAL_VOICE).accuracy is None
    assert report.element_unlabelled == 4
    assert report.element_total == 2 * (N - 2)
    assert report.validity_unlabelled == 1
    assert report.validity_total == 1
    assert report.validity_accuracy == 1.0
    assert {m.element for m in report.misses} <= {s.element for s in CATALOGUE}
    text = format_report(report, title="holdout")
    assert "unlabelled 2" in text
    assert "unlabelled 1" in text  # validity
    assert "not tuned on" in text


def test_splits_are_reported_apart_in_a_fixed_order() -> None:
    cases = [
        _case("x", [P] * N, split="extra"),
        _case("h2", [P] * N, split="holdout_v2"),
        _case("h", [P] * N, split="holdout"),
        _case("d", [P] * N, split="dev"),
    ]
    answers = {c.name: [P] * N for c in cases}
    titles = [title for title, _ in evaluate_splits(cases, _fake_scan(answers))]
    assert titles == ["dev", "holdout", "holdout_v2", "extra"]
    assert "tuned on" in format_report(evaluate(cases[3:], _fake_scan(answers)), title="dev")


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
        (
            _entry(expected={s.element.value: None for s in CATALOGUE}),
            {"a.txt": "x"},
            "say null",
        ),
        (_entry(valid_for_voice_opt_in="yes"), {"a.txt": "x"}, "true, false or null"),
    ],
)
def test_parse_errors_name_the_case(
    entry: dict[str, object], texts: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_eval_set(json.dumps({"cases": {"a.txt": entry}}), texts)


def test_parse_accepts_null_labels() -> None:
    expected: dict[str, str | None] = {s.element.value: "present" for s in CATALOGUE}
    expected["artificial_voice"] = expected["autodialer"] = None
    entry = _entry(expected=expected, valid_for_voice_opt_in=None, split="holdout")
    (case,) = parse_eval_set(json.dumps({"cases": {"a.txt": entry}}), {"a.txt": "x"})
    assert case.expected_status(Element.ARTIFICIAL_VOICE) is None
    assert case.expected_status(Element.PHONE_NUMBER) is Status.PRESENT
    assert case.valid_for_voice_opt_in is None


def test_parse_rejects_bad_json() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_eval_set("{", {})
    with pytest.raises(ValueError, match="'cases'"):
        parse_eval_set("[]", {})


# --- the shipped set --------------------------------------------------------------------


def test_shipped_set_size_and_loading() -> None:
    cases = bundled_eval_set()
    assert len(cases) >= 122
    assert cases == load_eval_dir(EVAL_DIR)
    assert {c.split for c in cases} == {"dev", "holdout", "holdout_v2"}
    assert all(None not in c.expected for c in cases)
    dev = [c for c in cases if c.split == "dev"]
    assert sum(c.name.startswith("7") and "_es_" in c.name for c in dev) >= 4
    assert sum(c.split == "holdout_v2" for c in cases) >= 38
    names = [c.name for c in cases]
    assert names == sorted(names)
    assert len({c.text for c in cases}) == len(cases)


def test_shipped_set_meets_its_measured_floors() -> None:
    reports = dict(evaluate_splits(bundled_eval_set(), scan))
    floors = {
        "dev": (FLOOR_DEV_ELEMENTS, FLOOR_VALIDITY),
        "holdout": (FLOOR_HOLDOUT_ELEMENTS, FLOOR_VALIDITY),
        "holdout_v2": (FLOOR_HOLDOUT_V2_ELEMENTS, FLOOR_VALIDITY_V2),
    }
    for split, (elements, validity) in floors.items():
        report = reports[split]
        assert report.element_accuracy is not None
        assert report.element_accuracy >= elements, format_report(report)
        assert report.validity_accuracy is not None
        assert report.validity_accuracy >= validity, format_report(report)
    assert reports["dev"].false_valid == 0
    assert reports["holdout"].false_valid == 0
    assert reports["holdout_v2"].false_valid == len(FALSE_VALID)


def test_only_known_misses_are_missed() -> None:
    misses = {
        (m.case, m.element)
        for _split, report in evaluate_splits(bundled_eval_set(), scan)
        for m in report.misses
    }
    assert misses <= KNOWN_MISSES, sorted(misses - KNOWN_MISSES, key=str)
    fixed = KNOWN_MISSES - misses
    assert not fixed, f"now correct, remove from KNOWN_MISSES: {sorted(fixed, key=str)}"
