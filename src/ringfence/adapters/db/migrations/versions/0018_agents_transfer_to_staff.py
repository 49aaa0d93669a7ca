"""agents transfer to staff: a staff line and its business hours

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("voice_agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transfer_number", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("staff_hours", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("voice_agents", schema=None) as batch_op:
        batch_op.drop_column("staff_hours")
        batch_op.drop_column("transfer_number")
