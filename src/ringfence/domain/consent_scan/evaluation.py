"""How well a scan function agrees with a reviewer's expectations, element by element.

A case is one consent text with the practice's name, an optional `covers_sms`, the status a
reviewer gives each element, and whether the text is a valid voice opt-in. The shipped set
(`eval_set/`: one `.txt` per case plus `expected.json`; its README gives the rubric) is read by
the CLI; everything here is pure:

    cases = parse_eval_set(expected_json, texts_by_file)
    for split, report in evaluate_splits(cases, scan):
        print(format_report(report, title=split))

Per element the report holds a 3x3 confusion (expected status x scanned status) and its
accuracy; overall element accuracy pools every labelled (case, element) pair; validity
accuracy compares `valid_for_voice_opt_in`, with its confusion (false valid / false invalid).
A "false valid" (scanner says valid, reviewer does not) is the costly error: calls placed on
consent that would not hold up.

A label may be null: the element is not labelled yet (the v1 holdout cases await an
independent labeller's `artificial_voice` and `autodialer`). Null elements are skipped and
counted as unlabelled; the validity of a case then is null too unless a labelled blocking
element already makes it invalid.

Splits are reported apart, never pooled: `dev` is what the scanner was tuned on (optimistic),
`holdout` was written after v1 and not tuned on, `holdout_v2` is written independently after
v2 (see SPLITS).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from ringfence.domain.consent_scan.elements import CATALOGUE, Element, Status
from ringfence.domain.consent_scan.scanner import ConsentScan

EXPECTED_FILE: Final = "expected.json"
# Known splits, in report order, with what their accuracy means. Other split names are
# reported after these, in the order they first appear.
SPLITS: Final = {
    "dev": "tuned on: written with the scanner's patterns, so optimistic",
    "holdout": "written after v1, not tuned on (v2 voice/dialer labels: independent labeller)",
    "holdout_v2": "written and labelled independently before v2 ran on it, not tuned on",
}
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
    expected: tuple[Status | None, ...]  # one per element, in catalogue order; None: unlabelled
    valid_for_voice_opt_in: bool | None  # None: follows from an unlabelled blocking element
    covers_sms: bool | None = None
    split: str = "dev"
    note: str = ""

    def expected_status(self, element: Element) -> Status | None:
        return self.expected[[s.element for s in CATALOGUE].index(element)]


def derived_validity(statuses: Sequence[Status | None]) -> bool | None:
    """Validity from the blocking labels (catalogue order): False when a labelled blocking
    element is not present, None when the rest hinge on an unlabelled one, True otherwise."""
    blocking = [st for spec, st in zip(CATALOGUE, statuses, strict=True) if spec.blocking]
    if any(st is not None and st is not Status.PRESENT for st in blocking):
        return False
    return None if None in blocking else True


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
    statuses: list[Status | None] = []
    for spec in CATALOGUE:
        value = raw[spec.element.value]
        if value is not None and value not in {s.value for s in Status}:
            raise ValueError(f"{where}: {spec.element.value} status {value!r} is not valid")
        statuses.append(None if value is None else Status(value))
    valid = item.get("valid_for_voice_opt_in")
    if valid is not None and not isinstance(valid, bool):
        raise ValueError(f"{where}: 'valid_for_voice_opt_in' must be true, false or null")
    derived = derived_validity(statuses)
    if valid != derived:
        said = "null" if valid is None else str(valid).lower()
        follows = "null" if derived is None else str(derived).lower()
        raise ValueError(
            f"{where}: 'valid_for_voice_opt_in' is {said}, but the blocking statuses say "
            f"{follows} (valid means every blocking element is present; null when that hinges "
            "on an unlabelled one)"
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
    unlabelled: int = 0  # cases without a label for this element (not scored)

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
            "unlabelled": self.unlabelled,
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
    true_valid: int = 0
    true_invalid: int = 0
    validity_unlabelled: int = 0  # cases whose validity hinges on an unlabelled element

    @property
    def element_correct(self) -> int:
        return sum(e.correct for e in self.elements)

    @property
    def element_total(self) -> int:
        return sum(e.total for e in self.elements)

    @property
    def element_unlabelled(self) -> int:
        return sum(e.unlabelled for e in self.elements)

    @property
    def element_accuracy(self) -> float | None:
        return self.element_correct / self.element_total if self.element_total else None

    @property
    def validity_total(self) -> int:
        """Cases with a validity label."""
        return self.cases - self.validity_unlabelled

    @property
    def validity_accuracy(self) -> float | None:
        return self.validity_correct / self.validity_total if self.validity_total else None

    def score(self, element: Element) -> ElementScore:
        return next(e for e in self.elements if e.element is element)

    def as_dict(self) -> dict[str, object]:
        return {
            "cases": self.cases,
            "element_accuracy": self.element_accuracy,
            "element_unlabelled": self.element_unlabelled,
            "validity_accuracy": self.validity_accuracy,
            "validity_labelled": self.validity_total,
            "validity_unlabelled": self.validity_unlabelled,
            "false_valid": self.false_valid,
            "false_invalid": self.false_invalid,
            "validity_confusion": {
                "valid->valid": self.true_valid,
                "valid->not valid": self.false_invalid,
                "not valid->valid": self.false_valid,
                "not valid->not valid": self.true_invalid,
            },
            "elements": {e.element.value: e.as_dict() for e in self.elements},
            "misses": [m.as_dict() for m in self.misses],
        }


def evaluate(cases: Sequence[EvalCase], scan: ScanFunction) -> EvalReport:
    """Scan every case with `scan` and compare with its labels (unlabelled ones skipped)."""
    order = list(Status)
    grids = {spec.element: [[0, 0, 0] for _ in range(3)] for spec in CATALOGUE}
    unlabelled = dict.fromkeys(grids, 0)
    misses: list[Miss] = []
    counts = {"correct": 0, "false_valid": 0, "false_invalid": 0, "true_valid": 0}
    true_invalid = validity_unlabelled = 0
    for case in cases:
        result = scan(case.text, business_name=case.business_name, covers_sms=case.covers_sms)
        for spec, expected in zip(CATALOGUE, case.expected, strict=True):
            if expected is None:
                unlabelled[spec.element] += 1
                continue
            got = result.status(spec.element)
            grids[spec.element][order.index(expected)][order.index(got)] += 1
            if got is not expected:
                misses.append(Miss(case.name, spec.element, expected.value, got.value))
        wanted, said = case.valid_for_voice_opt_in, result.valid_for_voice_opt_in
        if wanted is None:
            validity_unlabelled += 1
        elif wanted == said:
            counts["correct"] += 1
            counts["true_valid"] += said
            true_invalid += not said
        else:
            counts["false_valid"] += said
            counts["false_invalid"] += not said
            misses.append(Miss(case.name, None, _verdict(wanted), _verdict(said)))
    elements = tuple(
        ElementScore(e, tuple((row[0], row[1], row[2]) for row in grid), unlabelled[e])
        for e, grid in grids.items()
    )
    return EvalReport(
        len(cases),
        elements,
        counts["correct"],
        counts["false_valid"],
        counts["false_invalid"],
        tuple(misses),
        true_valid=counts["true_valid"],
        true_invalid=true_invalid,
        validity_unlabelled=validity_unlabelled,
    )


def split_order(cases: Sequence[EvalCase]) -> list[str]:
    """The splits present: the known ones (SPLITS) first, in their order, then the rest."""
    present = list(dict.fromkeys(c.split for c in cases))
    return [s for s in SPLITS if s in present] + [s for s in present if s not in SPLITS]


def evaluate_splits(
    cases: Sequence[EvalCase], scan: ScanFunction
) -> tuple[tuple[str, EvalReport], ...]:
    """One report per split (see `split_order`), never pooled: the dev split was tuned on and
    would flatter a held-out one."""
    return tuple(
        (split, evaluate([c for c in cases if c.split == split], scan))
        for split in split_order(cases)
    )


def _verdict(valid: bool) -> str:
    return "valid" if valid else "not valid"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:5.1f}%"


def format_report(report: EvalReport, *, title: str = "all", show_misses: bool = True) -> str:
    """Plain text: one row per element, the totals, the validity confusion, then the misses.
    A known split's title carries what its accuracy means (SPLITS)."""
    about = f" ({SPLITS[title]})" if title in SPLITS else ""
    lines = [
        f"[{title}] {report.cases} cases{about}",
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
        if score.unlabelled:
            errors = f"{errors or '-'}; unlabelled {score.unlabelled}"
        lines.append(
            f"{score.element.value:<28} {_pct(score.accuracy):>8} "
            f"{score.correct:>4}/{score.total:<4}  {errors or '-'}"
        )
    unlabelled = f"  unlabelled {report.element_unlabelled}" if report.element_unlabelled else ""
    lines.append(
        f"{'overall (elements)':<28} {_pct(report.element_accuracy):>8} "
        f"{report.element_correct:>4}/{report.element_total:<4}{unlabelled}"
    )
    unlabelled = f", unlabelled {report.validity_unlabelled}" if report.validity_unlabelled else ""
    lines.append(
        f"{'validity':<28} {_pct(report.validity_accuracy):>8} "
        f"{report.validity_correct:>4}/{report.validity_total:<4}  false valid "
        f"{report.false_valid}, false invalid {report.false_invalid}{unlabelled}"
    )
    lines.append(
        f"{'validity confusion':<28} valid->valid {report.true_valid}, valid->not valid "
        f"{report.false_invalid}, not valid->valid {report.false_valid}, not valid->not valid "
        f"{report.true_invalid}"
    )
    if show_misses and report.misses:
        lines.append("misses:")
        lines += [
            f"  {m.case}: {m.element.value if m.element else 'validity'} expected {m.expected},"
            f" got {m.got}"
            for m in report.misses
        ]
    return "\n".join(lines)
