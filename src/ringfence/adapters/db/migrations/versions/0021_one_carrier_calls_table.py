"""one carrier_calls table for every carrier (twilio_calls and sip_calls move into it)

Each carrier kept its own record of the calls it was asked to place; adding a carrier meant a
new table. `carrier_calls` holds them all, keyed by (carrier, idempotency key); what only one
carrier knows goes in `details` (SIP's final response code). Rows are moved, not dropped:
at-most-once dialing after the upgrade still rests on the keys claimed before it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 04:20:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import ringfence.adapters.db.types

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = ringfence.adapters.db.types.UTCDateTime


def _carrier_calls() -> sa.Table:
    return op.create_table(
        "carrier_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "carrier",
            sa.Enum("sandbox", "sip", "twilio", name="carrier_kind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("carrier_call_id", sa.String(length=128), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("to_address", sa.String(length=255), nullable=False),
        sa.Column("from_e164", sa.String(length=20), nullable=False),
        sa.Column("requested_at", _UTC(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refused", sa.Boolean(), nullable=False),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("answered_at", _UTC(timezone=True), nullable=True),
        sa.Column("ended_at", _UTC(timezone=True), nullable=True),
        sa.Column("carrier_reason", sa.String(length=200), nullable=True),
        sa.Column("hung_up_at", _UTC(timezone=True), nullable=True),
        sa.Column("checked_at", _UTC(timezone=True), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_calls")),
        sa.UniqueConstraint(
            "carrier", "carrier_call_id", name=op.f("uq_carrier_calls_carrier_carrier_call_id")
        ),
        sa.UniqueConstraint(
            "carrier", "idempotency_key", name=op.f("uq_carrier_calls_carrier_idempotency_key")
        ),
    )


def _twilio_calls() -> sa.Table:
    return op.create_table(
        "twilio_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("to_e164", sa.String(length=20), nullable=False),
        sa.Column("from_e164", sa.String(length=20), nullable=False),
        sa.Column("requested_at", _UTC(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refused", sa.Boolean(), nullable=False),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("answered_at", _UTC(timezone=True), nullable=True),
        sa.Column("ended_at", _UTC(timezone=True), nullable=True),
        sa.Column("carrier_reason", sa.String(length=200), nullable=True),
        sa.Column("hung_up_at", _UTC(timezone=True), nullable=True),
        sa.Column("checked_at", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_twilio_calls")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_twilio_calls_call_sid")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_twilio_calls_idempotency_key")),
    )


def _sip_calls() -> sa.Table:
    return op.create_table(
        "sip_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("to_uri", sa.String(length=255), nullable=False),
        sa.Column("from_e164", sa.String(length=20), nullable=False),
        sa.Column("requested_at", _UTC(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sip_status", sa.Integer(), nullable=True),
        sa.Column("answered_at", _UTC(timezone=True), nullable=True),
        sa.Column("ended_at", _UTC(timezone=True), nullable=True),
        sa.Column("carrier_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sip_calls")),
        sa.UniqueConstraint("call_id", name=op.f("uq_sip_calls_call_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sip_calls_idempotency_key")),
    )


_COMMON = (
    "idempotency_key",
    "job_id",
    "contact_id",
    "from_e164",
    "requested_at",
    "status",
    "answered_at",
    "ended_at",
    "carrier_reason",
)


def _rows(table: str) -> list[dict[str, Any]]:
    # Read through a reflected table so the datetime columns come back as the UTC type does.
    reflected = sa.Table(table, sa.MetaData(), autoload_with=op.get_bind())
    for name in ("requested_at", "answered_at", "ended_at", "hung_up_at", "checked_at"):
        if name in reflected.c:
            reflected.c[name].type = _UTC(timezone=True)
    return [dict(row) for row in op.get_bind().execute(sa.select(reflected)).mappings()]


def upgrade() -> None:
    twilio, sip = _rows("twilio_calls"), _rows("sip_calls")
    carrier_calls = _carrier_calls()
    moved = [
        {name: row[name] for name in _COMMON}
        | {
            "carrier": "twilio",
            "carrier_call_id": row["call_sid"],
            "to_address": row["to_e164"],
            "refused": row["refused"],
            "answered_by": row["answered_by"],
            "hung_up_at": row["hung_up_at"],
            "checked_at": row["checked_at"],
            "details": {},
        }
        for row in twilio
    ] + [
        {name: row[name] for name in _COMMON}
        | {
            "carrier": "sip",
            "carrier_call_id": row["call_id"],
            "to_address": row["to_uri"],
            "refused": False,
            "answered_by": None,
            "hung_up_at": None,
            "checked_at": None,
            "details": {} if row["sip_status"] is None else {"sip_status": row["sip_status"]},
        }
        for row in sip
    ]
    if moved:
        op.bulk_insert(carrier_calls, moved)
    op.drop_table("twilio_calls")
    op.drop_table("sip_calls")


def downgrade() -> None:
    rows = _rows("carrier_calls")
    twilio, sip = _twilio_calls(), _sip_calls()
    twilio_rows = [
        {name: row[name] for name in _COMMON}
        | {
            "call_sid": row["carrier_call_id"],
            "to_e164": row["to_address"][:20],
            "refused": row["refused"],
            "answered_by": row["answered_by"],
            "hung_up_at": row["hung_up_at"],
            "checked_at": row["checked_at"] or row["requested_at"],
        }
        for row in rows
        if row["carrier"] == "twilio"
    ]
    sip_rows = [
        {name: row[name] for name in _COMMON}
        | {
            "call_id": row["carrier_call_id"] or "",
            "to_uri": row["to_address"],
            "sip_status": (row["details"] or {}).get("sip_status"),
        }
        for row in rows
        if row["carrier"] == "sip"
    ]
    if twilio_rows:
        op.bulk_insert(twilio, twilio_rows)
    if sip_rows:
        op.bulk_insert(sip, sip_rows)
    op.drop_table("carrier_calls")
