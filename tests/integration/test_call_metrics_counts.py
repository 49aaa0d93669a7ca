"""The call-job counts behind /metrics: open jobs exact at every scrape, settled jobs recounted
at most once a minute (a scan of the table), on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from ringfence.adapters.db.calls import CallJob
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import CallStatus
from ringfence.services.call_metrics import CallJobCounts, CallJobCountsCache, call_job_counts
from tests.integration.dispatch.practice import make_practice


def _settle(container: Container, job_id: int) -> None:
    with container.session_factory() as session:
        session.execute(
            update(CallJob)
            .where(CallJob.id == job_id)
            .values(status=CallStatus.FAILED, reason_code="no_opt_in")
        )
        session.commit()


def _cached(
    container: Container, cache: CallJobCountsCache, clock: VirtualClock, *, back: int = 0
) -> CallJobCounts:
    with container.session_factory() as session:
        return cache.counts(session, clock.now() - timedelta(seconds=back))


def _same(one: CallJobCounts, other: CallJobCounts) -> bool:
    return sorted(map(repr, one.groups)) == sorted(map(repr, other.groups))


def _exact(container: Container, clock: VirtualClock) -> CallJobCounts:
    with container.session_factory() as session:
        return call_job_counts(session, clock.now())


def test_open_jobs_are_exact_and_settled_ones_lag_at_most_a_minute(
    container: Container, clock: VirtualClock
) -> None:
    practice = make_practice(container)
    first, second, third = practice.enqueue(
        practice.add_contact("+12125550181"),
        practice.add_contact("+12125550182"),
        practice.add_contact("+12125550183"),
    )
    _settle(container, first)
    cache = CallJobCountsCache()

    counted = _cached(container, cache, clock)
    assert counted.by_status() == _exact(container, clock).by_status()
    assert counted.by_status() == {"failed": 1, "queued": 2}
    assert counted.queue_depth() == 2

    # A job settles between two scrapes 30 s apart: the queue is exact at once, the settled
    # totals keep their count of a moment ago.
    _settle(container, second)
    clock.advance(timedelta(seconds=30))
    counted = _cached(container, cache, clock)
    assert counted.queue_depth() == 1
    assert counted.by_status() == {"failed": 1, "queued": 1}
    assert counted.by_reason() == {"no_opt_in": 1}

    # A minute after the recount, settled jobs are counted again: exact once more.
    clock.advance(timedelta(seconds=30))
    counted = _cached(container, cache, clock)
    assert counted.by_status() == {"failed": 2, "queued": 1}
    assert counted.by_reason() == {"no_opt_in": 2}
    assert _same(counted, _exact(container, clock))

    # A clock that went back recounts too (a stale count never outlives a clock change).
    _settle(container, third)
    assert _cached(container, cache, clock, back=5).by_status() == {"failed": 3}


def test_the_cached_counts_equal_the_exact_ones_when_nothing_settles(
    container: Container, clock: VirtualClock
) -> None:
    practice = make_practice(container)
    jobs = practice.enqueue(*(practice.add_contact(f"+1212555019{i}") for i in range(4)))
    _settle(container, jobs[0])
    cache = CallJobCountsCache()
    _cached(container, cache, clock)
    clock.advance(timedelta(seconds=20))
    assert _same(_cached(container, cache, clock), _exact(container, clock))
