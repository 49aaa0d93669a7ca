"""Twilio asking the incoming-call webhook twice at once for one call (it retries a request
that timed out while the first is still being answered): one record, one answer for both.

The first answer is held back (a stand-in around the real `InboundLiveCalls`) until the second
request has reached the pending streams, so the two overlap for sure; the second must then wait
for the first's answer instead of opening a record of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ringfence.adapters.telephony.twilio.pending import PendingStreams
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import CallStatus
from ringfence.entrypoints.api.carriers.twilio import get_inbound_calls, get_pending_streams
from ringfence.services.inbound_live import InboundLiveCalls
from tests.integration.dispatch.practice import BEFORE_WINDOW, Practice, make_practice
from tests.integration.telephony.test_twilio_inbound import (
    NOT_OURS,
    _inbound,
    _inbound_jobs,
    _rejected,
    _ring,
    _stream_key,
)

T = TypeVar("T")
WAIT_S = 10.0  # how long the first answer waits for the second request at most


class AskedTwice(PendingStreams):
    """The app's pending streams, telling when a second request has come to them (before
    the fix the route asked `key_of`, after it `answer_once`)."""

    def __init__(self) -> None:
        super().__init__()
        self.second_came = threading.Event()
        self._asked = 0
        self._count = threading.Lock()

    def _came(self) -> None:
        with self._count:
            self._asked += 1
            if self._asked >= 2:
                self.second_came.set()

    def key_of(self, call_sid: str) -> str | None:
        self._came()
        return super().key_of(call_sid)

    def answer_once(self, call_sid: str, answer: Callable[[], T]) -> str | T:
        self._came()
        return super().answer_once(call_sid, answer)


class FirstAnswerWaits:
    """The real answer, the first one held until the second request has come."""

    def __init__(self, inbound: InboundLiveCalls, until: threading.Event) -> None:
        self._inbound, self._until = inbound, until
        self.answers = 0
        self._count = threading.Lock()

    def answer(self, **call: Any) -> Any:
        with self._count:
            self.answers += 1
            first = self.answers == 1
        if first:
            self._until.wait(WAIT_S)
        return self._inbound.answer(**call)


@pytest.fixture
def practice(twilio_container: Container, clock: VirtualClock) -> Practice:
    clock.set(BEFORE_WINDOW)
    return make_practice(twilio_container)


@pytest.fixture
def pending() -> AskedTwice:
    return AskedTwice()


@pytest.fixture
def slow(
    twilio_client: TestClient, twilio_container: Container, pending: AskedTwice, tmp_path: Path
) -> Iterator[FirstAnswerWaits]:
    inbound = _inbound(twilio_container, tmp_path, ["Hello?"], 5)
    slow = FirstAnswerWaits(inbound, pending.second_came)
    app = cast(FastAPI, twilio_client.app)
    app.dependency_overrides[get_inbound_calls] = lambda: slow
    app.dependency_overrides[get_pending_streams] = lambda: pending
    yield slow
    app.dependency_overrides.clear()
    pending.discard_all()


def _ring_twice_at_once(client: TestClient, **ring: str) -> list[str]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = [pool.submit(_ring, client, **ring) for _ in range(2)]
        return [reply.result().text for reply in replies]


def test_two_requests_for_one_call_at_once_open_one_record_and_get_one_stream(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    pending: AskedTwice,
    slow: FirstAnswerWaits,
) -> None:
    first, second = _ring_twice_at_once(twilio_client)
    assert pending.second_came.is_set()  # they did overlap
    assert _stream_key(first) == _stream_key(second)
    assert slow.answers == 1
    [job] = _inbound_jobs(twilio_container)
    assert job.status is CallStatus.IN_PROGRESS
    assert len(pending) == 1


def test_two_requests_for_a_call_no_practice_takes_get_the_same_rejection(
    twilio_container: Container,
    twilio_client: TestClient,
    practice: Practice,
    pending: AskedTwice,
    slow: FirstAnswerWaits,
) -> None:
    first, second = _ring_twice_at_once(twilio_client, to=NOT_OURS)
    assert pending.second_came.is_set()
    assert _rejected(first) == _rejected(second) == "rejected"
    assert slow.answers == 1
    assert _inbound_jobs(twilio_container) == []
    assert len(pending) == 0
