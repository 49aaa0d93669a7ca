"""`ringfence kyc ...`: the platform operator's review of KYC registrations.

ringfence kyc review                      the registrations waiting, with their reasons
ringfence kyc decide ACCOUNT --approve    (or --reject / --needs-changes, with --reason)
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ringfence.domain.kyc import ReviewOutcome
from ringfence.entrypoints.cli.support import open_container
from ringfence.services import kyc
from ringfence.services.errors import ServiceError

kyc_app = typer.Typer(help="KYC registrations for outbound calling.", no_args_is_help=True)
console = Console()
err = Console(stderr=True, soft_wrap=True)


@kyc_app.command("review")
def review(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List the registrations waiting for an operator, oldest first."""
    with open_container() as container, container.uow() as uow:
        waiting = [
            {
                "account_id": row.account_id,
                "account": name,
                "legal_name": row.legal_name,
                "ein": row.ein,
                "submitted_at": row.submitted_at.isoformat() if row.submitted_at else None,
                "owners": [
                    f"{o['name']} ({o['ownership_percent']:g} %"
                    + (", control person)" if o.get("control_person") else ")")
                    for o in row.application.get("owners", [])
                ],
                "use_cases": row.application.get("use_cases", []),
                "expected_daily_volume": row.application.get("expected_daily_volume"),
                "reasons": list(row.reasons),
            }
            for row, name in kyc.pending_reviews(uow.session)
        ]
    if as_json:
        console.print_json(json.dumps(waiting))
        return
    if not waiting:
        console.print("No registration is waiting for review.")
        return
    table = Table(title="KYC registrations waiting for review")
    for column in ("Account", "Legal name / EIN", "Owners", "Use", "Why it needs a person"):
        table.add_column(column, overflow="fold")
    for item in waiting:
        table.add_row(
            f"{item['account_id']}: {item['account']}",
            f"{item['legal_name']}\n{item['ein']}",
            "\n".join(item["owners"]),
            f"{', '.join(item['use_cases'])}\n{item['expected_daily_volume']} calls/day",
            "\n".join(item["reasons"]) or "-",
        )
    console.print(table)
    console.print(
        "Decide with: ringfence kyc decide ACCOUNT_ID --approve | --reject | --needs-changes"
    )


@kyc_app.command("decide")
def decide(
    account_id: Annotated[int, typer.Argument(help="The account whose registration to decide")],
    operator: Annotated[str, typer.Option(help="Who decides (kept in the audit log)")],
    approve: Annotated[bool, typer.Option("--approve")] = False,
    reject: Annotated[bool, typer.Option("--reject")] = False,
    needs_changes: Annotated[bool, typer.Option("--needs-changes")] = False,
    reason: Annotated[list[str] | None, typer.Option(help="Why (repeatable)")] = None,
) -> None:
    """Approve, reject or ask for changes (a reason is required unless approving)."""
    chosen = [
        outcome
        for flag, outcome in (
            (approve, ReviewOutcome.APPROVED),
            (reject, ReviewOutcome.REJECTED),
            (needs_changes, ReviewOutcome.NEEDS_CHANGES),
        )
        if flag
    ]
    if len(chosen) != 1:
        err.print("Choose exactly one of --approve, --reject, --needs-changes.")
        raise typer.Exit(2)
    with open_container() as container, container.uow() as uow:
        try:
            row = kyc.decide(
                uow=uow,
                account_id=account_id,
                outcome=chosen[0],
                reasons=tuple(reason or ()),
                operator=operator,
            )
        except ServiceError as exc:
            err.print(f"Not decided: {exc}")
            raise typer.Exit(1) from exc
        status = row.status.value
    console.print(json.dumps({"account_id": account_id, "status": status}))
