"""`ringfence contacts import`: summary, rejects by line, the JSON report and exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from ringfence.adapters.db.orm import Contact
from ringfence.bootstrap import Container
from ringfence.entrypoints.cli.contacts import contacts_app
from tests.conftest import Tenant

CSV = (
    "Cell;Given Name;Surname\n"
    "(212) 555-0147;Ava;Smith\n"
    "\n"
    "555-01;Ben;Jones\n"
    "+1 647 555 0100;Chloé;Martin\n"
    "212.555.0147;;Smith\n"
)


@pytest.fixture
def env(container: Container, database_url: str) -> dict[str, str]:
    # `container` wiped the database; the CLI opens its own engine on the same URL.
    return {"RINGFENCE_DATABASE_URL": database_url}


def _run(env: dict[str, str], tenant: Tenant, *args: str) -> Result:
    return CliRunner().invoke(
        contacts_app,
        [
            "import",
            *args,
            "--account",
            str(tenant.account_id),
            "--location",
            str(tenant.location_id),
        ],
        env=env,
    )


def _total(output: str, name: str) -> int:
    match = re.search(rf"{name}\s*│\s*(\d+)", output)
    assert match, output
    return int(match.group(1))


def _phones(container: Container) -> list[str | None]:
    with container.uow() as uow:
        return list(uow.session.scalars(select(Contact.phone_e164).order_by(Contact.phone_e164)))


def test_dry_run_prints_the_summary_and_rejects_and_writes_nothing(
    env: dict[str, str], tenant: Tenant, container: Container, tmp_path: Path
) -> None:
    file = tmp_path / "patients.csv"
    file.write_bytes(b"\xef\xbb\xbf" + CSV.encode())
    result = _run(env, tenant, str(file), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run (nothing written)" in result.output
    assert [_total(result.output, n) for n in ("Rows", "Created", "Merged", "Rejected")] == [
        4,
        2,
        1,
        1,
    ]
    assert _total(result.output, "Warnings") == 1
    assert "line 4: invalid_phone: not a valid phone number: '555-01'" in result.output
    assert "line 5: number_not_us" in result.output
    assert _phones(container) == []


def test_import_with_a_mapping_writes_contacts_and_the_json_report(
    env: dict[str, str], tenant: Tenant, container: Container, tmp_path: Path
) -> None:
    file = tmp_path / "export.csv"
    file.write_text("Tel,Who,Misc\n2125550147,Ava Smith,x\n2125550148,Ben Jones,y\n")
    out = tmp_path / "report.json"
    result = _run(
        env, tenant, str(file), "--map", "Tel=phone", "--map", "Who=full_name", "--report", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "Imported: export.csv" in result.output
    assert "have no consent" in result.output
    report = json.loads(out.read_text())
    assert report["totals"] == {"rows": 2, "created": 2, "merged": 0, "rejected": 0, "warnings": 0}
    assert report["mapping"] == {"Tel": "phone", "Who": "full_name"}
    assert report["ignored_columns"] == ["Misc"]
    assert [row["line"] for row in report["rows"]] == [2, 3]
    assert _phones(container) == ["+12125550147", "+12125550148"]


def test_fatal_errors_exit_non_zero_and_write_nothing(
    env: dict[str, str], tenant: Tenant, other_tenant: Tenant, container: Container, tmp_path: Path
) -> None:
    no_phone = tmp_path / "names.csv"
    no_phone.write_text("Name,Email\nAva,ava@example.com\n")
    result = _run(env, tenant, str(no_phone))
    assert result.exit_code == 1
    assert "no column is mapped to phone" in result.output
    assert "nothing was imported" in result.output

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("phone,name\n2125550147,Chlo\u00e9\n".encode("latin-1"))
    result = _run(env, tenant, str(latin1))
    assert result.exit_code == 1
    assert "line 2: the file is not UTF-8" in result.output

    good = tmp_path / "good.csv"
    good.write_text("phone\n2125550147\n")
    foreign = CliRunner().invoke(
        contacts_app,
        [
            "import",
            str(good),
            "--account",
            str(other_tenant.account_id),
            "--location",
            str(tenant.location_id),
        ],
        env=env,
    )
    assert foreign.exit_code == 1
    assert "no such location" in foreign.output

    assert _run(env, tenant, str(tmp_path / "missing.csv")).exit_code == 2
    bad_map = _run(env, tenant, str(good), "--map", "phone")
    assert bad_map.exit_code == 2
    assert "expected 'Column=field'" in bad_map.output
    assert _phones(container) == []
