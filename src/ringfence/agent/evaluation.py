"""Guardrail evaluation: how well the runtime's own detectors label what patients say.

A case is one JSONL line: ``{"text": "...", "label": "opt_out"}`` (labels: `Label`), with an
optional ``"appointment_call": false`` for a call without an appointment in context (it
changes how "cancel" is read; docs/agent.md, "Opt-out phrase rules", rule 4). `classify`
runs the runtime's detectors in the runtime's order (`ConversationRuntime.respond`):

1. opt-out (`detect_opt_out`), 2. AI question (`asks_if_ai`), 3. clinical question
(`assess_clinical`), 4. the scripted policy's intents (`recognize_intent`: confirm,
reschedule), 5. anything else is `other`.

No rule lives here: a miss is a miss of the detectors themselves. The shipped set is
`data/guardrail_eval.jsonl` (`shipped_cases()`); docs/agent-evaluation.md gives the label
definitions, the targets and the figures measured.

    report = evaluate(load_cases("cases.jsonl"))
    print(format_table(report))            # or json.dumps(report.as_dict())
    problems = meets_targets(report)       # [] when every target is met
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

from ringfence.agent.guardrails.clinical import assess_clinical
from ringfence.agent.guardrails.disclosure import asks_if_ai
from ringfence.agent.guardrails.opt_out import detect_opt_out
from ringfence.agent.policies.intents import Intent, recognize_intent


class Label(StrEnum):
    OPT_OUT = "opt_out"
    AI_QUESTION = "ai_question"
    CLINICAL_QUESTION = "clinical_question"
    CONFIRM = "confirm"
    RESCHEDULE = "reschedule"
    OTHER = "other"


_INTENT_LABELS: Final = {Intent.CONFIRM: Label.CONFIRM, Intent.RESCHEDULE: Label.RESCHEDULE}
_FIELDS: Final = frozenset({"text", "label", "appointment_call"})
SHIPPED_SET: Final = "guardrail_eval.jsonl"


def classify(text: str, *, appointment_call: bool = True) -> Label:
    """The label the runtime would act on first for `text` (its guardrails, then the
    scripted policy). `appointment_call`: an appointment is in context (confirmation,
    no-show and appointment-related inbound calls), as `CallContext.has_appointment`."""
    if detect_opt_out(text, appointment_in_context=appointment_call) is not None:
        return Label.OPT_OUT
    if asks_if_ai(text):
        return Label.AI_QUESTION
    if assess_clinical(text) is not None:
        return Label.CLINICAL_QUESTION
    return _INTENT_LABELS.get(recognize_intent(text).intent, Label.OTHER)


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    label: Label
    appointment_call: bool = True
    line: int = 0  # 1-based line in the file it came from (0: built in code)


def parse_cases(lines: Iterable[str], *, source: str = "<cases>") -> list[Case]:
    """Cases from JSONL lines; blank lines are skipped. Raises ValueError naming the source,
    the line number and the field at fault."""
    cases: list[Case] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{source}, line {number}"
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(item, dict):
            raise ValueError(f"{where}: expected a JSON object with 'text' and 'label'")
        unknown = sorted(set(item) - _FIELDS)
        if unknown:
            raise ValueError(
                f"{where}: field {unknown[0]!r} is unknown (expected text, label, appointment_call)"
            )
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: field 'text' must be a non-empty string")
        label = item.get("label")
        if label not in {member.value for member in Label}:
            choices = ", ".join(member.value for member in Label)
            raise ValueError(f"{where}: field 'label' must be one of {choices}, got {label!r}")
        appointment_call = item.get("appointment_call", True)
        if not isinstance(appointment_call, bool):
            raise ValueError(f"{where}: field 'appointment_call' must be true or false")
        cases.append(Case(text, Label(label), appointment_call, number))
    if not cases:
        raise ValueError(f"{source}: no cases")
    return cases


def load_cases(path: str | Path) -> list[Case]:
    """Cases from a JSONL file (see `parse_cases`)."""
    file = Path(path)
    return parse_cases(file.read_text(encoding="utf-8").splitlines(), source=str(file))


def shipped_cases() -> list[Case]:
    """The evaluation set shipped with the package (`data/guardrail_eval.jsonl`)."""
    data = resources.files("ringfence.agent").joinpath("data", SHIPPED_SET)
    return parse_cases(data.read_text(encoding="utf-8").splitlines(), source=SHIPPED_SET)


@dataclass(frozen=True, slots=True)
class LabelScore:
    label: Label
    support: int  # cases labelled with it
    true_positives: int
    false_positives: int

    @property
    def false_negatives(self) -> int:
        return self.support - self.true_positives

    @property
    def precision(self) -> float | None:
        """None when nothing was classified as this label (undefined)."""
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else None

    @property
    def recall(self) -> float | None:
        """None when no case carries this label (undefined)."""
        return self.true_positives / self.support if self.support else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "support": self.support,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "precision": self.precision,
            "recall": self.recall,
        }


@dataclass(frozen=True, slots=True)
class Miss:
    case: Case
    got: Label

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.case.line,
            "text": self.case.text,
            "expected": self.case.label.value,
            "got": self.got.value,
            "appointment_call": self.case.appointment_call,
        }


@dataclass(frozen=True, slots=True)
class Report:
    total: int
    scores: tuple[LabelScore, ...]  # one per Label, in Label order
    misses: tuple[Miss, ...]  # misclassified cases, in input order

    @property
    def correct(self) -> int:
        return self.total - len(self.misses)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None

    def score(self, label: Label) -> LabelScore:
        return next(s for s in self.scores if s.label is label)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: totals, per-label figures, the misclassified cases and target misses."""
        return {
            "total": self.total,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "labels": {s.label.value: s.as_dict() for s in self.scores},
            "misses": [m.as_dict() for m in self.misses],
            "targets": [t.as_dict() for t in TARGETS],
            "target_misses": meets_targets(self),
        }


def evaluate(cases: Sequence[Case]) -> Report:
    """Classify every case and score each label (one-vs-rest precision and recall)."""
    pairs = [(c, classify(c.text, appointment_call=c.appointment_call)) for c in cases]
    scores = tuple(
        LabelScore(
            label,
            support=sum(c.label is label for c in cases),
            true_positives=sum(c.label is label and got is label for c, got in pairs),
            false_positives=sum(c.label is not label and got is label for c, got in pairs),
        )
        for label in Label
    )
    misses = tuple(Miss(c, got) for c, got in pairs if got is not c.label)
    return Report(len(cases), scores, misses)


@dataclass(frozen=True, slots=True)
class Target:
    label: Label
    metric: Literal["precision", "recall"]
    minimum: float

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label.value, "metric": self.metric, "minimum": self.minimum}


# The targets. An opt-out missed is a TCPA violation, a false alarm costs one
# contact: recall carries the tighter bound (docs/agent-evaluation.md).
TARGETS: Final = (
    Target(Label.OPT_OUT, "recall", 0.99),
    Target(Label.OPT_OUT, "precision", 0.97),
    Target(Label.AI_QUESTION, "recall", 0.95),
    Target(Label.CLINICAL_QUESTION, "recall", 0.95),
)


def meets_targets(report: Report) -> list[str]:
    """One message per target missed; an empty list when all are met."""
    problems: list[str] = []
    for target in TARGETS:
        score = report.score(target.label)
        value = score.precision if target.metric == "precision" else score.recall
        if value is None:
            problems.append(
                f"{target.label.value} {target.metric} is undefined "
                f"(support {score.support}, predicted "
                f"{score.true_positives + score.false_positives}); needs >= {target.minimum:.2f}"
            )
        elif value < target.minimum:
            problems.append(
                f"{target.label.value} {target.metric} {value:.3f} < {target.minimum:.2f}"
            )
    return problems


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_table(report: Report, *, show_misses: bool = True) -> str:
    """A plain-text report: one row per label, accuracy, target status, then the misses."""
    lines = [f"{'label':<18} {'precision':>9} {'recall':>7} {'support':>7} {'tp':>4} {'fp':>4}"]
    for s in report.scores:
        lines.append(
            f"{s.label.value:<18} {_figure(s.precision):>9} {_figure(s.recall):>7} "
            f"{s.support:>7} {s.true_positives:>4} {s.false_positives:>4}"
        )
    lines.append(f"accuracy {_figure(report.accuracy)} ({report.correct}/{report.total})")
    problems = meets_targets(report)
    lines.append("targets: met" if not problems else "targets missed:")
    lines += [f"  - {p}" for p in problems]
    if show_misses and report.misses:
        lines.append(f"misclassified ({len(report.misses)}):")
        lines += [
            f"  line {m.case.line}: expected {m.case.label.value}, got {m.got.value}: {m.case.text}"
            for m in report.misses
        ]
    return "\n".join(lines)
