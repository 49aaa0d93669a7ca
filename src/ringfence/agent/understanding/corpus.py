"""Labelled callee utterances: the training corpus and the frozen test split, as shipped.

One JSON object per line (docs/agent-labels.md): ``{"text": ..., "label": ..., "lang":
"en"|"es"}``, optionally ``"appointment_call": false`` and ``"source"``. `train.jsonl` is what
the model learns from; `test_frozen.jsonl` was written by someone who never saw the model or
the training corpus and is never trained or tuned on (TEST_SPLIT.md holds its SHA-256).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

from ringfence.agent.understanding.labels import Label, Language

TRAIN: Final = "train.jsonl"
# Every training file (each written from its own angle; TRAIN.md).
TRAINING: Final = (
    "train.jsonl",
    "train_answers.jsonl",
    "train_patterns.jsonl",
    "train_tuning.jsonl",
    "train_es_negatives.jsonl",  # Spanish hard negatives (TRAIN.md), since 2026-12-08
)
TEST_FROZEN: Final = "test_frozen.jsonl"
TEST_FROZEN_V2: Final = "test_frozen_v2.jsonl"  # a second writer, scored once when frozen
# A third writer: answers to specific agent lines, frozen before v2's misses were read and v2
# became a development set (TEST_SPLIT_V3.md).
TEST_FROZEN_V3: Final = "test_frozen_v3.jsonl"
# A fourth writer: dialects, Spanish from several countries, third parties, Whisper-style
# transcripts; frozen before v3's misses were read and v3 became a development set
# (TEST_SPLIT_V4.md).
TEST_FROZEN_V4: Final = "test_frozen_v4.jsonl"
# A seventh writer: Spanish requests to stop calling and the hard negatives that share their
# words, frozen before the Spanish opt-out rules were scored (TEST_SPLIT_ES_OPT_OUT.md); its
# targets are the opt-out ones.
TEST_FROZEN_ES_OPT_OUT: Final = "test_frozen_es_opt_out.jsonl"
# An eighth writer: Spanish turns that share a request's words but are none (240), and
# requests beside them (60); written 2026-12-08 to decide whether to train on
# train_es_negatives.jsonl, so a development set from the start (DEV_ES_HARD.md).
DEV_ES_HARD: Final = "dev_es_hard.jsonl"
_FIELDS: Final = frozenset({"text", "label", "lang", "appointment_call", "source"})


def training_corpus() -> list[Utterance]:
    """Every shipped training file that exists (never the frozen test split)."""
    folder = resources.files("ringfence.agent").joinpath("data", "understanding")
    found: list[Utterance] = []
    for name in TRAINING:
        data = folder.joinpath(name)
        if data.is_file():
            found += parse_lines(data.read_text(encoding="utf-8").splitlines(), name)
    return found


@dataclass(frozen=True, slots=True)
class Utterance:
    text: str
    label: Label
    lang: Language = Language.EN
    appointment_call: bool = True


def json_objects(lines: Iterable[str], origin: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each non-blank JSONL line's object, with where it came from ("file.jsonl:12", for the
    caller's own errors); a line that is not a JSON object is a ValueError naming it."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise ValueError(f"{where}: not a JSON object")
        yield where, row


def parse_lines(lines: Iterable[str], origin: str) -> list[Utterance]:
    """Utterances from JSONL lines; a bad line is a ValueError naming `origin`, the line
    number and the field."""
    found: list[Utterance] = []
    for where, row in json_objects(lines, origin):
        unknown = sorted(set(row) - _FIELDS)
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: text: a non-empty string is required")
        try:
            label = Label(str(row.get("label")))
        except ValueError as exc:
            raise ValueError(f"{where}: label: one of {', '.join(Label)}") from exc
        try:
            lang = Language(str(row.get("lang", "en")))
        except ValueError as exc:
            raise ValueError(f"{where}: lang: one of {', '.join(Language)}") from exc
        appointment_call = row.get("appointment_call", True)
        if not isinstance(appointment_call, bool):
            raise ValueError(f"{where}: appointment_call: true or false")
        found.append(Utterance(text, label, lang, appointment_call))
    return found


def load(path: Path) -> list[Utterance]:
    return parse_lines(path.read_text(encoding="utf-8").splitlines(), str(path))


def shipped(name: str) -> Sequence[Utterance]:
    """A corpus shipped with the package (`TRAIN` or `TEST_FROZEN`)."""
    data = resources.files("ringfence.agent").joinpath("data", "understanding", name)
    return parse_lines(data.read_text(encoding="utf-8").splitlines(), name)


def shipped_v1() -> Sequence[Utterance]:
    """The v1 guardrail set (six labels; its `other` holds what v2 calls cancel, human request
    and wrong person)."""
    data = resources.files("ringfence.agent").joinpath("data", "guardrail_eval.jsonl")
    return parse_lines(data.read_text(encoding="utf-8").splitlines(), "guardrail_eval.jsonl")
