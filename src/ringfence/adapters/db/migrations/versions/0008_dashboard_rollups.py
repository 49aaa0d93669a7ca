"""dashboard rollups: call_day_stats and call_day_actions, kept exact by triggers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 22:40:00

The outbound dashboard's tiles and trend over a million calls cannot scan every call on
each refresh; these two tables hold the sums per (location, call type, local day, workflow,
caller ID, outcome), and triggers on call_jobs, call_transcripts and call_actions keep them
exact whatever code path writes (the dispatcher's bulk updates, the call results, the
workflow actions, an import). The SQL is written out here (not imported) so this revision
stays what it was when it ran. Jobs are deleted only with their location or account, whose
rollup rows cascade away with them, so no trigger follows a job's deletion.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = "location_id, call_type, local_day, workflow_key, number_key, outcome_key"
_MOODS = ("positive", "neutral", "negative")


def _bucket_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("call_type", sa.String(length=32), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("workflow_key", sa.Integer(), nullable=False),
        sa.Column("number_key", sa.Integer(), nullable=False),
        sa.Column("outcome_key", sa.String(length=32), nullable=False),
    ]


def _job_key(ref: str) -> str:
    """The bucket of job row `ref` (old / new / j) as a select list."""
    return (
        f"{ref}.location_id, {ref}.call_type, {ref}.dialed_local_day, "
        f"coalesce({ref}.workflow_id, 0), coalesce({ref}.from_number_id, 0), "
        f"coalesce({ref}.outcome, '')"
    )


def _job_match(ref: str) -> str:
    return (
        f"location_id = {ref}.location_id AND call_type = {ref}.call_type "
        f"AND local_day = {ref}.dialed_local_day "
        f"AND workflow_key = coalesce({ref}.workflow_id, 0) "
        f"AND number_key = coalesce({ref}.from_number_id, 0) "
        f"AND outcome_key = coalesce({ref}.outcome, '')"
    )


def _mood_count(ref: str, mood: str) -> str:
    return (
        f"(SELECT count(*) FROM call_transcripts t WHERE t.job_id = {ref}.id "
        f"AND t.sentiment = '{mood}')"
    )


def _job_leaves(ref: str) -> list[str]:
    """Statements taking job `ref` (with its transcript and actions) out of its bucket."""
    moods = ", ".join(f"{m} = {m} - {_mood_count(ref, m)}" for m in _MOODS)
    return [
        f"UPDATE call_day_stats SET calls = calls - 1, "
        f"duration_seconds = duration_seconds - coalesce({ref}.duration_seconds, 0), {moods} "
        f"WHERE {ref}.dialed_local_day IS NOT NULL AND {_job_match(ref)}",
        f"UPDATE call_day_actions SET actions = actions - (SELECT count(*) FROM call_actions a "
        f"WHERE a.job_id = {ref}.id AND a.kind = call_day_actions.kind) "
        f"WHERE {ref}.dialed_local_day IS NOT NULL AND {_job_match(ref)}",
    ]


def _job_enters(ref: str) -> list[str]:
    """Statements adding job `ref` (with its transcript and actions) to its bucket."""
    moods = ", ".join(_mood_count(ref, m) for m in _MOODS)
    add_moods = ", ".join(f"{m} = call_day_stats.{m} + excluded.{m}" for m in _MOODS)
    return [
        f"INSERT INTO call_day_stats (account_id, {_KEY}, calls, duration_seconds, "
        f"positive, neutral, negative) SELECT {ref}.account_id, {_job_key(ref)}, 1, "
        f"coalesce({ref}.duration_seconds, 0), {moods} "
        f"WHERE {ref}.dialed_local_day IS NOT NULL "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET calls = call_day_stats.calls + excluded.calls, "
        f"duration_seconds = call_day_stats.duration_seconds + excluded.duration_seconds, "
        f"{add_moods}",
        f"INSERT INTO call_day_actions (account_id, {_KEY}, kind, actions) "
        f"SELECT {ref}.account_id, {_job_key(ref)}, a.kind, count(*) FROM call_actions a "
        f"WHERE a.job_id = {ref}.id AND {ref}.dialed_local_day IS NOT NULL GROUP BY a.kind "
        f"ON CONFLICT ({_KEY}, kind) DO UPDATE SET "
        f"actions = call_day_actions.actions + excluded.actions",
    ]


def _mood_change(ref: str, sign: str) -> list[str]:
    """Transcript `ref`'s sentiment added (+) to or taken (-) from its call's bucket."""
    sets = ", ".join(
        f"{m} = {m} {sign} CASE WHEN {ref}.sentiment = '{m}' THEN 1 ELSE 0 END" for m in _MOODS
    )
    return [
        f"UPDATE call_day_stats SET {sets} WHERE ({_KEY}) = (SELECT {_job_key('j')} "
        f"FROM call_jobs j WHERE j.id = {ref}.job_id AND j.dialed_local_day IS NOT NULL)"
    ]


def _action_change(ref: str, sign: str) -> list[str]:
    if sign == "+":
        return [
            f"INSERT INTO call_day_actions (account_id, {_KEY}, kind, actions) "
            f"SELECT j.account_id, {_job_key('j')}, {ref}.kind, 1 FROM call_jobs j "
            f"WHERE j.id = {ref}.job_id AND j.dialed_local_day IS NOT NULL "
            f"ON CONFLICT ({_KEY}, kind) DO UPDATE SET "
            f"actions = call_day_actions.actions + excluded.actions"
        ]
    return [
        f"UPDATE call_day_actions SET actions = actions - 1 WHERE kind = {ref}.kind AND "
        f"({_KEY}) = (SELECT {_job_key('j')} FROM call_jobs j WHERE j.id = {ref}.job_id "
        f"AND j.dialed_local_day IS NOT NULL)"
    ]


# Every job column a bucket or its sums depend on.
_WATCHED = (
    "dialed_local_day",
    "outcome",
    "duration_seconds",
    "call_type",
    "workflow_id",
    "from_number_id",
)

# name: (table, timing/event, WHEN condition template, statements)
_TRIGGERS: dict[str, tuple[str, str, str | None, list[str]]] = {
    "rf_rollup_job_insert": (
        "call_jobs",
        "AFTER INSERT",
        "new.dialed_local_day IS NOT NULL",
        _job_enters("new"),
    ),
    "rf_rollup_job_update": (
        "call_jobs",
        "AFTER UPDATE OF " + ", ".join(_WATCHED),
        " OR ".join(f"old.{c} {{distinct}} new.{c}" for c in _WATCHED),
        _job_leaves("old") + _job_enters("new"),
    ),
    "rf_rollup_transcript_insert": (
        "call_transcripts",
        "AFTER INSERT",
        "new.sentiment IS NOT NULL",
        _mood_change("new", "+"),
    ),
    "rf_rollup_transcript_update": (
        "call_transcripts",
        "AFTER UPDATE OF sentiment",
        "old.sentiment {distinct} new.sentiment",
        _mood_change("old", "-") + _mood_change("new", "+"),
    ),
    "rf_rollup_transcript_delete": (
        "call_transcripts",
        "AFTER DELETE",
        "old.sentiment IS NOT NULL",
        _mood_change("old", "-"),
    ),
    "rf_rollup_action_insert": ("call_actions", "AFTER INSERT", None, _action_change("new", "+")),
    "rf_rollup_action_delete": ("call_actions", "AFTER DELETE", None, _action_change("old", "-")),
}


def _create_triggers(dialect: str) -> None:
    for name, (table, event, when, statements) in _TRIGGERS.items():
        if dialect == "sqlite":
            condition = f" WHEN {when.format(distinct='IS NOT')}" if when else ""
            body = "".join(f"  {statement};\n" for statement in statements)
            op.execute(
                f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW{condition}\n"
                f"BEGIN\n{body}END"
            )
        else:
            body = "".join(f"  {statement};\n" for statement in statements)
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN\n{body}  RETURN NULL;\nEND\n$$"
            )
            condition = f" WHEN ({when.format(distinct='IS DISTINCT FROM')})" if when else ""
            op.execute(
                f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW{condition} "
                f"EXECUTE FUNCTION {name}()"
            )


def _backfill() -> None:
    """The sums of every call already dialed (before the triggers exist)."""
    moods = ", ".join(f"sum(CASE WHEN t.sentiment = '{m}' THEN 1 ELSE 0 END)" for m in _MOODS)
    op.execute(
        f"INSERT INTO call_day_stats (account_id, {_KEY}, calls, duration_seconds, positive, "
        f"neutral, negative) SELECT j.account_id, {_job_key('j')}, count(*), "
        f"sum(coalesce(j.duration_seconds, 0)), {moods} FROM call_jobs j "
        f"LEFT JOIN call_transcripts t ON t.job_id = j.id "
        f"WHERE j.dialed_local_day IS NOT NULL GROUP BY j.account_id, {_job_key('j')}"
    )
    op.execute(
        f"INSERT INTO call_day_actions (account_id, {_KEY}, kind, actions) "
        f"SELECT j.account_id, {_job_key('j')}, a.kind, count(*) FROM call_actions a "
        f"JOIN call_jobs j ON j.id = a.job_id WHERE j.dialed_local_day IS NOT NULL "
        f"GROUP BY j.account_id, {_job_key('j')}, a.kind"
    )


def upgrade() -> None:
    op.create_table(
        "call_day_stats",
        *_bucket_columns(),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.BigInteger(), nullable=False),
        sa.Column("positive", sa.Integer(), nullable=False),
        sa.Column("neutral", sa.Integer(), nullable=False),
        sa.Column("negative", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_call_day_stats_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_call_day_stats_location_id_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_day_stats")),
        sa.UniqueConstraint(
            "location_id",
            "call_type",
            "local_day",
            "workflow_key",
            "number_key",
            "outcome_key",
            name="uq_call_day_stats_bucket",
        ),
    )
    op.create_table(
        "call_day_actions",
        *_bucket_columns(),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_call_day_actions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_call_day_actions_location_id_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_day_actions")),
        sa.UniqueConstraint(
            "location_id",
            "call_type",
            "local_day",
            "workflow_key",
            "number_key",
            "outcome_key",
            "kind",
            name="uq_call_day_actions_bucket",
        ),
    )
    _backfill()
    _create_triggers(op.get_bind().dialect.name)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, (table, _event, _when, _statements) in _TRIGGERS.items():
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("call_day_actions")
    op.drop_table("call_day_stats")
