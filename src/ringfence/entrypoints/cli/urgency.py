"""`ringfence agent eval-urgency [FILE] [--json] [--misses]`: whether possible complications
reach staff as URGENT (docs/agent-evaluation.md, "Urgency")."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ringfence.agent.understanding.understander import LearnedUnderstander
from ringfence.agent.understanding.urgency_corpus import (
    DEVELOPMENT,
    HELD_OUT,
    TRAINING,
    load_file,
    shipped,
)
from ringfence.agent.urgency_evaluation import (
    UrgencyReport,
    UrgencyScore,
    evaluate,
    target_misses,
)

console = Console(soft_wrap=True)


def agent_eval_urgency(
    file: Annotated[
        Path | None,
        typer.Argument(help="JSONL of {text, label: urgent|clinical|none, lang}"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only")] = False,
    misses: Annotated[bool, typer.Option("--misses", help="List every miss")] = False,
) -> None:
    """Urgent recall (a reported complication gets an URGENT staff task and the 911 line),
    staff recall (any clinical turn reaches staff) and false urgent flags, per language.

    Without FILE: the held-out splits (never trained or tuned on, their misses never read:
    `--misses` lists the other sets' only) and, apart, the training sets and the development
    set. Exits 1 when a held-out split (or FILE) misses a target."""
    understander = LearnedUnderstander()
    try:
        if file is not None:
            sets = [(str(file), evaluate(load_file(file), understander), True)]
        else:
            sets = [
                *(
                    (
                        f"held-out split {_version(name)}",
                        evaluate(shipped(name), understander),
                        True,
                    )
                    for name in HELD_OUT
                ),
                *(
                    (f"{name} (trained and tuned on)", evaluate(shipped(name), understander), False)
                    for name in TRAINING
                ),
                *(
                    (f"{name} (tuned on)", evaluate(shipped(name), understander), False)
                    for name in DEVELOPMENT
                ),
            ]
    except (OSError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=2) from exc
    failing = [m for name, report, held_out in sets if held_out for m in target_misses(report)]
    if as_json:
        payload: list[dict[str, Any]] = [
            {"set": name, "held_out": held_out, **report.as_dict()}
            for name, report, held_out in sets
        ]
        console.print_json(json.dumps(payload))
    else:
        for name, report, held_out in sets:
            # A shipped held-out split's misses are never printed: read, they would be tuned on.
            shown = misses and not (held_out and (file is None or file.name in HELD_OUT))
            _print(name, report, held_out=held_out, misses=shown)
        for line in failing:
            console.print(f"[red]target missed: {line}[/red]")
    if failing:
        raise typer.Exit(code=1)


def _print(name: str, report: UrgencyReport, *, held_out: bool, misses: bool) -> None:
    table = Table(title=f"{name}{' (targets checked)' if held_out else ''}")
    for column in ("language", "urgent recall", "staff recall", "false urgent", "none to staff"):
        table.add_column(column)
    rows: list[tuple[str, UrgencyScore]] = [
        *((lang.value, score) for lang, score in report.by_language.items()),
        ("all", report.overall),
    ]
    for label, score in rows:
        table.add_row(
            label,
            f"{_rate(score.urgent_recall)} ({score.urgent_found}/{score.urgent})",
            f"{_rate(score.staff_recall)} ({score.to_staff}/{score.clinical_support})",
            f"{_rate(score.false_urgent_rate)} ({score.false_urgent}/{score.not_urgent})",
            f"{score.none_to_staff}/{score.none_support}",
        )
    console.print(table)
    if misses:
        for miss in report.misses:
            console.print(f"  {miss.case.label.value} -> {miss.predicted.value}: {miss.case.text}")


def _version(name: str) -> str:
    """'test_frozen_v6.jsonl' -> 'v6' (the first split has no suffix: 'v1')."""
    found = re.search(r"_v(\d+)\.jsonl$", name)
    return f"v{found.group(1) if found else 1}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
