"""webhook deliveries remember the receiver's HTTP status

The workflow's run log shows each webhook step's outcome, read from its delivery row:
delivered with the status the receiver answered, or failed with the reason.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 16:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("response_status", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("response_status")
