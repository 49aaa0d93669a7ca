"""The answering-machine detector's held-out splits stay as frozen: each file's SHA-256 is
the one its FROZEN*.md recorded when it was written (an amendment records a new one). The
test hashes the bytes and never reads a case."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

AMD_DATA = Path(__file__).resolve().parents[2] / "data" / "amd"
SPLITS = {
    "frozen.jsonl": "FROZEN.md",
    "frozen_v2.jsonl": "FROZEN_V2.md",
    "frozen_v3.jsonl": "FROZEN_V3.md",
}


def _recorded(note: Path, split: str) -> str:
    """The SHA-256 recorded last for `split` (the freeze, or its latest amendment)."""
    text = note.read_text(encoding="utf-8")
    found = re.findall(r"SHA-256 of `" + re.escape(split) + r"`:\*\*\s*`([0-9a-f]{64})`", text)
    amended = re.findall(r"new SHA-256[^`]*`([0-9a-f]{64})`", text)
    assert found, f"{note.name} records no SHA-256 for {split}"
    return (amended or found)[-1]


@pytest.mark.parametrize(("split", "note"), sorted(SPLITS.items()))
def test_a_held_out_split_is_unchanged_since_it_was_frozen(split: str, note: str) -> None:
    digest = hashlib.sha256((AMD_DATA / split).read_bytes()).hexdigest()
    assert digest == _recorded(AMD_DATA / note, split)


def test_every_held_out_split_is_checked() -> None:
    assert {p.name for p in AMD_DATA.glob("frozen*.jsonl")} == set(SPLITS)
