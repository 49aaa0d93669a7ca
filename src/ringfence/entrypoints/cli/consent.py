"""`ringfence consent ...`: scan a form's consent text, and measure the scanner.

The shell around the pure scanner (`ringfence.domain.consent_scan`): reads files, prints, sets
the exit code. `scan` exits 0 when the text is a valid voice opt-in, 1 when it is not, 2 for a
usage error (a missing or unreadable file, a blank business name).
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ringfence.domain.consent_scan import ConsentScan, Status, scan
from ringfence.domain.consent_scan.elements import SPECS
from ringfence.domain.consent_scan.evaluation import (
    EXPECTED_FILE,
    EvalCase,
    evaluate_splits,
    format_report,
    parse_eval_set,
)

consent_app = typer.Typer(
    help="Consent text: scan a form's opt-in wording, evaluate the scanner.",
    no_args_is_help=True,
)

_STYLE = {Status.PRESENT: "green", Status.WEAK: "yellow", Status.MISSING: "red"}


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(Text.assemble(("error: ", "red"), message))
    return typer.Exit(code=2)


def read_text_file(path: Path) -> str:
    """The file's text (UTF-8, a byte-order mark dropped). Raises ValueError naming it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a directory, not a text file") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror})") from None


def _load(folder: Path | Traversable, source: str) -> tuple[EvalCase, ...]:
    expected = folder.joinpath(EXPECTED_FILE)
    if not expected.is_file():
        raise ValueError(f"{source}: no {EXPECTED_FILE} in it")
    texts = {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(".txt")
    }
    return parse_eval_set(
        expected.read_text(encoding="utf-8"), texts, source=f"{source}/{EXPECTED_FILE}"
    )


def load_eval_dir(folder: Path) -> tuple[EvalCase, ...]:
    """An evaluation set from a folder: `expected.json` plus one `.txt` per case."""
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    try:
        return _load(folder, str(folder))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{folder}: cannot be read ({exc})") from None


def bundled_eval_set() -> tuple[EvalCase, ...]:
    """The reviewed set shipped in the package (`domain/consent_scan/eval_set/`)."""
    folder = resources.files("ringfence.domain.consent_scan").joinpath("eval_set")
    return _load(folder, "eval_set")


def _table(result: ConsentScan) -> Table:
    table = Table(title="Consent scan", show_lines=True)
    table.add_column("element")
    table.add_column("status")
    table.add_column("blocking")
    table.add_column("suggestion")
    for finding in result.findings:
        spec = SPECS[finding.element]
        advice = Text(finding.reason, style="dim")
        if finding.suggestion and finding.status is not Status.PRESENT:
            advice.append("\n")
            advice.append(finding.suggestion)
        table.add_row(
            f"{finding.element.value}\n[dim]{spec.title}[/]",
            Text(finding.status.value, style=_STYLE[finding.status]),
            "yes" if finding.blocking else "no",
            advice,
        )
    return table


@consent_app.command("scan")
def scan_command(
    file: Annotated[Path, typer.Argument(help="The consent text (plain text or HTML)")],
    business: Annotated[str, typer.Option("--business", help="The practice's name as registered")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only")] = False,
    sms: Annotated[
        bool | None,
        typer.Option(
            "--sms/--no-sms",
            help="Whether the practice also texts under this consent (default: from the text)",
        ),
    ] = None,
) -> None:
    """Scan a consent text for a valid outbound AI-voice opt-in.

    Exit code 0: valid; 1: not valid (a blocking element is weak or missing); 2: usage error."""
    if not business.strip():
        raise _fail("--business must not be blank")
    try:
        text = read_text_file(file)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    result = scan(text, business_name=business, covers_sms=sms)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        console = Console()
        console.print(_table(result))
        verdict = (
            Text("valid for voice opt-in", style="green")
            if result.valid_for_voice_opt_in
            else Text("NOT valid for voice opt-in", style="red")
        )
        console.print(Text.assemble(f"score {result.score}/100  ", verdict))
        if not result.valid_for_voice_opt_in:
            console.print("\nRecommended consent text:", style="bold")
            console.print(result.recommended_text, markup=False, highlight=False)
    raise typer.Exit(code=0 if result.valid_for_voice_opt_in else 1)


@consent_app.command("eval")
def eval_command(
    folder: Annotated[
        Path | None,
        typer.Argument(help="Folder with expected.json and the .txt cases (default: bundled)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only")] = False,
    fail_under: Annotated[
        float | None,
        typer.Option(help="Exit 1 when any split's element accuracy is below this (0-1)"),
    ] = None,
) -> None:
    """Accuracy of the scanner against a reviewed set, per split and never pooled (dev: tuned
    on; holdout: written after v1; holdout_v2: written after v2): per element, overall, and
    validity with its confusion (false valid / false invalid). Unlabelled elements are
    skipped and counted."""
    try:
        cases = load_eval_dir(folder) if folder is not None else bundled_eval_set()
    except ValueError as exc:
        raise _fail(str(exc)) from None
    reports = evaluate_splits(cases, scan)
    if as_json:
        typer.echo(json.dumps({title: r.as_dict() for title, r in reports}, indent=2))
    else:
        typer.echo("\n\n".join(format_report(r, title=title) for title, r in reports))
    accuracies = [r.element_accuracy for _title, r in reports if r.element_accuracy is not None]
    if fail_under is not None and (not accuracies or min(accuracies) < fail_under):
        raise typer.Exit(code=1)
