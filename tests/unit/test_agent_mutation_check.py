"""The agent mutation check's targets still exist: a refactor cannot silently disarm its table
(scripts/agent_mutation_check.py refuses to run too, but it takes minutes)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_load("mutation_check")  # the sibling it imports
MUTANTS: tuple[Any, ...] = _load("agent_mutation_check").MUTANTS


def test_the_mutants_are_named_once_and_cover_the_agents_judgement() -> None:
    names = [mutant.name for mutant in MUTANTS]
    assert len(names) == len(set(names))
    assert {"model_ignored", "doubt_dropped", "verifier_off", "grounding_off"} <= set(names)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_the_target_text_occurs_exactly_once(mutant: Any) -> None:
    path = ROOT / mutant.path
    assert path.is_file(), f"{mutant.path} is gone"
    count = path.read_text(encoding="utf-8").count(mutant.old)
    assert count == 1, f"{mutant.name}: its target occurs {count} times in {mutant.path}"
    assert mutant.new != mutant.old
