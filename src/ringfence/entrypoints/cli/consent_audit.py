"""`ringfence consent audit [--account ID] [--json]`: consent records that no longer qualify."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ringfence.entrypoints.cli.support import open_container
from ringfence.services.consent_audit import audit_consent

console = Console(soft_wrap=True)


def consent_audit(
    account: Annotated[int | None, typer.Option("--account", help="Only this account")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List consent records the gate no longer counts (a failing form, a held submission, a
    number the contact no longer has), with the reason code the gate answers. Read-only."""
    with open_container() as container, container.uow() as uow:
        findings = audit_consent(uow.session, account_id=account)
    rows = [
        {
            "consent_record_id": f.consent_record_id,
            "account_id": f.account_id,
            "contact_id": f.contact_id,
            "kind": f.kind.value,
            "recorded_at": f.recorded_at.isoformat(),
            "problem": f.problem.value,
            "reason_code": f.reason.value,
            "detail": f.detail,
        }
        for f in findings
    ]
    if as_json:
        console.print_json(json.dumps(rows))
        return
    if not rows:
        console.print("Every consent record qualifies for its contact's current number.")
        return
    table = Table(title=f"{len(rows)} consent record(s) that no longer qualify")
    for column in ("Record", "Account", "Contact", "Kind", "Recorded", "Gate answers", "Why"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row["consent_record_id"]),
            str(row["account_id"]),
            str(row["contact_id"]),
            str(row["kind"]),
            str(row["recorded_at"]),
            str(row["reason_code"]),
            str(row["detail"]),
        )
    console.print(table)
