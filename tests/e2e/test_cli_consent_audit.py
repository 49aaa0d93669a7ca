"""`ringfence consent audit`: consent records that no longer qualify, with the gate's reason."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from ringfence.adapters.db.orm import ConsentRecord
from ringfence.bootstrap import Container
from ringfence.entrypoints.cli import app
from tests.conftest import Tenant, make_tenant


@pytest.fixture
def env(container: Container, database_url: str) -> dict[str, str]:
    return {"RINGFENCE_DATABASE_URL": database_url, "COLUMNS": "200"}


def _contact_with_consent(client: TestClient, t: Tenant, phone: str) -> int:
    made = client.post(
        "/api/v1/contacts",
        json={"location_id": t.location_id, "first_name": "Ava", "phone": phone},
        headers=t.headers,
    )
    assert made.status_code == 201, made.text
    contact_id = int(made.json()["id"])
    consent = client.post(
        f"/api/v1/contacts/{contact_id}/consents",
        json={"kind": "manual_written", "confirmed_by": "Dana", "note": "Signed form"},
        headers=t.headers,
    )
    assert consent.status_code == 201, consent.text
    return contact_id


def test_lists_records_whose_number_changed_or_whose_form_failed(
    client: TestClient, container: Container, tenant: Tenant, env: dict[str, str]
) -> None:
    runner = CliRunner()
    clean = runner.invoke(app, ["consent", "audit"], env=env)
    assert clean.exit_code == 0, clean.output
    assert "Every consent record qualifies" in clean.output

    moved = _contact_with_consent(client, tenant, "+12125550147")
    _contact_with_consent(client, tenant, "+12125550148")  # still qualifies: not listed
    client.patch(
        f"/api/v1/contacts/{moved}", json={"phone": "+13125550100"}, headers=tenant.headers
    )
    other = make_tenant(container, "Other Practice")
    failing = _contact_with_consent(client, other, "+12125550149")
    with container.uow() as uow:  # a record made before the ledger, through a failing form
        uow.session.execute(
            update(ConsentRecord)
            .where(ConsentRecord.contact_id == failing)
            .values(kind="crm_form", form_valid=False, form_id=None, form_version=3)
        )
        uow.commit()

    listed = runner.invoke(app, ["consent", "audit", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["contact_id"], r["problem"], r["reason_code"]) for r in rows] == [
        (moved, "number_changed", "consent_for_other_number"),
        (failing, "form_not_valid", "consent_form_not_valid"),
    ]
    assert "+12125550147" in rows[0]["detail"]
    assert "+13125550100" in rows[0]["detail"]

    scoped = runner.invoke(
        app, ["consent", "audit", "--json", "--account", str(tenant.account_id)], env=env
    )
    assert [r["contact_id"] for r in json.loads(scoped.output)] == [moved]
    table = runner.invoke(app, ["consent", "audit"], env=env)
    assert "2 consent record(s) that no longer qualify" in table.output
