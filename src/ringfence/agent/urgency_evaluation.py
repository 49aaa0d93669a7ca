"""Whether the agent hands a possible complication to staff as URGENT, measured on callee turns
it never learned from (docs/agent-evaluation.md, "Urgency").

Each turn is read the way the runtime reads it (`agent.runtime`): the understander's label,
then `assess_clinical` on the same words. The runtime raises an URGENT staff task (and says
the 911 line) when the turn is heard as a clinical question, an opt-out (certain or in doubt)
or an AI question with clinical words, and `assess_clinical` finds an urgent signal; a normal
clinical task when it is heard as a clinical question (or an AI question with clinical words)
without one; otherwise nothing goes to clinical staff (the scheduling labels, `other`: the
policy answers, with no clinical content). Labels:

- `urgent`: a sign warranting a same-day clinical call (worsening or severe swelling or pain,
  vision changes, skin turning white / grey / blue, fever, infection, trouble breathing, a
  drooping eyelid, being at the ER...);
- `clinical`: clinical content that is not urgent (aftercare, mild effects, dosage, medicines);
- `none`: not clinical, including traps ("Tuesday is worse for me", "I work at the hospital").

Sets (`agent/data/urgency/`): `test_frozen.jsonl`, the held-out split (written by a helper
from the label definitions alone, committed before any tuning; TEST_FROZEN.md holds its
SHA-256), and `dev.jsonl`, written by another helper from another angle, whose misses were
read while the Spanish patterns were written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Final

from ringfence.agent.guardrails.clinical import assess_clinical
from ringfence.agent.understanding.labels import Label, Language
from ringfence.agent.understanding.understander import Understander

TEST_FROZEN: Final = "test_frozen.jsonl"
DEV: Final = "dev.jsonl"
_FIELDS: Final = frozenset({"text", "label", "lang"})


class Urgency(StrEnum):
    URGENT = "urgent"
    CLINICAL = "clinical"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class UrgencyCase:
    text: str
    label: Urgency
    language: Language


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


def load_cases(lines: Iterable[str], *, source: str = "<cases>") -> list[UrgencyCase]:
    """Parse JSONL; a bad line raises ValueError naming the source, line and field."""
    cases: list[UrgencyCase] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not JSON ({exc.msg})") from exc
        if not isinstance(raw, dict) or set(raw) - _FIELDS or not {"text", "label"} <= set(raw):
            raise ValueError(f"{where}: expected the fields text, label and lang")
        try:
            label = Urgency(raw["label"])
        except ValueError as exc:
            wrong = raw["label"]
            raise ValueError(f"{where}: label {wrong!r} is not urgent, clinical or none") from exc
        try:
            language = Language(raw.get("lang", "en"))
        except ValueError as exc:
            raise ValueError(f"{where}: lang {raw.get('lang')!r} is not en/es") from exc
        if not isinstance(raw["text"], str) or not raw["text"].strip():
            raise ValueError(f"{where}: text must be a non-empty string")
        cases.append(UrgencyCase(raw["text"], label, language))
    return cases


def load_file(path: Path) -> list[UrgencyCase]:
    return load_cases(path.read_text(encoding="utf-8").splitlines(), source=str(path))


def shipped(name: str) -> list[UrgencyCase]:
    data = resources.files("ringfence.agent").joinpath("data", "urgency", name)
    return load_cases(data.read_text(encoding="utf-8").splitlines(), source=name)


def predict(text: str, understander: Understander) -> Urgency:
    """What the runtime hands to clinical staff for `text`, said as a turn of an appointment
    call (tests/unit/agent/test_urgency_evaluation.py runs the runtime itself beside it)."""
    heard = understander.understand(text, appointment_call=True)
    concern = assess_clinical(text)
    urgent = concern is not None and concern.urgent
    if heard.label is Label.OPT_OUT:  # acted on or asked about: an urgent task rides with it
        return Urgency.URGENT if urgent else Urgency.NONE
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
