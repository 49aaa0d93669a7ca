"""Engine and session factories. Built by bootstrap, never at import time."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Execution option for a read-only unit of work (e.g. a long CSV export): on SQLite it begins
# DEFERRED, so with WAL it reads one consistent snapshot without holding the write lock that
# every other transaction takes at BEGIN (the dispatcher keeps writing meanwhile).
READ_ONLY: Final = "ringfence_read_only"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine with the per-dialect settings Ringfence relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, hide_parameters=True, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(
        url,
        echo=echo,
        hide_parameters=True,  # a failed statement's log names no patient (their values)
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        # libpq waits for a server that never answers as long as TCP does (minutes): a worker
        # or a readiness probe should fail in seconds and say so.
        connect_args={"connect_timeout": 10},
    )


def _sqlite_begin_immediate(connection: Any) -> None:
    # Python's sqlite3 would only open a transaction at the first write, so the reads before
    # it (the compliance facts!) would not be part of it. Taking the write lock at BEGIN
    # makes every transaction see one consistent state from its first read to its commit:
    # a contact who opts out can never slip between the gate's read and the dial's write.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN DEFERRED")
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the dashboard read while the
    # dispatcher writes; busy_timeout turns short lock waits into waits instead of errors.
    # Hand transaction control to SQLAlchemy (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
