"""INSERT ... ON CONFLICT DO NOTHING on both supported databases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_missing(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows whose key does not exist yet; rows another transaction created first
    (two workers racing to create the same state row) are left as they are."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(model).on_conflict_do_nothing(), list(rows))
    elif dialect == "sqlite":
        session.execute(sqlite.insert(model).on_conflict_do_nothing(), list(rows))
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {dialect}")
