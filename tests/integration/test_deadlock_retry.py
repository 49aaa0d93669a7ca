"""A real PostgreSQL deadlock: the transaction the database kills runs again and succeeds.

Two transactions lock two account rows in opposite orders. The other side waits with a long
`deadlock_timeout`, so the database always picks the transaction under test as the victim;
`run_transaction` must roll it back, run it again once the other side has committed, and
return its result, where a bare `session.begin()` would raise (and a dispatcher worker die).
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ringfence.adapters.db.retry import run_transaction
from ringfence.bootstrap import Container
from tests.conftest import make_tenant


def _lock(session: Session, account_id: int) -> None:
    session.execute(text("SELECT id FROM accounts WHERE id = :id FOR UPDATE"), {"id": account_id})


def _provoke(container: Container, first: int, second: int, retrying: bool) -> list[str]:
    """Hold `second`, let the transaction under test lock `first` then wait for `second`,
    then ask for `first`: a cycle the database breaks by failing the transaction under test."""
    log: list[str] = []
    holding = threading.Event()

    def other_side() -> None:
        with container.session_factory() as session, session.begin():
            session.execute(text("SET LOCAL deadlock_timeout = '20s'"))
            _lock(session, second)
            holding.set()
            time.sleep(0.3)  # the transaction under test now holds `first`, waits for `second`
            _lock(session, first)
            log.append("other committed")

    thread = threading.Thread(target=other_side)
    thread.start()
    holding.wait(5)
    attempts = 0

    def work(session: Session) -> str:
        nonlocal attempts
        attempts += 1
        _lock(session, first)
        _lock(session, second)
        return f"done after {attempts} attempts"

    try:
        if retrying:
            log.append(run_transaction(container.session_factory, work))
        else:
            with container.session_factory() as session, session.begin():
                log.append(work(session))
    finally:
        thread.join(30)
    return log


@pytest.fixture
def two_accounts(container: Container) -> tuple[int, int]:
    if container.session_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: it has no row locks to deadlock on")
    return make_tenant(container, "A").account_id, make_tenant(container, "B").account_id


def test_the_deadlock_victim_is_run_again(
    container: Container, two_accounts: tuple[int, int]
) -> None:
    log = _provoke(container, *two_accounts, retrying=True)
    assert log == ["other committed", "done after 2 attempts"]


def test_without_the_retry_the_victim_fails(
    container: Container, two_accounts: tuple[int, int]
) -> None:
    # The control: the scenario really deadlocks, so the test above can fail.
    with pytest.raises(OperationalError, match="deadlock detected"):
        _provoke(container, *two_accounts, retrying=False)
