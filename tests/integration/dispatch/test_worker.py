"""The worker loop (what `ringfence worker` and `ringfence serve` run) dials due calls."""

from __future__ import annotations

import time

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import CallStatus
from ringfence.entrypoints import worker
from tests.integration.dispatch.practice import WINDOW_OPENS, make_practice


def test_worker_thread_dials_and_stops(container: Container, clock: VirtualClock) -> None:
    clock.set(WINDOW_OPENS)
    practice = make_practice(container)
    [job_id] = practice.enqueue(practice.add_contact("+12125550100"))
    container.settings.dispatch_interval = 0.05
    thread, stop = worker.start_in_thread(container)
    try:
        deadline = time.monotonic() + 20
        while practice.job(job_id).status is CallStatus.QUEUED and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert practice.job(job_id).status is CallStatus.RINGING
    assert len(practice.carrier_calls()) == 1
