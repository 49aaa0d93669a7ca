"""call_jobs.direction: outbound (every existing row and insert) or inbound

One agent answers the practice's numbers as well as dialing out (issue 19). An inbound call
is a call record like an outbound one, told apart by this column; the server default keeps
every existing row, and every insert that does not name a direction, outbound.

The column is added with ALTER TABLE ADD COLUMN on both databases: no table rebuild, so the
dashboard's rollup triggers on call_jobs (migration 0008) stay as they are.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 11:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_jobs", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column(
                "direction",
                sa.Enum(
                    "outbound",
                    "inbound",
                    name="call_direction",
                    native_enum=False,
                    create_constraint=False,
                    length=32,
                ),
                nullable=False,
                server_default="outbound",
            )
        )


def downgrade() -> None:
    # Inbound records have no meaning to the older schema (it would count them as outbound
    # dials): they go with the column.
    inbound = "SELECT id FROM call_jobs WHERE direction = 'inbound'"
    for table in ("call_actions", "call_transcripts", "call_events", "minutes_ledger"):
        op.execute(f"DELETE FROM {table} WHERE job_id IN ({inbound})")
    op.execute("DELETE FROM call_jobs WHERE direction = 'inbound'")
    with op.batch_alter_table("call_jobs", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("direction")
