"""`PendingStreams.answer_once`: a call answered once however many requests ask for it at the
same time; a request that comes while the call is being answered gets that answer (or its
error), and nothing is left behind once the answer is made."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ringfence.adapters.telephony.twilio.pending import PendingStreams
from tests.unit.telephony.test_twilio_pending import Prepared

WAIT_S = 10.0


def test_a_held_call_is_not_answered_again() -> None:
    pending = PendingStreams()
    key = pending.hold("CA1", Prepared())
    assert pending.answer_once("CA1", lambda: "answered again") == key


def test_a_request_during_the_answer_waits_for_it() -> None:
    pending = PendingStreams()
    answering, release = threading.Event(), threading.Event()
    answers: list[str] = []

    def answer() -> str:
        answers.append("CA1")
        answering.set()
        release.wait(WAIT_S)
        return pending.hold("CA1", Prepared())

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(pending.answer_once, "CA1", answer)
        assert answering.wait(WAIT_S)
        second = pool.submit(pending.answer_once, "CA1", answer)
        release.set()
        assert first.result() == second.result() == pending.key_of("CA1")
    assert answers == ["CA1"]


def test_an_answer_that_fails_fails_its_waiting_request_too_and_is_not_kept() -> None:
    pending = PendingStreams()
    answering, release = threading.Event(), threading.Event()

    def fails() -> str:
        answering.set()
        release.wait(WAIT_S)
        raise RuntimeError("the database is out")

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(pending.answer_once, "CA1", fails)
        assert answering.wait(WAIT_S)
        second = pool.submit(pending.answer_once, "CA1", fails)
        release.set()
        for request in (first, second):
            with pytest.raises(RuntimeError, match="database is out"):
                request.result()
    # Nothing in flight is left: the next request answers afresh.
    assert pending.answer_once("CA1", lambda: "refused") == "refused"
    assert len(pending) == 0
