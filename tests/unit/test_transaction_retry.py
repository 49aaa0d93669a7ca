"""Running a transaction again when the database makes it a deadlock victim, and the order in
which settling writes job rows (so that such cycles are rare to begin with)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, cast

import psycopg.errors
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.retry import is_retryable, run_transaction
from ringfence.domain.vocabulary import CallOutcome, CallStatus, CallType
from ringfence.services.settled_jobs import SettledJob, lock_order


def _db_error(orig: Exception) -> OperationalError:
    return OperationalError("UPDATE call_jobs ...", None, orig)


@dataclass
class _FakeSession:
    log: list[str]

    def __enter__(self) -> _FakeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def begin(self) -> _FakeTransaction:
        return _FakeTransaction(self.log)


@dataclass
class _FakeTransaction:
    log: list[str]

    def __enter__(self) -> None:
        self.log.append("begin")

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.log.append("rollback" if kind else "commit")


@dataclass
class _FakeFactory:
    """A session factory that records each transaction's fate."""

    log: list[str] = field(default_factory=list)

    def __call__(self) -> _FakeSession:
        return _FakeSession(self.log)


def _failing(errors: list[Exception]) -> Callable[[Session], str]:
    def work(session: Session) -> str:
        if errors:
            raise errors.pop(0)
        return "done"

    return work


def _factory(fake: _FakeFactory) -> sessionmaker[Session]:
    return cast("sessionmaker[Session]", fake)


def test_a_deadlock_victim_runs_again_in_a_fresh_transaction() -> None:
    fake = _FakeFactory()
    work = _failing([_db_error(psycopg.errors.DeadlockDetected("deadlock detected"))])
    assert run_transaction(_factory(fake), work) == "done"
    assert fake.log == ["begin", "rollback", "begin", "commit"]


def test_a_serialization_failure_runs_again() -> None:
    fake = _FakeFactory()
    work = _failing([_db_error(psycopg.errors.SerializationFailure("could not serialize"))])
    assert run_transaction(_factory(fake), work) == "done"


def test_other_database_errors_are_not_retried() -> None:
    fake = _FakeFactory()
    work = _failing([_db_error(psycopg.errors.UniqueViolation("duplicate key"))])
    with pytest.raises(OperationalError):
        run_transaction(_factory(fake), work)
    assert fake.log == ["begin", "rollback"]


def test_a_conflict_that_keeps_happening_gives_up_after_the_last_attempt() -> None:
    fake = _FakeFactory()
    errors: list[Exception] = [
        _db_error(psycopg.errors.DeadlockDetected("deadlock detected")) for _ in range(3)
    ]
    with pytest.raises(OperationalError):
        run_transaction(_factory(fake), _failing(errors), attempts=3)
    assert fake.log.count("begin") == 3


def test_classification_reads_the_sqlstate() -> None:
    assert is_retryable(_db_error(psycopg.errors.DeadlockDetected("x")))
    assert not is_retryable(_db_error(psycopg.errors.QueryCanceled("x")))
    assert not is_retryable(ValueError("deadlock detected"))


# -- lock order ---------------------------------------------------------------------------


def _job(
    job_id: int, location: int, number: int, workflow: int | None, outcome: CallOutcome
) -> SettledJob:
    at = datetime(2026, 12, 1, 15, tzinfo=UTC)
    return SettledJob(
        id=job_id,
        account_id=1,
        location_id=location,
        contact_id=job_id,
        status=CallStatus.COMPLETED,
        idempotency_key=f"k{job_id}",
        carrier_call_id=None,
        dialed_at=at,
        dialed_local_day=date(2026, 12, 1),
        phone_e164=None,
        next_attempt_at=None,
        outcome=outcome,
        ended_at=at,
        duration_seconds=0,
        billable_seconds=0,
        carrier_reason=None,
        reason_code=None,
        updated_at=at,
        agent_session=None,
        agent_profile_digest=None,
        call_type=CallType.LIVE,
        workflow_id=workflow,
        from_number_id=number,
    )


def _rollup_locks(jobs: list[SettledJob]) -> list[tuple[Any, ...]]:
    """The rollup rows a transaction writing `jobs` in this order locks, first touch each.

    A completing job's trigger updates the bucket it leaves (outcome '') and then the one it
    enters (its outcome)."""
    taken: list[tuple[Any, ...]] = []
    for job in jobs:
        prefix = lock_order(job)[:5]
        assert job.outcome is not None
        for bucket in ((*prefix, ""), (*prefix, job.outcome.value)):
            if bucket not in taken:
                taken.append(bucket)
    return taken


_jobs = st.lists(
    st.builds(
        _job,
        st.integers(1, 10_000),
        st.integers(1, 3),
        st.integers(1, 2),
        st.sampled_from([None, 1, 2]),
        st.sampled_from(list(CallOutcome)),
    ),
    max_size=12,
    unique_by=lambda job: job.id,
)


@given(_jobs)
def test_settling_takes_rollup_locks_in_one_global_order(jobs: list[SettledJob]) -> None:
    # Every transaction taking its locks in ascending order is what rules out a cycle.
    locks = _rollup_locks(sorted(jobs, key=lock_order))
    assert locks == sorted(locks)
