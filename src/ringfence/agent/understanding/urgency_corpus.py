"""Callee turns labelled by urgency (`urgent` / `clinical` / `none`), English and Spanish, as
shipped in `agent/data/urgency/` (docs/agent-evaluation.md, "Urgency").

- `train.jsonl` to `train_v4.jsonl`: written by four helpers from the label definitions, each
  from its own angle (speech-recognizer transcripts; signs described, not named; plain
  statements of mild effects against their worsening twins; symptom first with its time
  course, Spanish-weighted). The clinical assessor's patterns were written while reading their
  misses (each scored once unseen first); all four train the learned urgency head
  (`model.py`).
- `dev_v5.jsonl` and `dev_v7.jsonl`: development sets (answers inside a call, traps beside
  real signs; third parties and regional English): their misses are read, they are not
  trained on.
- `test_frozen.jsonl` to `test_frozen_v4.jsonl`, `test_frozen_v6.jsonl` and
  `test_frozen_v8.jsonl`: the held-out splits, by six more helpers who saw neither the
  detector nor the other sets; never trained or tuned on, their misses never read
  (TEST_FROZEN*.md hold their SHA-256).

One JSON object per line: ``{"text": ..., "label": "urgent"|"clinical"|"none", "lang":
"en"|"es"}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Final

from ringfence.agent.understanding.corpus import json_objects
from ringfence.agent.understanding.labels import Language

TRAINING: Final = ("train.jsonl", "train_v2.jsonl", "train_v3.jsonl", "train_v4.jsonl")
TEST_FROZEN: Final = "test_frozen.jsonl"
TEST_FROZEN_V2: Final = "test_frozen_v2.jsonl"
TEST_FROZEN_V3: Final = "test_frozen_v3.jsonl"
TEST_FROZEN_V4: Final = "test_frozen_v4.jsonl"
TEST_FROZEN_V6: Final = "test_frozen_v6.jsonl"  # v5 is a development set, dev_v5.jsonl
TEST_FROZEN_V8: Final = "test_frozen_v8.jsonl"  # v7 too, dev_v7.jsonl
HELD_OUT: Final = (
    TEST_FROZEN,
    TEST_FROZEN_V2,
    TEST_FROZEN_V3,
    TEST_FROZEN_V4,
    TEST_FROZEN_V6,
    TEST_FROZEN_V8,
)
DEVELOPMENT: Final = ("dev_v5.jsonl", "dev_v7.jsonl")
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


def load_cases(lines: Iterable[str], *, source: str = "<cases>") -> list[UrgencyCase]:
    """Parse JSONL; a bad line raises ValueError naming the source, line and field."""
    cases: list[UrgencyCase] = []
    for where, raw in json_objects(lines, source):
        if set(raw) - _FIELDS or not {"text", "label"} <= set(raw):
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


def training_cases() -> list[UrgencyCase]:
    return [case for name in TRAINING for case in shipped(name)]
