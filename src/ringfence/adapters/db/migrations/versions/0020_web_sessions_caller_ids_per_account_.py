"""web sessions, caller ids per account, whole evidence

Staff browser sessions become rows (so sign-out and "sign out everywhere" end them at once);
a caller ID is unique within its account instead of across the install; consent evidence
(user agent, page URL) is stored whole.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 00:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ringfence.adapters.db.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", ringfence.adapters.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_seen_at", ringfence.adapters.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", ringfence.adapters.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "ended_at", ringfence.adapters.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_web_sessions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_web_sessions_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_sessions_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_web_sessions_api_key_id"), ["api_key_id"], unique=False
        )

    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.alter_column(
            "user_agent",
            existing_type=sa.VARCHAR(length=500),
            type_=sa.Text(),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "page_url",
            existing_type=sa.VARCHAR(length=2000),
            type_=sa.Text(),
            existing_nullable=True,
        )

    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_phone_numbers_e164"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_phone_numbers_account_id_e164"), ["account_id", "e164"]
        )


def downgrade() -> None:
    with op.batch_alter_table("phone_numbers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_phone_numbers_account_id_e164"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_phone_numbers_e164"), ["e164"])

    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.alter_column(
            "page_url",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=2000),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "user_agent",
            existing_type=sa.Text(),
            type_=sa.VARCHAR(length=500),
            existing_nullable=True,
        )

    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_api_key_id"))
        batch_op.drop_index(batch_op.f("ix_web_sessions_account_id"))

    op.drop_table("web_sessions")
