"""How well the agent understands callers, measured on labelled utterances it never learned from.

The runtime's own decision (`Understander.understand`, then for the scheduling labels the
embedded policy's `scheduling_intent`) labels every utterance; each label is scored
one-vs-rest. An opt-out *in doubt* (the agent asks "Would you like us to stop calling
this number?" and treats anything but a clear no as an opt-out) counts towards opt-out recall,
and not towards its precision: precision is that of the opt-outs acted on without asking; the
non-opt-outs asked about are counted apart (`asked_needlessly`).

Sets (docs/agent-evaluation.md):
- the **frozen test split** (`test_frozen.jsonl`): written by someone who saw neither the model
  nor the training corpus; never trained or tuned on. The targets are checked here.
- the **v1 guardrail set** (`guardrail_eval.jsonl`): six labels (its `other` holds cancels,
  requests for a person and wrong numbers), scored with those three labels folded into
  `other`; the rules were tuned on it, the model never saw it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from ringfence.agent.policies.intents import Intent
from ringfence.agent.policies.scripted import scheduling_intent
from ringfence.agent.understanding.corpus import Utterance
from ringfence.agent.understanding.decision import Understanding
from ringfence.agent.understanding.labels import Label, Language
from ringfence.agent.understanding.understander import Understander

_FOLDED_IN_V1: Final = frozenset({Label.HUMAN_REQUEST, Label.CANCEL, Label.WRONG_PERSON})
_SCHEDULING: Final = frozenset(
    {Label.CANCEL, Label.RESCHEDULE, Label.CONFIRM, Label.WRONG_PERSON, Label.OTHER}
)
_FROM_INTENT: Final = {
    Intent.CONFIRM: Label.CONFIRM,
    Intent.RESCHEDULE: Label.RESCHEDULE,
    Intent.CANCEL: Label.CANCEL,
    Intent.WRONG_NUMBER: Label.WRONG_PERSON,
}


@dataclass(frozen=True, slots=True)
class Prediction:
    utterance: Utterance
    label: Label
    doubt: bool  # an opt-out asked about, not acted on at once


@dataclass(frozen=True, slots=True)
class LabelScore:
    label: Label
    support: int
    found: int  # utterances with the label given it (asked about included)
    acted: int  # given the label without doubt
    acted_correctly: int
    asked_needlessly: int  # non-opt-outs the agent would ask about

    @property
    def recall(self) -> float | None:
        return self.found / self.support if self.support else None

    @property
    def precision(self) -> float | None:
        return self.acted_correctly / self.acted if self.acted else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "support": self.support,
            "recall": self.recall,
            "precision": self.precision,
            "acted": self.acted,
            "asked_needlessly": self.asked_needlessly,
        }


@dataclass(frozen=True, slots=True)
class Target:
    label: Label
    metric: Literal["precision", "recall"]
    minimum: float
    language: Language | None = None  # None: both languages

    @property
    def name(self) -> str:
        where = f" ({self.language.value})" if self.language else ""
        return f"{self.label.value} {self.metric}{where} >= {self.minimum:.2f}"


# The targets for the frozen split (issue 15, "Done when").
TARGETS: Final = (
    Target(Label.OPT_OUT, "recall", 0.98, Language.EN),
    Target(Label.OPT_OUT, "precision", 0.97, Language.EN),
    Target(Label.OPT_OUT, "recall", 0.95, Language.ES),
    Target(Label.AI_QUESTION, "recall", 0.97),
    Target(Label.CLINICAL_QUESTION, "recall", 0.95),
    Target(Label.CONFIRM, "recall", 0.90),
    Target(Label.RESCHEDULE, "recall", 0.90),
)


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    predictions: tuple[Prediction, ...]
    folded: bool  # human_request, cancel and wrong_person scored as `other` (the v1 set)

    def score(self, label: Label, language: Language | None = None) -> LabelScore:
        chosen = [p for p in self.predictions if language is None or p.utterance.lang is language]
        return LabelScore(
            label,
            support=sum(p.utterance.label is label for p in chosen),
            found=sum(p.utterance.label is label and p.label is label for p in chosen),
            acted=sum(p.label is label and not p.doubt for p in chosen),
            acted_correctly=sum(
                p.label is label and not p.doubt and p.utterance.label is label for p in chosen
            ),
            asked_needlessly=sum(
                p.label is label and p.doubt and p.utterance.label is not label for p in chosen
            ),
        )

    @property
    def labels(self) -> tuple[Label, ...]:
        return tuple(label for label in Label if not (self.folded and label in _FOLDED_IN_V1))

    @property
    def accuracy(self) -> float:
        right = sum(p.label is p.utterance.label for p in self.predictions)
        return right / len(self.predictions) if self.predictions else 0.0

    def misses(self) -> list[Prediction]:
        return [p for p in self.predictions if p.label is not p.utterance.label]

    def target_misses(self, labels: frozenset[Label] | None = None) -> list[str]:
        """The targets missed (of those on `labels`, when given: a split written for one
        label is judged on that label's targets)."""
        problems: list[str] = []
        for target in TARGETS:
            if labels is not None and target.label not in labels:
                continue
            score = self.score(target.label, target.language)
            if target.language is not None and score.support == 0:
                continue  # a set without that language (the v1 set has no Spanish)
            value = score.recall if target.metric == "recall" else score.precision
            if value is None or value < target.minimum:
                shown = "n/a" if value is None else f"{value:.3f}"
                problems.append(f"{target.name}: {shown}")
        return problems

    def as_dict(self) -> dict[str, Any]:
        languages = sorted({p.utterance.lang for p in self.predictions})
        return {
            "set": self.name,
            "total": len(self.predictions),
            "accuracy": self.accuracy,
            "labels": {label.value: self.score(label).as_dict() for label in self.labels},
            "opt_out_by_language": {
                lang.value: self.score(Label.OPT_OUT, lang).as_dict() for lang in languages
            },
            "target_misses": self.target_misses(),
            "misses": [
                {
                    "text": p.utterance.text,
                    "expected": p.utterance.label.value,
                    "got": p.label.value,
                    "asked": p.doubt,
                }
                for p in self.misses()
            ],
        }


def acted_on(text: str, heard: Understanding) -> Label:
    """What the agent acts on: the guardrail labels and a request for a person as understood;
    the scheduling labels as the embedded policy resolves them (its rules where they are
    specific, the understanding where they find nothing: `scheduling_intent`)."""
    if heard.label not in _SCHEDULING:
        return heard.label
    understood = None if heard.label is Label.OTHER else heard.label
    return _FROM_INTENT.get(scheduling_intent(text, understood).intent, Label.OTHER)


def evaluate(
    name: str, corpus: Sequence[Utterance], understander: Understander, *, folded: bool = False
) -> Report:
    predictions: list[Prediction] = []
    for utterance in corpus:
        heard = understander.understand(utterance.text, appointment_call=utterance.appointment_call)
        label = acted_on(utterance.text, heard)
        if folded and label in _FOLDED_IN_V1:
            label = Label.OTHER
        predictions.append(Prediction(utterance, label, heard.doubt))
    return Report(name, tuple(predictions), folded)


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_report(
    report: Report, *, show_misses: bool = False, targets: frozenset[Label] | None = None
) -> str:
    """The report as text; `targets`: the labels whose targets judge it (all by default)."""
    lines = [
        f"{report.name}: {len(report.predictions)} utterances, accuracy {report.accuracy:.3f}",
        f"  {'label':<18} {'recall':>7} {'precision':>9} {'support':>7} {'asked*':>6}",
    ]
    for label in report.labels:
        s = report.score(label)
        lines.append(
            f"  {label.value:<18} {_figure(s.recall):>7} {_figure(s.precision):>9} "
            f"{s.support:>7} {s.asked_needlessly:>6}"
        )
    for lang in sorted({p.utterance.lang for p in report.predictions}):
        s = report.score(Label.OPT_OUT, lang)
        lines.append(
            f"  opt_out ({lang.value}): recall {_figure(s.recall)}, precision "
            f"{_figure(s.precision)}, support {s.support}"
        )
    lines.append("  * non-opt-outs the agent would ask 'Would you like us to stop calling?'")
    problems = report.target_misses(targets)
    lines.append("  targets: met" if not problems else "  targets missed:")
    lines += [f"    - {problem}" for problem in problems]
    if show_misses:
        lines += [
            f"    {p.utterance.label.value} -> {p.label.value}{' (asked)' if p.doubt else ''}: "
            f"{p.utterance.text}"
            for p in report.misses()
        ]
    return "\n".join(lines)
