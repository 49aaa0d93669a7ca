"""Running a transaction again when the database chose it as a deadlock or serialization victim.

PostgreSQL breaks a lock cycle by failing one of the transactions in it (SQLSTATE 40P01), and
a serializable conflict the same way (40001); its documentation's answer is to run the whole
transaction again. Workers settling calls of the same location touch the same dashboard rollup
rows through triggers, so a rare cycle is possible however carefully each orders its writes;
a dispatcher worker must survive it rather than die with the tick's carrier reports in hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

# deadlock_detected, serialization_failure: the transaction did nothing and may simply rerun.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_retryable(error: BaseException) -> bool:
    """Whether `error` is the database abandoning the transaction to break a conflict."""
    if not isinstance(error, DBAPIError):
        return False
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def run_transaction(
    session_factory: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    attempts: int = 3,
) -> T:
    """`work(session)` in one transaction, run again (fresh session) if it is a conflict victim.

    `work` must keep its effects inside the session (or be safe to repeat): a rolled-back
    attempt leaves nothing behind, and the next attempt starts from what is committed.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        try:
            with session_factory() as session, session.begin():
                return work(session)
        except DBAPIError as error:
            if attempt == attempts or not is_retryable(error):
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")
