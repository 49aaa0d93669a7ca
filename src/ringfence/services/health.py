"""Readiness checks that ask the database: reachable, its schema at the migrations' head, and
which carriers the caller IDs use (`bootstrap/readiness.py` adds the process's own checks).

Each returns a `Check` and never raises: a check that cannot run has failed, with why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import SQLAlchemyError

from ringfence.adapters.db.engine import READ_ONLY
from ringfence.adapters.db.migrate import revisions
from ringfence.adapters.db.orm import PhoneNumber
from ringfence.domain.vocabulary import CarrierKind

log = logging.getLogger("ringfence.health")


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    required: bool  # a failed required check makes the process not ready (503)
    detail: str


def _reading(engine: Engine) -> Connection:
    # A read that takes no write lock on SQLite (probes come every few seconds).
    return engine.connect().execution_options(**{READ_ONLY: True})


def _failure(exc: SQLAlchemyError) -> str:
    # The driver's first line goes to the server's log only: it names the database's host,
    # port, database and user ("FATAL: database ... does not exist"), and /readyz answers
    # whoever asks. The probe's answer says what kind of failure it was.
    cause = getattr(exc, "orig", None) or exc
    first = str(cause).splitlines()
    log.error("readiness: %s: %s", type(exc).__name__, (first[0] if first else "")[:300])
    return f"{type(exc).__name__}: the database did not answer (the server's log says why)"


def database_check(engine: Engine) -> Check:
    try:
        with _reading(engine) as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return Check("database", False, True, _failure(exc))
    return Check("database", True, True, f"{engine.dialect.name} reachable")


def migrations_check(engine: Engine) -> Check:
    try:
        current, heads = revisions(engine)
    except SQLAlchemyError as exc:
        return Check("migrations", False, True, _failure(exc))
    if current == heads:
        return Check("migrations", True, True, f"at head {', '.join(sorted(heads))}")
    at = ", ".join(sorted(current)) or "none"
    return Check(
        "migrations",
        False,
        True,
        f"database at {at}, scripts at {', '.join(sorted(heads))}: run `ringfence db upgrade`",
    )


def carrier_kinds_in_use(engine: Engine) -> set[CarrierKind] | None:
    """The carriers the caller IDs name (None when the database cannot say)."""
    try:
        with _reading(engine) as connection:
            names = connection.execute(select(PhoneNumber.carrier).distinct()).scalars()
            return {CarrierKind(name) for name in names}
    except SQLAlchemyError:
        return None
