"""Entrypoints only translate; the transaction belongs to the use case (issue 17: services take
the unit of work and commit themselves, `services/unit_of_work.py`). No entrypoint module calls
`commit()` or `rollback()`: the test fails, saying where, when one does. (It was a ratchet of
per-module budgets while the routes moved, 67 calls when measured on 2026-12-06; now none.)
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Final

import ringfence

ENTRYPOINTS: Final = Path(ringfence.__file__).parent / "entrypoints"


def transaction_calls(source: str) -> list[int]:
    """Line numbers of `<anything>.commit()` / `<anything>.rollback()` calls in `source`."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("commit", "rollback")
        and not node.args
        and not node.keywords
    ]


def test_entrypoints_call_no_commit_or_rollback() -> None:
    found = {}
    for path in sorted(ENTRYPOINTS.rglob("*.py")):
        lines = transaction_calls(path.read_text(encoding="utf-8"))
        if lines:
            found[path.relative_to(ENTRYPOINTS).as_posix()] = lines
    assert found == {}, f"commit/rollback belongs in the service (module: lines): {found}"


def test_the_counter_sees_what_it_must() -> None:
    # The rule is only as good as its counting: a planted commit in a module is found.
    source = "def route(uow):\n    uow.session.add(1)\n    uow.commit()\n    uow.rollback()\n"
    assert transaction_calls(source) == [3, 4]
    assert transaction_calls("def f(x):\n    x.commit(message='m')\n") == []
