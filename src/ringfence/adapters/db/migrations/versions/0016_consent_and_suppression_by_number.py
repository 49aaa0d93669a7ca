"""consent and suppression by number: consent records name the number they cover and the form
verdict they relied on; one suppression entry per (account, number)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 16:00:00

Backfill, conservative in every case (a row the old gate refused stays refused):
- `consent_records.phone_e164`: the contact's number now. Phone changes were not audited
  before this revision, so an older number cannot be recovered; consent recorded for a number
  the contact no longer has is then attributed to the current one, exactly what the old gate
  did, and `ringfence consent audit` lists records whose number differs from the contact's.
- `form_valid` / `scanner_version`: the verdict stored on the form version the record came
  through (revision 0012); versions made before it are judged now with the current scanner.
- `number_suppressions`: one entry per (account, number) of every contact that is opted out
  (any channel), on voice DND or tagged "Opted Out", stamped with the migration's instant (no
  consent recorded before it can lift it, just as the flag blocked regardless of consent), and
  of every revocation on any channel, stamped with the revocation's instant (a consent
  recorded after the revocation re-established calling before, and still does).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import ringfence.adapters.db.types

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DT = ringfence.adapters.db.types.UTCDateTime(timezone=True)
_OPT_OUT_TAG = "Opted Out"


def upgrade() -> None:
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_e164", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("form_valid", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("scanner_version", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("held", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            "ix_consent_records_account_id_phone_e164", ["account_id", "phone_e164"], unique=False
        )
    op.create_table(
        "number_suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("suppressed_at", _DT, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", _DT, nullable=False),
        sa.Column("updated_at", _DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_number_suppressions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_number_suppressions_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_suppressions")),
        sa.UniqueConstraint(
            "account_id", "phone_e164", name=op.f("uq_number_suppressions_account_id_phone_e164")
        ),
    )
    op.create_index(
        op.f("ix_number_suppressions_contact_id"),
        "number_suppressions",
        ["contact_id"],
        unique=False,
    )
    bind = op.get_bind()
    _backfill_consent_numbers(bind)
    _backfill_form_verdicts(bind)
    _backfill_suppressions(bind, datetime.now(UTC))


_META = sa.MetaData()
_CONSENTS = sa.Table(
    "consent_records",
    _META,
    sa.Column("id", sa.Integer),
    sa.Column("account_id", sa.Integer),
    sa.Column("contact_id", sa.Integer),
    sa.Column("kind", sa.String),
    sa.Column("recorded_at", _DT),
    sa.Column("form_id", sa.Integer),
    sa.Column("form_version", sa.Integer),
    sa.Column("phone_e164", sa.String),
    sa.Column("form_valid", sa.Boolean),
    sa.Column("scanner_version", sa.String),
)
_CONTACTS = sa.Table(
    "contacts",
    _META,
    sa.Column("id", sa.Integer),
    sa.Column("account_id", sa.Integer),
    sa.Column("phone_e164", sa.String),
    sa.Column("opted_out_at", _DT),
    sa.Column("dnd_voice", sa.Boolean),
)
_VERSIONS = sa.Table(
    "form_versions",
    _META,
    sa.Column("form_id", sa.Integer),
    sa.Column("version", sa.Integer),
    sa.Column("consent_text", sa.Text),
    sa.Column("scan", sa.JSON(none_as_null=True)),
)
_FORMS = sa.Table("forms", _META, sa.Column("id", sa.Integer), sa.Column("account_id", sa.Integer))
_ACCOUNTS = sa.Table(
    "accounts",
    _META,
    sa.Column("id", sa.Integer),
    sa.Column("name", sa.String),
    sa.Column("legal_name", sa.String),
)
_TAGS = sa.Table("tags", _META, sa.Column("id", sa.Integer), sa.Column("name", sa.String))
_CONTACT_TAGS = sa.Table(
    "contact_tags", _META, sa.Column("contact_id", sa.Integer), sa.Column("tag_id", sa.Integer)
)
_SUPPRESSIONS = sa.Table(
    "number_suppressions",
    _META,
    sa.Column("account_id", sa.Integer),
    sa.Column("phone_e164", sa.String),
    sa.Column("suppressed_at", _DT),
    sa.Column("source", sa.String),
    sa.Column("contact_id", sa.Integer),
    sa.Column("note", sa.Text),
    sa.Column("created_at", _DT),
    sa.Column("updated_at", _DT),
)


def _backfill_consent_numbers(bind: sa.Connection) -> None:
    phone = (
        sa.select(_CONTACTS.c.phone_e164)
        .where(_CONTACTS.c.id == _CONSENTS.c.contact_id)
        .scalar_subquery()
    )
    bind.execute(sa.update(_CONSENTS).values(phone_e164=phone))


def _backfill_form_verdicts(bind: sa.Connection) -> None:
    rows = bind.execute(
        sa.select(
            _CONSENTS.c.id,
            _VERSIONS.c.scan,
            _VERSIONS.c.consent_text,
            _ACCOUNTS.c.name,
            _ACCOUNTS.c.legal_name,
        )
        .select_from(_CONSENTS)
        .join(
            _VERSIONS,
            sa.and_(
                _VERSIONS.c.form_id == _CONSENTS.c.form_id,
                _VERSIONS.c.version == _CONSENTS.c.form_version,
            ),
        )
        .join(_FORMS, _FORMS.c.id == _CONSENTS.c.form_id)
        .join(_ACCOUNTS, _ACCOUNTS.c.id == _FORMS.c.account_id)
        .where(_CONSENTS.c.kind == "crm_form")
    ).all()
    updates: list[dict[str, Any]] = []
    for record_id, scan, text, name, legal_name in rows:
        if scan is not None:
            valid = bool(scan.get("valid_for_voice_opt_in"))
            version = str(scan.get("scanner_version") or "1")
        else:
            valid, version = _judge_now(text, name, legal_name)
        updates.append({"b_id": record_id, "valid": valid, "version": version})
    if updates:
        bind.execute(
            sa.update(_CONSENTS)
            .where(_CONSENTS.c.id == sa.bindparam("b_id"))
            .values(form_valid=sa.bindparam("valid"), scanner_version=sa.bindparam("version")),
            updates,
        )
    # A crm_form record whose form (or version) is gone has no verdict to rely on.
    bind.execute(
        sa.update(_CONSENTS)
        .where(_CONSENTS.c.kind == "crm_form", _CONSENTS.c.form_valid.is_(None))
        .values(form_valid=False)
    )


def _judge_now(text: str, name: str, legal_name: str | None) -> tuple[bool, str]:
    from ringfence.domain.consent_scan import scanner

    names = [n for n in (name, legal_name) if n and n.strip()]
    valid = any(scanner.scan(text, business_name=n).valid_for_voice_opt_in for n in names)
    return valid, str(getattr(scanner, "SCANNER_VERSION", "1"))


def _backfill_suppressions(bind: sa.Connection, now: datetime) -> None:
    found: dict[tuple[int, str], tuple[datetime, str, int | None]] = {}

    def keep(account_id: int, phone: str, at: datetime, source: str, contact: int | None) -> None:
        key = (account_id, phone)
        if key not in found or at > found[key][0]:
            found[key] = (at, source, contact)

    tagged = (
        sa.select(_CONTACT_TAGS.c.contact_id)
        .join(_TAGS, _TAGS.c.id == _CONTACT_TAGS.c.tag_id)
        .where(_TAGS.c.name == _OPT_OUT_TAG)
    )
    flagged = bind.execute(
        sa.select(_CONTACTS.c.id, _CONTACTS.c.account_id, _CONTACTS.c.phone_e164).where(
            _CONTACTS.c.phone_e164.is_not(None),
            sa.or_(
                _CONTACTS.c.opted_out_at.is_not(None),
                _CONTACTS.c.dnd_voice.is_(True),
                _CONTACTS.c.id.in_(tagged),
            ),
        )
    ).all()
    for contact_id, account_id, phone in flagged:
        keep(account_id, phone, now, "backfill", contact_id)
    revocations = bind.execute(
        sa.select(
            _CONSENTS.c.account_id,
            _CONSENTS.c.phone_e164,
            _CONSENTS.c.recorded_at,
            _CONSENTS.c.contact_id,
        ).where(_CONSENTS.c.kind == "revocation", _CONSENTS.c.phone_e164.is_not(None))
    ).all()
    for account_id, phone, at, contact_id in revocations:
        keep(account_id, phone, at, "revocation", contact_id)
    rows = [
        {
            "account_id": account_id,
            "phone_e164": phone,
            "suppressed_at": at,
            "source": source,
            "contact_id": contact_id,
            "note": "carried over from the contact records when the ledger was created",
            "created_at": now,
            "updated_at": now,
        }
        for (account_id, phone), (at, source, contact_id) in sorted(found.items())
    ]
    if rows:
        bind.execute(sa.insert(_SUPPRESSIONS), rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_number_suppressions_contact_id"), table_name="number_suppressions")
    op.drop_table("number_suppressions")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_records_account_id_phone_e164")
        batch_op.drop_column("held")
        batch_op.drop_column("scanner_version")
        batch_op.drop_column("form_valid")
        batch_op.drop_column("phone_e164")
