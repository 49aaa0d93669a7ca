"""The "Opted Out" tag, imports and workflow audiences keep in step with the number ledger.

Each test reproduces a way the tag or a filter drifted from the practice-wide suppression of a
number (found in review of issue 14) and checks the fix, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from ringfence.adapters.db.orm import AuditEvent, ConsentRecord, Contact, NumberSuppression
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.vocabulary import Channel, ConsentKind
from ringfence.services.contact_import import import_contacts
from ringfence.services.suppression import suppress_number, suppressed_now
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows.contact_views import contact_view, contact_views
from tests.conftest import Tenant
from tests.e2e.test_api_consent_ledger import (
    NUMBER,
    _consent,
    _contact,
    _reason,
    _second_location,
)


def _suppress(container: Container, tenant: Tenant, contact_id: int) -> None:
    with container.uow() as uow:
        suppress_number(
            uow.session,
            TenantScope(tenant.account_id, "test"),
            NUMBER,
            at=uow.clock.now(),
            source=SuppressionSource.CALL_OPT_OUT,
            contact_id=contact_id,
        )
        uow.commit()


def _consent_an_hour_ahead(container: Container, tenant: Tenant, contact_id: int) -> None:
    """Written consent stamped an hour after now (another worker's clock ran ahead)."""
    with container.uow() as uow:
        uow.session.add(
            ConsentRecord(
                account_id=tenant.account_id,
                location_id=tenant.location_id,
                contact_id=contact_id,
                kind=ConsentKind.MANUAL_WRITTEN,
                channel=Channel.VOICE,
                phone_e164=NUMBER,
                confirmed_by="Dana",
                recorded_by="test",
                recorded_at=uow.clock.now() + timedelta(hours=1),
            )
        )
        uow.commit()


def _tag_id(client: TestClient, tenant: Tenant, name: str) -> int:
    found = client.get("/api/v1/tags", params={"name": name}, headers=tenant.headers).json()
    return int(found["items"][0]["id"])


def test_the_opt_out_tag_cannot_be_renamed_deleted_or_imitated(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    contact = _contact(client, tenant)
    assert _consent(client, tenant, contact["id"]).status_code == 201
    _suppress(container, tenant, contact["id"])
    opted_out = _tag_id(client, tenant, "Opted Out")

    renamed = client.patch(
        f"/api/v1/tags/{opted_out}", json={"name": "Former patients"}, headers=tenant.headers
    )
    assert renamed.status_code == 422, renamed.text
    assert renamed.json()["detail"][0]["loc"][-1] == "name"
    deleted = client.delete(f"/api/v1/tags/{opted_out}", headers=tenant.headers)
    assert deleted.status_code == 409, deleted.text
    assert "cannot be deleted" in deleted.text
    # A look-alike would read as an opt-out to staff while the gate reads the exact name.
    for name in ("opted out", "OPTED  OUT", "Opted\tOut", "Opted-Out", "OptedOut", "Opted_Out",
                 "Opted\u200bOut", "\u041epted Out"):  # fmt: skip
        made = client.post("/api/v1/tags", json={"name": name}, headers=tenant.headers)
        assert made.status_code == 422, (name, made.text)
    # Renaming another tag onto it would opt its contacts out without a ledger entry.
    vip = client.post("/api/v1/tags", json={"name": "VIP"}, headers=tenant.headers).json()["id"]
    onto = client.patch(f"/api/v1/tags/{vip}", json={"name": "Opted Out"}, headers=tenant.headers)
    assert onto.status_code in (409, 422), onto.text
    shown = client.get(f"/api/v1/contacts/{contact['id']}", headers=tenant.headers).json()
    assert "Opted Out" in shown["tags"]
    assert _reason(client, tenant, contact["id"]) == "number_suppressed"


def test_consent_stamped_after_now_does_not_lift_a_suppression_early(
    client: TestClient, tenant: Tenant, container: Container, clock: VirtualClock
) -> None:
    """A consent record stamped in the future (another worker's clock ran ahead) is not in
    force yet for the gate, so the writers must not treat the number as lifted either."""
    contact = _contact(client, tenant)
    _suppress(container, tenant, contact["id"])
    _consent_an_hour_ahead(container, tenant, contact["id"])
    with container.uow() as uow:
        row = uow.session.get(Contact, contact["id"])
        assert row is not None
        assert suppressed_now(uow.session, row, uow.clock.now())
    refused = client.patch(
        f"/api/v1/contacts/{contact['id']}", json={"tags": []}, headers=tenant.headers
    )
    assert refused.status_code == 422, refused.text
    clock.advance(timedelta(hours=2))
    with container.uow() as uow:
        row = uow.session.get(Contact, contact["id"])
        assert row is not None
        assert not suppressed_now(uow.session, row, uow.clock.now())


def test_workflow_audiences_read_the_ledger_not_only_the_contact_row(
    client: TestClient, tenant: Tenant, container: Container, clock: VirtualClock
) -> None:
    """A second contact with the number, at another location, never set a flag itself: the
    audience must still see it as opted out (its tag filter can be switched off)."""
    first = _contact(client, tenant)
    second = _contact(client, tenant, location_id=_second_location(client, tenant))
    _suppress(container, tenant, first["id"])
    with container.uow() as uow:
        now = uow.clock.now()
        assert contact_views(uow.session, [second["id"]], now)[second["id"]].opted_out
        one = contact_view(uow.session, second["id"], now)
        assert one is not None
        assert one.opted_out
    # New consent for the number, from either contact, lifts it in both readings.
    clock.advance(timedelta(minutes=5))
    assert _consent(client, tenant, first["id"], attestation=True).status_code == 201
    with container.uow() as uow:
        now = uow.clock.now() + timedelta(seconds=1)
        assert not contact_views(uow.session, [second["id"]], now)[second["id"]].opted_out
        one = contact_view(uow.session, second["id"], now)
        assert one is not None
        assert not one.opted_out


def _import(container: Container, tenant: Tenant, location_id: int, csv_text: str) -> None:
    with container.uow() as uow:
        import_contacts(
            uow.session,
            TenantScope(tenant.account_id, "test"),
            location_id=location_id,
            csv_text=csv_text,
            dry_run=False,
            now=uow.clock.now(),
        )
        uow.commit()


def test_an_imported_contact_on_a_suppressed_number_carries_the_tag(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    first = _contact(client, tenant)
    assert _consent(client, tenant, first["id"]).status_code == 201
    _suppress(container, tenant, first["id"])
    elsewhere = _second_location(client, tenant)
    _import(container, tenant, elsewhere, f"Phone,First Name\n{NUMBER},Bea\n")
    with container.uow() as uow:
        imported = uow.session.scalars(
            select(Contact).where(Contact.location_id == elsewhere)
        ).one()
        assert [tag.name for tag in imported.tags] == ["Opted Out"]
        imported_id = imported.id
    assert _reason(client, tenant, imported_id) == "number_suppressed"


def _suppression_audits(container: Container) -> int:
    with container.uow() as uow:
        return int(
            uow.session.scalar(select(func.count()).where(AuditEvent.action == "number.suppressed"))
            or 0
        )


def test_re_importing_an_opted_out_row_does_not_move_the_suppression(
    client: TestClient, tenant: Tenant, container: Container, clock: VirtualClock
) -> None:
    """The same file twice: the second import must not re-stamp the opt-out (consent
    recorded in between would then look older than it). A suppression already lifted by new
    consent is re-applied, past that consent: the file says the number opted out."""
    client.post("/api/v1/tags", json={"name": "Opted Out"}, headers=tenant.headers)
    csv_text = f"Phone,First Name,Tags\n{NUMBER},Ava,Opted Out\n"
    _import(container, tenant, tenant.location_id, csv_text)
    with container.uow() as uow:
        first_stamp = uow.session.scalars(select(NumberSuppression)).one().suppressed_at
    audits = _suppression_audits(container)
    assert audits == 1
    clock.advance(timedelta(hours=1))
    _import(container, tenant, tenant.location_id, csv_text)
    with container.uow() as uow:
        assert uow.session.scalars(select(NumberSuppression)).one().suppressed_at == first_stamp
    assert _suppression_audits(container) == audits

    with container.uow() as uow:
        contact_id = uow.session.scalars(select(Contact.id)).one()
    assert _consent(client, tenant, contact_id, attestation=True).status_code == 201
    clock.advance(timedelta(hours=1))
    _import(container, tenant, tenant.location_id, csv_text)
    with container.uow() as uow:
        entry = uow.session.scalars(select(NumberSuppression)).one()
        consent_at = uow.session.scalar(select(func.max(ConsentRecord.recorded_at)))
        assert consent_at is not None
        assert entry.suppressed_at > consent_at
    assert _reason(client, tenant, contact_id) == "number_suppressed"


def test_a_large_opted_out_import_takes_one_lock_not_one_per_number(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    """PostgreSQL: one advisory lock per number exhausted the shared lock table on an import
    of ~15,000 opted-out rows; the bulk writer holds one account-wide lock instead."""
    with container.uow() as uow:
        if uow.session.get_bind().dialect.name != "postgresql":
            pytest.skip("advisory locks are PostgreSQL's")
    client.post("/api/v1/tags", json={"name": "Opted Out"}, headers=tenant.headers)
    rows = "".join(f"+1212555{n:04d},P{n},Opted Out\n" for n in range(200, 320))
    with container.uow() as uow:
        import_contacts(
            uow.session,
            TenantScope(tenant.account_id, "test"),
            location_id=tenant.location_id,
            csv_text="Phone,First Name,Tags\n" + rows,
            dry_run=False,
            now=uow.clock.now(),
        )
        held = uow.session.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid()"
            )
        )
        assert held == 1
        uow.commit()
    with container.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(NumberSuppression)) == 120


def test_re_importing_after_a_future_stamped_consent_keeps_the_number_suppressed(
    client: TestClient, tenant: Tenant, container: Container, clock: VirtualClock
) -> None:
    """Found in review: the bulk writer left an entry "in force" although a consent stamped
    later (another worker's clock ahead) would lift it once its time came; it now stamps past
    every consent on file, as the single-number writer does."""
    client.post("/api/v1/tags", json={"name": "Opted Out"}, headers=tenant.headers)
    contact = _contact(client, tenant)
    assert _consent(client, tenant, contact["id"]).status_code == 201
    _suppress(container, tenant, contact["id"])
    _consent_an_hour_ahead(container, tenant, contact["id"])
    _import(
        container, tenant, tenant.location_id, f"Phone,First Name,Tags\n{NUMBER},Ava,Opted Out\n"
    )
    clock.advance(timedelta(hours=2))
    assert _reason(client, tenant, contact["id"]) == "number_suppressed"
