"""How well a scan function agrees with a reviewer's expectations, element by element.

A case is one consent text with the practice's name, an optional `covers_sms`, the status a
reviewer gives each element, and whether the text is a valid voice opt-in. The shipped set
(`eval_set/`: one `.txt` per case plus `expected.json`; its README gives the rubric) is read by
the CLI; everything here is pure:

    cases = parse_eval_set(expected_json, texts_by_file)
    report = evaluate(cases, scan)
    print(format_report(report))

Per element the report holds a 3x3 confusion (expected status x scanned status) and its
accuracy; overall element accuracy pools every (case, element) pair; validity accuracy
compares `valid_for_voice_opt_in`. A "false valid" (scanner says valid, reviewer does not) is
the costly error: calls placed on consent that would not hold up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from ringfence.domain.consent_scan.elements import BLOCKING, CATALOGUE, Element, Status
from ringfence.domain.consent_scan.scanner import ConsentScan

EXPECTED_FILE: Final = "expected.json"
_CASE_FIELDS: Final = frozenset(
    {"business", "covers_sms", "expected", "valid_for_voice_opt_in", "split", "note"}
)


class ScanFunction(Protocol):
    def __call__(
        self, text: str, *, business_name: str, covers_sms: bool | None = None
    ) -> ConsentScan: ...


@dataclass(frozen=True, slots=True)
class EvalCase:
    name: str  # the file name, e.g. "01_complete_gold.txt"
    text: str
    business_name: str
    expected: tuple[Status, ...]  # one per element, in catalogue order
    valid_for_voice_opt_in: bool
    covers_sms: bool | None = None
    split: str = "dev"
    note: str = ""

    def expected_status(self, element: Element) -> Status:
        return self.expected[[s.element for s in CATALOGUE].index(element)]


def _parse_case(name: str, item: object, text: str, where: str) -> EvalCase:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected an object")
    unknown = sorted(set(item) - _CASE_FIELDS)
    if unknown:
        raise ValueError(f"{where}: field {unknown[0]!r} is unknown")
    business = item.get("business")
    if not isinstance(business, str) or not business.strip():
        raise ValueError(f"{where}: 'business' must be a non-empty string")
    covers_sms = item.get("covers_sms")
    if covers_sms is not None and not isinstance(covers_sms, bool):
        raise ValueError(f"{where}: 'covers_sms' must be true, false or absent")
    raw = item.get("expected")
    if not isinstance(raw, dict) or set(raw) != {s.element.value for s in CATALOGUE}:
        codes = ", ".join(s.element.value for s in CATALOGUE)
        raise ValueError(f"{where}: 'expected' must give a status for each of: {codes}")
    statuses: list[Status] = []
    for spec in CATALOGUE:
        value = raw[spec.element.value]
        if value not in {s.value for s in Status}:
            raise ValueError(f"{where}: {spec.element.value} status {value!r} is not valid")
        statuses.append(Status(value))
    valid = item.get("valid_for_voice_opt_in")
    if not isinstance(valid, bool):
        raise ValueError(f"{where}: 'valid_for_voice_opt_in' must be true or false")
    blocking_ok = all(
        st is Status.PRESENT
        for spec, st in zip(CATALOGUE, statuses, strict=True)
        if spec.element in BLOCKING
    )
    if valid != blocking_ok:
        raise ValueError(
            f"{where}: 'valid_for_voice_opt_in' is {str(valid).lower()}, but the blocking "
            "statuses say otherwise (valid means every blocking element is present)"
        )
    split = item.get("split", "dev")
    note = item.get("note", "")
    if not isinstance(split, str) or not isinstance(note, str):
        raise ValueError(f"{where}: 'split' and 'note' must be strings")
    return EvalCase(name, text, business, tuple(statuses), valid, covers_sms, split, note)


def parse_eval_set(
    expected_json: str, texts: Mapping[str, str], *, source: str = EXPECTED_FILE
) -> tuple[EvalCase, ...]:
    """Cases from `expected.json`'s content and the texts by file name. Raises ValueError
    naming the case at fault, a case without its text, or a text without expectations."""
    try:
        data = json.loads(expected_json)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    entries = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise ValueError(f"{source}: expected an object with a non-empty 'cases' object")
    unexpected = sorted(set(texts) - set(entries))
    if unexpected:
        raise ValueError(f"{source}: no expectations for {unexpected[0]}")
    cases: list[EvalCase] = []
    for name, item in entries.items():
        if name not in texts:
            raise ValueError(f"{source}: case {name!r} has no text file")
        cases.append(_parse_case(name, item, texts[name], f"{source}, case {name!r}"))
    return tuple(cases)


@dataclass(frozen=True, slots=True)
class ElementScore:
    element: Element
    # confusion[i][j]: cases expected Status[i] and scanned Status[j] (present, weak, missing)
    confusion: tuple[tuple[int, int, int], ...]

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.confusion)

    @property
    def correct(self) -> int:
        return sum(self.confusion[i][i] for i in range(3))

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None

    def as_dict(self) -> dict[str, object]:
        order = list(Status)
        return {
            "total": self.total,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "confusion": {
                f"{order[i].value}->{order[j].value}": self.confusion[i][j]
                for i in range(3)
                for j in range(3)
            },
        }


@dataclass(frozen=True, slots=True)
class Miss:
    case: str
    element: Element | None  # None: the validity verdict
    expected: str
    got: str

    def as_dict(self) -> dict[str, str | None]:
        element = self.element.value if self.element is not None else None
        return {"case": self.case, "element": element, "expected": self.expected, "got": self.got}


@dataclass(frozen=True, slots=True)
class EvalReport:
    cases: int
    elements: tuple[ElementScore, ...]  # in catalogue order
    validity_correct: int
    false_valid: int  # scanned valid, expected not: the costly direction
    false_invalid: int
    misses: tuple[Miss, ...]

    @property
    def element_correct(self) -> int:
        return sum(e.correct for e in self.elements)

    @property
    def element_total(self) -> int:
        return sum(e.total for e in self.elements)

    @property
    def element_accuracy(self) -> float | None:
        return self.element_correct / self.element_total if self.element_total else None

    @property
    def validity_accuracy(self) -> float | None:
        return self.validity_correct / self.cases if self.cases else None

    def score(self, element: Element) -> ElementScore:
        return next(e for e in self.elements if e.element is element)

    def as_dict(self) -> dict[str, object]:
        return {
            "cases": self.cases,
            "element_accuracy": self.element_accuracy,
            "validity_accuracy": self.validity_accuracy,
            "false_valid": self.false_valid,
            "false_invalid": self.false_invalid,
            "elements": {e.element.value: e.as_dict() for e in self.elements},
            "misses": [m.as_dict() for m in self.misses],
        }


def evaluate(cases: Sequence[EvalCase], scan: ScanFunction) -> EvalReport:
    """Scan every case with `scan` and compare with its expectations."""
    order = list(Status)
    grids = {spec.element: [[0, 0, 0] for _ in range(3)] for spec in CATALOGUE}
    misses: list[Miss] = []
    validity_correct = false_valid = false_invalid = 0
    for case in cases:
        result = scan(case.text, business_name=case.business_name, covers_sms=case.covers_sms)
        for spec, expected in zip(CATALOGUE, case.expected, strict=True):
            got = result.status(spec.element)
            grids[spec.element][order.index(expected)][order.index(got)] += 1
            if got is not expected:
                misses.append(Miss(case.name, spec.element, expected.value, got.value))
        if result.valid_for_voice_opt_in == case.valid_for_voice_opt_in:
            validity_correct += 1
        else:
            false_valid += result.valid_for_voice_opt_in
            false_invalid += not result.valid_for_voice_opt_in
            misses.append(
                Miss(
                    case.name,
                    None,
                    _verdict(case.valid_for_voice_opt_in),
                    _verdict(result.valid_for_voice_opt_in),
                )
            )
    elements = tuple(
        ElementScore(e, tuple((row[0], row[1], row[2]) for row in grid))
        for e, grid in grids.items()
    )
    return EvalReport(
        len(cases), elements, validity_correct, false_valid, false_invalid, tuple(misses)
    )


def evaluate_splits(
    cases: Sequence[EvalCase], scan: ScanFunction
) -> tuple[tuple[str, EvalReport], ...]:
    """("all", report) first, then one report per split in the order splits first appear."""
    splits = list(dict.fromkeys(c.split for c in cases))
    reports = [("all", evaluate(cases, scan))]
    if len(splits) > 1:
        reports += [(s, evaluate([c for c in cases if c.split == s], scan)) for s in splits]
    return tuple(reports)


def _verdict(valid: bool) -> str:
    return "valid" if valid else "not valid"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:5.1f}%"


def format_report(report: EvalReport, *, title: str = "all", show_misses: bool = True) -> str:
    """Plain text: one row per element, the totals, then the misses."""
    lines = [
        f"[{title}] {report.cases} cases",
        f"{'element':<28} {'accuracy':>8} {'correct':>9}  errors (expected->got)",
    ]
    order = list(Status)
    for score in report.elements:
        errors = ", ".join(
            f"{order[i].value}->{order[j].value} x{score.confusion[i][j]}"
            for i in range(3)
            for j in range(3)
            if i != j and score.confusion[i][j]
        )
        lines.append(
            f"{score.element.value:<28} {_pct(score.accuracy):>8} "
            f"{score.correct:>4}/{score.total:<4}  {errors or '-'}"
        )
    lines.append(
        f"{'overall (elements)':<28} {_pct(report.element_accuracy):>8} "
        f"{report.element_correct:>4}/{report.element_total:<4}"
    )
    lines.append(
        f"{'validity':<28} {_pct(report.validity_accuracy):>8} "
        f"{report.validity_correct:>4}/{report.cases:<4}  false valid {report.false_valid}, "
        f"false invalid {report.false_invalid}"
    )
    if show_misses and report.misses:
        lines.append("misses:")
        lines += [
            f"  {m.case}: {m.element.value if m.element else 'validity'} expected {m.expected},"
            f" got {m.got}"
            for m in report.misses
        ]
    return "\n".join(lines)
