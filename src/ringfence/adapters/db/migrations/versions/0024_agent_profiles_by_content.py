"""agent profiles stored once per content: call jobs name theirs by digest

A dialed call's job used to carry its whole agent session: the profile (the practice's texts
and reply templates, about 2 KB, the same for thousands of calls) and the call's context.
Writing and reading that copy was a large share of the dispatcher's cost per dial. The
profile now lives once in `agent_profiles`, keyed by the SHA-256 of the account and the
profile's canonical JSON; a job keeps its context in `agent_session` and names the profile in
`agent_profile_digest`. Rows written before this revision keep their inline profile (and no
digest); the readers take both (services/stored_sessions.py).

The column is added with ALTER TABLE ADD COLUMN on both databases: no table rebuild, so the
dashboard's rollup triggers on call_jobs (migration 0008) stay as they are. For the same reason
it carries no foreign key: SQLite adds such a column in place, but can drop it only by
rebuilding the table, so the downgrade could not remove it. The one writer
(services/stored_sessions.py) inserts the profile row in the transaction that writes the job,
profile rows are never updated or deleted apart from their account, and a reader that finds
none fails that one job only.

Roll back the code only after downgrading this revision: the older code reads the profile
inline and would fail on a job written here.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ringfence.adapters.db.types

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_profiles",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", ringfence.adapters.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_agent_profiles_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_agent_profiles")),
    )
    with op.batch_alter_table("agent_profiles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_profiles_account_id"), ["account_id"], unique=False
        )
    with op.batch_alter_table("call_jobs", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("agent_profile_digest", sa.String(64), nullable=True))


def downgrade() -> None:
    # The older schema reads the profile inline: put each job's profile back into its session.
    jobs = sa.table(
        "call_jobs",
        sa.column("id", sa.Integer()),
        sa.column("agent_session", sa.JSON()),
        sa.column("agent_profile_digest", sa.String()),
    )
    profiles = sa.table(
        "agent_profiles", sa.column("digest", sa.String()), sa.column("profile", sa.JSON())
    )
    connection = op.get_bind()
    stored = dict(connection.execute(sa.select(profiles.c.digest, profiles.c.profile)).all())
    rows = connection.execute(
        sa.select(jobs.c.id, jobs.c.agent_session, jobs.c.agent_profile_digest).where(
            jobs.c.agent_profile_digest.is_not(None)
        )
    ).all()
    # A job whose profile row is gone (or with no session) cannot be made whole: the older
    # code would fail on a session without its profile, so that job keeps none.
    rewritten = [
        {
            "b_id": job_id,
            "b_session": (
                {"profile": stored[digest], "context": session["context"]}
                if session is not None and digest in stored
                else None
            ),
        }
        for job_id, session, digest in rows
    ]
    update = (
        jobs.update()
        .where(jobs.c.id == sa.bindparam("b_id"))
        .values(agent_session=sa.bindparam("b_session", type_=sa.JSON(none_as_null=True)))
    )
    for start in range(0, len(rewritten), 1000):  # one statement a batch, not one a job
        connection.execute(update, rewritten[start : start + 1000])
    with op.batch_alter_table("call_jobs", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("agent_profile_digest")
    with op.batch_alter_table("agent_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_profiles_account_id"))
    op.drop_table("agent_profiles")
