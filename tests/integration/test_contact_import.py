"""CSV contact import and bulk written consent against a real database.

A messy file gets an exact report by line number and an exact database state; a dry run and
a failed import write nothing; imported contacts cannot be called until written consent is
confirmed, after which the gate's consent rule passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import AuditEvent, ConsentRecord, Contact, Tag
from ringfence.bootstrap import Container
from ringfence.domain.compliance import ReasonCode, Rule
from ringfence.domain.vocabulary import CallPurpose, ConsentKind, ContactSource
from ringfence.services.consent import ConsentEvidence, record_consent
from ringfence.services.contact_import import import_contacts
from ringfence.services.contact_import_report import (
    ImportReport,
    RowReport,
    RowStatus,
)
from ringfence.services.eligibility import call_eligibility
from ringfence.services.errors import InvalidField
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.written_consent import confirm_written_consent
from tests.conftest import Tenant, make_tenant

# Semicolons, a byte-order mark, headers in mixed case and spelling, blank lines, a row of
# empty cells, a quoted cell holding the delimiter, a row missing its trailing cells.
MESSY = (
    "\ufeffFirst Name;LAST_NAME;Mobile;E-Mail;Tags\r\n"  # 1
    "Ava;Smith;(212) 555-0147;AVA@Example.com;VIP\r\n"  # 2 created
    "\r\n"  # 3 blank
    "Ben;Jones;555-01;ben@example.com;\r\n"  # 4 invalid phone
    "Chloé;Martin;+1 647 555 0100;chloe@example.ca;\r\n"  # 5 Canadian: warning
    "Dan;Toll;800-555-0199;;\r\n"  # 6 toll-free: warning
    "Eve;;;eve@example.com;\r\n"  # 7 no phone
    ";;212.555.0147;;Botox\r\n"  # 8 same number as line 2
    "Ava;Smyth;212-555-0147;;\r\n"  # 9 same number, different last name
    "Gail;Grey;(212) 555-0150;gail@new.example;\r\n"  # 10 an existing contact
    "Hal;Bad;212-555-0151;not-an-email;\r\n"  # 11 bad email
    "Ivy;Tagged;212-555-0152;;Nope\r\n"  # 12 unknown tag
    ";;;;\r\n"  # 13 empty cells
    'Jo;"Quoted; Name";212-555-0153\r\n'  # 14 trailing cells missing
    "\r\n"
)


def _scope(tenant: Tenant) -> TenantScope:
    return TenantScope(account_id=tenant.account_id, actor="test")


@pytest.fixture
def practice(container: Container, tenant: Tenant) -> int:
    """Tags VIP and Botox, and an existing contact Gail Green (+12125550150, no email, VIP)."""
    with container.uow() as uow:
        now = uow.clock.now()
        vip, botox = (
            Tag(account_id=tenant.account_id, name=name, created_at=now, updated_at=now)
            for name in ("VIP", "Botox")
        )
        gail = Contact(
            account_id=tenant.account_id,
            location_id=tenant.location_id,
            first_name="Gail",
            last_name="Green",
            phone_e164="+12125550150",
            source=ContactSource.API,
            tags=[vip],
            created_at=now,
            updated_at=now,
        )
        uow.session.add_all([vip, botox, gail])
        uow.session.flush()
        gail_id = gail.id
        uow.commit()
    return gail_id


def _import(
    container: Container, tenant: Tenant, text: str, *, dry_run: bool, **kwargs: Any
) -> ImportReport:
    with container.uow() as uow:
        report = import_contacts(
            uow.session,
            _scope(tenant),
            location_id=tenant.location_id,
            csv_text=text,
            dry_run=dry_run,
            now=uow.clock.now(),
            **kwargs,
        )
        if not dry_run:
            uow.commit()
    return report


def _summary(row: RowReport) -> tuple[Any, ...]:
    return (
        row.line,
        row.status.value,
        row.phone,
        row.duplicate_of_line,
        [(i.code.value, i.column) for i in row.reasons],
        [(i.code.value, i.column) for i in row.warnings],
    )


EXPECTED_ROWS = [
    (2, "created", "+12125550147", None, [], []),
    (4, "rejected", None, None, [("invalid_phone", "Mobile")], []),
    (5, "created", "+16475550100", None, [], [("number_not_us", "Mobile")]),
    (6, "created", "+18005550199", None, [], [("number_not_geographic", "Mobile")]),
    (7, "rejected", None, None, [("no_phone", "Mobile")], []),
    (8, "merged", "+12125550147", 2, [], []),
    (9, "merged", "+12125550147", 2, [], [("kept_existing_value", "LAST_NAME")]),
    (10, "merged", "+12125550150", None, [], [("kept_existing_value", "LAST_NAME")]),
    (11, "rejected", "+12125550151", None, [("invalid_email", "E-Mail")], []),
    (12, "rejected", "+12125550152", None, [("unknown_tag", "Tags")], []),
    (14, "created", "+12125550153", None, [], []),
]


def _contacts(session: Session, tenant: Tenant) -> dict[str, tuple[Any, ...]]:
    rows = session.scalars(select(Contact).where(Contact.account_id == tenant.account_id))
    return {
        str(c.phone_e164): (
            c.first_name,
            c.last_name,
            c.email,
            c.source.value,
            sorted(t.name for t in c.tags),
            c.location_id,
        )
        for c in rows
    }


def _count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_messy_file_gives_an_exact_report_and_database_state(
    container: Container, tenant: Tenant, practice: int
) -> None:
    report = _import(container, tenant, MESSY, dry_run=False)

    assert report.delimiter == ";"
    assert {h: f.value for h, f in report.mapping.items()} == {
        "First Name": "first_name",
        "LAST_NAME": "last_name",
        "Mobile": "phone",
        "E-Mail": "email",
        "Tags": "tags",
    }
    assert [_summary(row) for row in report.rows] == EXPECTED_ROWS
    totals = report.totals
    assert (totals.rows, totals.created, totals.merged, totals.rejected, totals.warnings) == (
        11,
        4,
        3,
        4,
        4,
    )
    by_line = {row.line: row for row in report.rows}
    assert by_line[10].contact_id == practice
    assert by_line[9].contact_id == by_line[8].contact_id == by_line[2].contact_id is not None
    assert "kept last_name 'Smith' from line 2; this row has 'Smyth'" in (
        by_line[9].warnings[0].message
    )
    assert "not a valid phone number: '555-01'" in by_line[4].reasons[0].message
    assert "region CA" in by_line[5].warnings[0].message
    assert "unknown tag(s): Nope" in by_line[12].reasons[0].message

    with container.uow() as uow:
        loc = tenant.location_id
        assert _contacts(uow.session, tenant) == {
            "+12125550147": ("Ava", "Smith", "ava@example.com", "import", ["Botox", "VIP"], loc),
            "+16475550100": ("Chloé", "Martin", "chloe@example.ca", "import", [], loc),
            "+18005550199": ("Dan", "Toll", None, "import", [], loc),
            # Existing: the empty email is filled, the last name is kept, the source too.
            "+12125550150": ("Gail", "Green", "gail@new.example", "api", ["VIP"], loc),
            "+12125550153": ("Jo", "Quoted; Name", None, "import", [], loc),
        }
        assert _count(uow.session, ConsentRecord) == 0
        [entry] = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "contacts.imported")
        )
        assert (entry.entity_type, entry.entity_id, entry.actor) == ("location", loc, "test")
        assert entry.after == {
            "rows": 11,
            "created": 4,
            "merged": 3,
            "rejected": 4,
            "warnings": 4,
            "contacts_updated": 1,
            "mapping": {
                "First Name": "first_name",
                "LAST_NAME": "last_name",
                "Mobile": "phone",
                "E-Mail": "email",
                "Tags": "tags",
            },
        }


def test_dry_run_reports_the_same_and_writes_nothing(
    container: Container, tenant: Tenant, practice: int
) -> None:
    with container.uow() as uow:
        before = _contacts(uow.session, tenant)
        audits = _count(uow.session, AuditEvent)
    report = _import(container, tenant, MESSY, dry_run=True)
    assert report.dry_run
    assert [_summary(row) for row in report.rows] == EXPECTED_ROWS
    by_line = {row.line: row for row in report.rows}
    # A merge into an existing contact names it; a contact that would be created has no id.
    assert by_line[10].contact_id == practice
    assert by_line[2].contact_id is None
    with container.uow() as uow:
        assert _contacts(uow.session, tenant) == before
        assert _count(uow.session, AuditEvent) == audits


def test_importing_the_same_file_twice_merges_every_row(
    container: Container, tenant: Tenant, practice: int
) -> None:
    _import(container, tenant, MESSY, dry_run=False)
    with container.uow() as uow:
        first = _contacts(uow.session, tenant)
    again = _import(container, tenant, MESSY, dry_run=False)
    statuses = [row.status for row in again.rows if row.status is not RowStatus.REJECTED]
    assert statuses == [RowStatus.MERGED] * 7
    with container.uow() as uow:
        assert _contacts(uow.session, tenant) == first


def test_explicit_mapping_full_names_and_tab_delimiter(
    container: Container, tenant: Tenant
) -> None:
    text = (
        "Patient\tNumber\tZIP\tNotes\n"
        "Ava de la Cruz\t2125550147\t10001\tlikes mornings\n"
        "Smith, Ben\t2125550148\t07030\t\n"
        "\t2125550149\t\t\n"
    )
    report = _import(
        container,
        tenant,
        text,
        dry_run=False,
        mapping={"Patient": "full_name", "number": "phone", "Notes": "ignore"},
    )
    assert report.delimiter == "\t"
    assert {h: f.value for h, f in report.mapping.items()} == {
        "Patient": "full_name",
        "Number": "phone",
        "ZIP": "postal_code",
    }
    assert report.ignored_columns == ("Notes",)
    assert [_summary(row) for row in report.rows] == [
        (2, "created", "+12125550147", None, [], []),
        (3, "created", "+12125550148", None, [], []),
        (4, "created", "+12125550149", None, [], [("no_first_name", None)]),
    ]
    with container.uow() as uow:
        rows = uow.session.scalars(select(Contact).order_by(Contact.phone_e164))
        assert [(c.first_name, c.last_name, c.postal_code) for c in rows] == [
            ("Ava", "de la Cruz", "10001"),
            ("Ben", "Smith", "07030"),
            ("", "", None),
        ]


@pytest.mark.parametrize(
    ("text", "mapping", "field", "message"),
    [
        ("Name,Email\nAva,ava@example.com\n", None, "mapping", "no column is mapped to phone"),
        ("", None, "csv_text", "the file is empty"),
        ("\n\n", None, "csv_text", "the file is empty"),
        ('Phone,Name\n2125550147,"Ava\n', None, "csv_text", "line 2: malformed CSV"),
        ("Phone\n2125550147\n", {"Mobile": "phone"}, "mapping.Mobile", "no column named"),
        ("Phone\n2125550147\n", {"Phone": "nickname"}, "mapping.Phone", "unknown field"),
        (
            "Phone,Cell\n2125550147,2125550148\n",
            {"Phone": "phone", "Cell": "phone"},
            "mapping.Cell",
            "already mapped from 'Phone'",
        ),
    ],
)
def test_fatal_errors_write_nothing(
    container: Container,
    tenant: Tenant,
    text: str,
    mapping: dict[str, str] | None,
    field: str,
    message: str,
) -> None:
    with pytest.raises(InvalidField) as raised:
        _import(container, tenant, text, dry_run=False, mapping=mapping)
    assert raised.value.field == field
    assert message in raised.value.message
    with container.uow() as uow:
        assert _count(uow.session, Contact) == 0
        assert _count(uow.session, AuditEvent) == 0


def test_too_many_rows_is_refused_before_anything_is_written(
    container: Container, tenant: Tenant
) -> None:
    text = "phone\n" + "".join(f"212555{n:04d}\n" for n in range(100, 106))
    with pytest.raises(InvalidField, match="more than 5 rows"):
        _import(container, tenant, text, dry_run=False, max_rows=5)
    assert len(_import(container, tenant, text, dry_run=True, max_rows=6).rows) == 6


class FailingFourthInsert:
    """Fails the transaction after the 4th imported contact's INSERT has run, noting how many
    contacts the database then held inside it (so the failure is truly mid-way)."""

    def __init__(self) -> None:
        self.inserted = 0
        self.rows_inside: int | None = None

    def __call__(self, _mapper: object, connection: Connection, _target: object) -> None:
        self.inserted += 1
        if self.inserted == 4:
            self.rows_inside = connection.scalar(select(func.count()).select_from(Contact))
            raise SQLAlchemyError("simulated database failure on the 4th contact")


@pytest.fixture
def failing_fourth_insert() -> Iterator[FailingFourthInsert]:
    hook = FailingFourthInsert()
    event.listen(Contact, "after_insert", hook)
    try:
        yield hook
    finally:
        event.remove(Contact, "after_insert", hook)


def test_a_database_error_midway_leaves_nothing_half_imported(
    container: Container,
    tenant: Tenant,
    practice: int,
    failing_fourth_insert: FailingFourthInsert,
) -> None:
    text = "phone,first name\n" + "".join(f"212555{n:04d},P{n}\n" for n in range(200, 210))
    with container.uow() as uow:
        before = _contacts(uow.session, tenant)
    with pytest.raises(SQLAlchemyError, match="4th contact"):
        _import(container, tenant, text, dry_run=False)
    assert failing_fourth_insert.rows_inside is not None
    assert failing_fourth_insert.rows_inside > len(before)
    with container.uow() as uow:
        assert _contacts(uow.session, tenant) == before
        assert _count(uow.session, AuditEvent) == 0


def test_progress_counts_every_row(container: Container, tenant: Tenant) -> None:
    seen: list[tuple[str, int, int]] = []
    _import(
        container,
        tenant,
        "phone\n2125550147\n2125550148\nbad\n",
        dry_run=False,
        progress=lambda phase, done, total: seen.append((phase.value, done, total)),
    )
    assert seen == [
        ("validating", 1, 3),
        ("validating", 2, 3),
        ("validating", 3, 3),
        ("writing", 2, 2),
    ]


def test_another_accounts_location_is_refused(
    container: Container, tenant: Tenant, practice: int
) -> None:
    rival = make_tenant(container, "Rival Derm")
    with container.uow() as uow, pytest.raises(InvalidField) as raised:
        import_contacts(
            uow.session,
            _scope(rival),
            location_id=tenant.location_id,
            csv_text="phone\n2125550147\n",
            dry_run=False,
            now=uow.clock.now(),
        )
    assert raised.value.field == "location_id"


def _consent_check(container: Container, contact_id: int) -> tuple[str, ReasonCode | None]:
    with container.uow() as uow:
        contact = uow.session.get_one(Contact, contact_id)
        evaluation = call_eligibility(
            uow.session,
            contact,
            purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
            now=uow.clock.now(),
        )
    check = evaluation.check(Rule.CONSENT)
    return check.outcome.value, check.reason


def test_imported_contacts_need_written_consent_and_a_batch_unlocks_the_gate(
    container: Container, tenant: Tenant, practice: int
) -> None:
    report = _import(container, tenant, MESSY, dry_run=False)
    ids = sorted({row.contact_id for row in report.rows if row.status is RowStatus.CREATED})
    ava = next(row.contact_id for row in report.rows if row.line == 2)
    assert ava is not None
    assert _consent_check(container, ava) == ("failed", ReasonCode.WRITTEN_CONSENT_UNCONFIRMED)

    scope = _scope(tenant)
    with container.uow() as uow:
        records = confirm_written_consent(
            uow.session,
            scope,
            [*ids, ids[0]],  # listed twice: one record
            confirmed_by="Dr. Reyes",
            note="Signed intake forms, cabinet B",
            attestation=True,
            now=uow.clock.now(),
        )
        uow.commit()
    assert [r.contact_id for r in records] == [c for c in ids if c is not None]
    assert _consent_check(container, ava) == ("passed", None)
    with container.uow() as uow:
        stored = uow.session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)).all()
        assert [(r.kind, r.confirmed_by, r.note, r.recorded_by) for r in stored] == [
            (ConsentKind.MANUAL_WRITTEN, "Dr. Reyes", "Signed intake forms, cabinet B", "test")
        ] * len(ids)
        actions = uow.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("consent.%"))
        ).all()
        assert sorted(actions) == ["consent.manual_written" for _ in ids] + [
            "consent.manual_written_batch"
        ]
        batch = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "consent.manual_written_batch")
        ).one()
        assert batch.after is not None
        assert batch.after["consent_record_ids"] == [r.id for r in stored]
        assert batch.after["attestation"].startswith("I attest that written consent")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"attestation": False}, "attestation"),
        ({"confirmed_by": "  "}, "confirmed_by"),
        ({"note": ""}, "note"),
        ({"contact_ids": []}, "contact_ids"),
        ({"contact_ids": list(range(1, 1002))}, "contact_ids"),
    ],
)
def test_bulk_consent_needs_attestation_who_and_where(
    container: Container, tenant: Tenant, practice: int, kwargs: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {
        "contact_ids": [practice],
        "confirmed_by": "Dr. Reyes",
        "note": "Intake binder",
        "attestation": True,
    }
    arguments.update(kwargs)
    ids = arguments.pop("contact_ids")
    with container.uow() as uow, pytest.raises(InvalidField) as raised:
        confirm_written_consent(uow.session, _scope(tenant), ids, now=uow.clock.now(), **arguments)
    assert raised.value.field == field


def test_bulk_consent_is_all_or_nothing(
    container: Container, tenant: Tenant, practice: int
) -> None:
    rival = make_tenant(container, "Rival Derm")
    with container.uow() as uow:
        now = uow.clock.now()
        theirs = Contact(
            account_id=rival.account_id,
            location_id=rival.location_id,
            first_name="Zed",
            phone_e164="+13105550100",
            source=ContactSource.IMPORT,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(theirs)
        uow.session.flush()
        theirs_id = theirs.id
        uow.commit()

    def confirm(ids: list[int]) -> InvalidField:
        with container.uow() as uow, pytest.raises(InvalidField) as raised:
            confirm_written_consent(
                uow.session,
                _scope(tenant),
                ids,
                confirmed_by="Dr. Reyes",
                note="Intake binder",
                attestation=True,
                now=uow.clock.now(),
            )
        return raised.value

    foreign = confirm([practice, theirs_id, 999_999])
    assert (foreign.field, foreign.message) == (
        "contact_ids",
        f"no such contact(s): {theirs_id}, 999999",
    )

    # A revoked consent is not switched back on by a bulk attestation.
    with container.uow() as uow:
        gail = uow.session.get_one(Contact, practice)
        record_consent(
            uow.session,
            _scope(tenant),
            gail,
            ConsentEvidence(kind=ConsentKind.REVOCATION),
            now=uow.clock.now(),
        )
        uow.commit()
    revoked = confirm([practice])
    assert revoked.field == "contact_ids"
    assert f"contact(s) {practice} revoked their consent" in revoked.message
    with container.uow() as uow:
        kinds = uow.session.scalars(select(ConsentRecord.kind)).all()
        assert kinds == [ConsentKind.REVOCATION]
