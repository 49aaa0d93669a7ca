"""Every audit action the code writes has a sentence on the audit log page, and the page's
words for actors, records and values read as staff would say them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Final

import pytest

import ringfence
from ringfence.domain.kyc import ReviewOutcome
from ringfence.domain.vocabulary import ConsentKind
from ringfence.services.audit_views import (
    ACTION_SENTENCES,
    ActorNames,
    actor_in_words,
    describe_action,
    field_changes,
)

SOURCE: Final = Path(ringfence.__file__).parent

# An action built at run time (f"kyc.{target.value}"): its fixed start, and the enum whose
# values complete it. A new f-string action fails the test until it is listed here.
DYNAMIC: Final[dict[str, type[StrEnum]]] = {"kyc.": ReviewOutcome, "consent.": ConsentKind}

_WRITERS: Final = {"record", "record_changes"}


def _written_actions() -> Iterator[tuple[str, ast.expr]]:
    """(file, the `action=` expression) of every call to an audit writer in the source."""
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name not in _WRITERS:
                continue
            for keyword in node.keywords:
                if keyword.arg == "action":
                    yield str(path.relative_to(SOURCE)), keyword.value


def _possible(expr: ast.expr, where: str) -> set[str]:
    """Every action string `expr` can be, or a failure naming what cannot be read."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _possible(expr.body, where) | _possible(expr.orelse, where)
    if isinstance(expr, ast.JoinedStr) and isinstance(expr.values[0], ast.Constant):
        prefix = str(expr.values[0].value)
        if prefix in DYNAMIC and len(expr.values) == 2:
            return {prefix + member.value for member in DYNAMIC[prefix]}
        pytest.fail(f"{where}: action f-string {ast.unparse(expr)} is not in DYNAMIC")
    # A variable passed through (audit.py's own record/record_changes, SqlAuditLog): the
    # callers of those are what is checked.
    if isinstance(expr, ast.Name) and expr.id == "action":
        return set()
    pytest.fail(f"{where}: cannot read the audit action {ast.unparse(expr)}")


def test_every_action_the_code_writes_has_a_sentence() -> None:
    written: set[str] = set()
    for where, expr in _written_actions():
        written |= _possible(expr, where)
    assert len(written) > 15, "the scan found too few actions: has the writer been renamed?"
    missing = sorted(written - set(ACTION_SENTENCES))
    assert missing == [], f"add a sentence to ACTION_SENTENCES for {missing}"
    stale = sorted(set(ACTION_SENTENCES) - written)
    assert stale == [], f"no code writes {stale} any more: drop them from the filter list"


def test_an_unknown_action_still_reads_as_words() -> None:
    assert describe_action("api_key.revoked") == "Revoked an API key: it no longer opens anything"
    assert describe_action("legacy_thing") == "Recorded “legacy thing”"


NAMES: Final = ActorNames(share_links={4: "Lobby TV"}, workflows={9: "Recall"}, forms={})


@pytest.mark.parametrize(
    ("actor", "words"),
    [
        ("web:api_key:Front desk", "Signed-in staff (key “Front desk”)"),
        ("api_key:Zapier", "The API, with key “Zapier”"),
        ("share_link:4", "Share link “Lobby TV”"),
        ("share_link:5", "Share link #5"),
        ("workflow:9", "Workflow “Recall”"),
        ("form:3", "Web form #3"),
        ("voice_agent", "The voice agent, on a call"),
        ("cli", "An administrator, from the command line"),
        ("operator:kim", "Ringfence's verification team (kim)"),
        ("something:new", "System (something:new)"),
    ],
)
def test_actors_read_in_words(actor: str, words: str) -> None:
    assert actor_in_words(actor, NAMES) == words


def test_changed_fields_read_before_and_after() -> None:
    changes = field_changes(
        {"dnd_voice": False, "opted_out_at": None},
        {
            "dnd_voice": True,
            "opted_out_at": "2026-11-26T15:00:00+00:00",
            "opted_out_channel": "voice",
            "tags": ["VIP"],
        },
        "America/New_York",
    )
    assert [(c.field, c.before, c.after) for c in changes] == [
        ("Do not call", "no", "yes"),
        ("Opted out on", "not set", "2026-11-26 10:00 EST"),
        ("Opted out by", "not set", "a phone call"),
        ("Tags", "not set", "VIP"),
    ]
