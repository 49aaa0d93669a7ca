"""`ringfence contacts ...`: importing a CSV of contacts from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ringfence.entrypoints.api.schemas.contact_imports import ContactImportOut
from ringfence.entrypoints.cli.support import open_container
from ringfence.services.contact_import import run_import
from ringfence.services.contact_import_csv import decode_csv
from ringfence.services.contact_import_report import ImportPhase, ImportReport, RowStatus
from ringfence.services.errors import ServiceError
from ringfence.services.unit_of_work import TenantScope

contacts_app = typer.Typer(help="Contacts: import from a CSV file.", no_args_is_help=True)

console = Console()
err = Console(stderr=True, soft_wrap=True)

ACTOR = "cli"
SHOWN = 50  # rejects and warnings listed on screen; --report has them all


@contacts_app.callback()
def _contacts() -> None:
    """Contacts: import from a CSV file."""


@contacts_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV file (UTF-8; comma, semicolon or tab)")],
    account: Annotated[int, typer.Option(help="Account id")],
    location: Annotated[int, typer.Option(help="Location id (of that account)")],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help='"Column=field" for a column not recognised by name (repeatable); '
            "fields: phone, first_name, last_name, full_name, email, tags, address_line1, "
            "city, state, postal_code, ignore",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing")] = (
        False
    ),
    report: Annotated[
        Path | None, typer.Option(help="Write the full per-row report here (JSON)")
    ] = None,
) -> None:
    """Import contacts into a location: every row validated and reported by line number,
    duplicates merged by phone number, all written in one transaction (or none).

    Imported contacts have no consent: confirm their written consent before calling them.
    Exits 1 when nothing could be imported (unreadable file, no phone column, bad ids)."""
    try:
        mapping = _mapping(map_ or [])
    except ValueError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(code=2) from exc
    try:
        data = file.read_bytes()
    except OSError as exc:
        err.print(f"[red]error:[/] cannot read {escape(str(file))}: {escape(exc.strerror or '')}")
        raise typer.Exit(code=2) from exc
    try:
        text = decode_csv(data)
    except ServiceError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}; nothing was imported")
        raise typer.Exit(code=1) from exc
    with (
        open_container() as container,
        container.uow() as uow,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar,
    ):
        tasks = {
            ImportPhase.VALIDATING: bar.add_task("validating rows", total=None),
            ImportPhase.WRITING: bar.add_task("writing contacts", total=None, visible=False),
        }

        def progress(phase: ImportPhase, done: int, total: int) -> None:
            bar.update(tasks[phase], completed=done, total=total, visible=True)

        try:
            result = run_import(
                uow=uow,
                scope=TenantScope(account_id=account, actor=ACTOR),
                location_id=location,
                csv_text=text,
                mapping=mapping,
                dry_run=dry_run,
                progress=progress,
            )
        except ServiceError as exc:
            bar.stop()
            err.print(f"[red]error:[/] {escape(str(exc))}; nothing was imported")
            raise typer.Exit(code=1) from exc
    _print(result, file)
    if report is not None:
        try:
            report.write_text(ContactImportOut.of(result).model_dump_json(indent=2) + "\n")
        except OSError as exc:
            err.print(f"[red]error:[/] cannot write the report: {escape(str(exc))}")
            raise typer.Exit(code=2) from exc


def _mapping(entries: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for entry in entries:
        column, equals, field = entry.rpartition("=")
        if not equals or not column.strip() or not field.strip():
            raise ValueError(f"--map {entry!r}: expected 'Column=field', e.g. 'Mobile=phone'")
        mapping[column.strip()] = field.strip()
    return mapping


def _print(result: ImportReport, file: Path) -> None:
    totals = result.totals
    verb = "Dry run (nothing written)" if result.dry_run else "Imported"
    table = Table(title=f"{verb}: {file.name} → location {result.location_id}", show_header=False)
    table.add_row("Rows", str(totals.rows))
    table.add_row("Created", str(totals.created))
    table.add_row("Merged", str(totals.merged))
    table.add_row("Rejected", str(totals.rejected))
    table.add_row("Warnings", str(totals.warnings))
    table.add_row(
        "Columns", ", ".join(f"{h} → {f.value}" for h, f in result.mapping.items()) or "-"
    )
    if result.ignored_columns:
        table.add_row("Ignored columns", ", ".join(result.ignored_columns))
    console.print(table)
    # Plain lines, not a table: they stay whole (and greppable) at any terminal width.
    rejected = [row for row in result.rows if row.status is RowStatus.REJECTED]
    if rejected:
        console.print("[bold red]Rejected rows[/]")
        for row in rejected[:SHOWN]:
            reasons = "; ".join(f"{i.code.value}: {i.message}" for i in row.reasons)
            console.print(f"  line {row.line}: {escape(reasons)}", soft_wrap=True)
        if len(rejected) > SHOWN:
            console.print(f"  ... and {len(rejected) - SHOWN} more (see --report)")
    warned = [row for row in result.rows if row.warnings]
    if warned:
        console.print("[bold yellow]Warnings[/]")
        for row in warned[:SHOWN]:
            notes = "; ".join(f"{i.code.value}: {i.message}" for i in row.warnings)
            console.print(f"  line {row.line}: {escape(notes)}", soft_wrap=True)
        if len(warned) > SHOWN:
            console.print(f"  ... and {len(warned) - SHOWN} more (see --report)")
    if not result.dry_run and totals.created + totals.merged:
        console.print(
            "Imported contacts have no consent: confirm their written consent "
            "(POST /api/v1/consents/manual-written) before calling them."
        )
