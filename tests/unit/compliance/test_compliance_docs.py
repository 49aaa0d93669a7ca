"""docs/compliance.md documents every reason and warning code with its product-description line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringfence.domain.compliance import REASONS, WARNINGS, ReasonCode, WarningCode

DOC = Path(__file__).resolve().parents[3] / "docs" / "compliance.md"


@pytest.mark.parametrize("code", [*ReasonCode, *WarningCode])
def test_every_code_is_documented_with_its_sentence_and_spec_line(
    code: ReasonCode | WarningCode,
) -> None:
    text = DOC.read_text(encoding="utf-8")
    info = REASONS[code] if isinstance(code, ReasonCode) else WARNINGS[code]
    assert f"### `{code.value}`" in text
    assert info.sentence in text
    assert f'"{info.spec_line}"' in text


def test_every_reason_has_an_info() -> None:
    assert set(REASONS) == set(ReasonCode)
    assert set(WARNINGS) == set(WarningCode)
