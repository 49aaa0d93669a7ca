"""Whether the agent hands a possible complication to staff as URGENT, measured on callee turns
it never learned from (docs/agent-evaluation.md, "Urgency").

Each turn is read the way the runtime reads it (`agent.runtime`): the understander's label
and its clinical concern (`Understanding.clinical`: the assessor's patterns, English and
Spanish, and the learned urgency head). The runtime raises an URGENT staff task (and says the
911 line) when the turn is heard as a clinical question, an opt-out (certain or in doubt) or
an AI question with clinical content, and the concern is urgent; a normal clinical task when
it is heard as a clinical question (or an AI question with clinical content) without one;
otherwise nothing goes to clinical staff (the scheduling labels, `other`: the policy answers,
with no clinical content). Labels and sets: `understanding/urgency_corpus.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from ringfence.agent.understanding.labels import Label, Language
from ringfence.agent.understanding.understander import Understander
from ringfence.agent.understanding.urgency_corpus import Urgency, UrgencyCase

# Targets, per language, on a held-out split: a missed complication is the dangerous
# direction; a false urgent flag ends an ordinary call with the 911 line.
URGENT_RECALL_TARGET: Final = 0.95
STAFF_RECALL_TARGET: Final = 0.95
FALSE_URGENT_CEILING: Final = 0.10


@dataclass(frozen=True, slots=True)
class UrgencyMiss:
    case: UrgencyCase
    predicted: Urgency


@dataclass(frozen=True, slots=True)
class UrgencyScore:
    """One language's figures (or all together)."""

    urgent: int  # support
    urgent_found: int  # urgent turns given an urgent task
    clinical_support: int  # urgent + clinical turns
    to_staff: int  # of those, given any clinical task (urgent or not)
    not_urgent: int  # clinical + none turns
    false_urgent: int  # of those, given an urgent task (the 911 line, the call ends)
    none_support: int
    none_to_staff: int  # non-clinical turns given a clinical task

    @property
    def urgent_recall(self) -> float | None:
        return self.urgent_found / self.urgent if self.urgent else None

    @property
    def staff_recall(self) -> float | None:
        return self.to_staff / self.clinical_support if self.clinical_support else None

    @property
    def false_urgent_rate(self) -> float | None:
        return self.false_urgent / self.not_urgent if self.not_urgent else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "urgent_recall": self.urgent_recall,
            "urgent": f"{self.urgent_found}/{self.urgent}",
            "staff_recall": self.staff_recall,
            "to_staff": f"{self.to_staff}/{self.clinical_support}",
            "false_urgent_rate": self.false_urgent_rate,
            "false_urgent": f"{self.false_urgent}/{self.not_urgent}",
            "none_to_staff": f"{self.none_to_staff}/{self.none_support}",
        }


@dataclass(frozen=True, slots=True)
class UrgencyReport:
    overall: UrgencyScore
    by_language: dict[Language, UrgencyScore]
    misses: tuple[UrgencyMiss, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.as_dict(),
            "by_language": {lang.value: s.as_dict() for lang, s in self.by_language.items()},
        }


def target_misses(report: UrgencyReport) -> list[str]:
    """The targets `report` misses, per language ("es: urgent recall 0.700 < 0.95")."""
    missed: list[str] = []
    for language, score in report.by_language.items():
        checks = (
            ("urgent recall", score.urgent_recall, URGENT_RECALL_TARGET, True),
            ("staff recall", score.staff_recall, STAFF_RECALL_TARGET, True),
            ("false urgent rate", score.false_urgent_rate, FALSE_URGENT_CEILING, False),
        )
        for name, value, bound, at_least in checks:
            if value is not None and (value < bound if at_least else value > bound):
                sign = "<" if at_least else ">"
                missed.append(f"{language.value}: {name} {value:.3f} {sign} {bound}")
    return missed


def predict(text: str, understander: Understander) -> Urgency:
    """What the runtime hands to clinical staff for `text`, said as a turn of an outbound
    appointment call (tests/unit/agent/test_clinical_urgency.py runs the runtime itself
    beside it). Not modelled: calls without an appointment, and the inbound desk's readings
    of a turn as an answer to its own question (`runtime._as_an_answer`)."""
    heard = understander.understand(text, appointment_call=True)
    concern = heard.clinical
    urgent = concern is not None and concern.urgent
    if heard.label is Label.OPT_OUT:
        # Acted on or asked about: an urgent task rides with it; asked about, a clinical one
        # too (a certain opt-out gets no call back for a question that is not urgent).
        if urgent:
            return Urgency.URGENT
        return Urgency.CLINICAL if heard.doubt and concern is not None else Urgency.NONE
    asks_if_ai = heard.label is Label.AI_QUESTION or heard.ai_doubt
    if heard.label is Label.CLINICAL_QUESTION or (asks_if_ai and concern is not None):
        return Urgency.URGENT if urgent else Urgency.CLINICAL
    return Urgency.NONE


def evaluate(cases: Sequence[UrgencyCase], understander: Understander) -> UrgencyReport:
    predicted = [(case, predict(case.text, understander)) for case in cases]
    by_language = {
        lang: _score([p for p in predicted if p[0].language is lang])
        for lang in Language
        if any(case.language is lang for case in cases)
    }
    misses = tuple(
        UrgencyMiss(case, guess) for case, guess in predicted if _missed(case.label, guess)
    )
    return UrgencyReport(_score(predicted), by_language, misses)


def _missed(label: Urgency, guess: Urgency) -> bool:
    """A miss in either direction: an urgent turn not flagged, a clinical turn kept from staff,
    a turn flagged urgent that is not, a non-clinical turn sent to staff."""
    return guess is not label


def _score(predicted: Sequence[tuple[UrgencyCase, Urgency]]) -> UrgencyScore:
    def count(labels: set[Urgency], guesses: set[Urgency]) -> int:
        return sum(1 for case, guess in predicted if case.label in labels and guess in guesses)

    def support(labels: set[Urgency]) -> int:
        return sum(1 for case, _ in predicted if case.label in labels)

    urgent, clinical, none = Urgency.URGENT, Urgency.CLINICAL, Urgency.NONE
    return UrgencyScore(
        urgent=support({urgent}),
        urgent_found=count({urgent}, {urgent}),
        clinical_support=support({urgent, clinical}),
        to_staff=count({urgent, clinical}, {urgent, clinical}),
        not_urgent=support({clinical, none}),
        false_urgent=count({clinical, none}, {urgent}),
        none_support=support({none}),
        none_to_staff=count({none}, {urgent, clinical}),
    )
