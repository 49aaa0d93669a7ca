"""docs/agent.md documents every event kind and every PHI term label."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringfence.agent.events import EventKind
from ringfence.agent.guardrails.opt_out import OptOutRule
from ringfence.agent.guardrails.phi import PHI_TERMS

DOC = Path(__file__).resolve().parents[3] / "docs" / "agent.md"


@pytest.mark.parametrize(
    "name",
    [
        *(k.value for k in EventKind),
        *(label for label, _ in PHI_TERMS),
        *(r.value for r in OptOutRule),
    ],
)
def test_documented(name: str) -> None:
    assert f"`{name}`" in DOC.read_text(encoding="utf-8")
