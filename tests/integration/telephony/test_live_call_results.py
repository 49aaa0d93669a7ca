"""Live calls' records cross processes through the database: the process holding a call's media
(the web process for Twilio's streams) writes it, a worker in another process reports it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from ringfence.adapters.telephony.live_calls import LiveCallRecord
from ringfence.agent.callee import Conversation, TranscriptLine
from ringfence.agent.events import ConversationOutcome, EndReason, OptOut
from ringfence.agent.policies.base import Speaker
from ringfence.bootstrap import Container, bootstrap
from ringfence.clock import VirtualClock

SAID = "Please stop calling me, my number is private"
RECORD = LiveCallRecord(
    conversation=Conversation(
        transcript=(TranscriptLine(Speaker.CALLEE, SAID, 1.0, 3.0),),
        events=(OptOut(SAID, "phrase"),),
        outcome=ConversationOutcome.OPTED_OUT,
        ended_by=EndReason.OPT_OUT,
    ),
    recording_path="1/2.wav.enc",
    recording_seconds=12.5,
    answer_to_first_audio_ms=21.0,
)


def test_a_record_written_by_one_process_is_taken_once_by_another(
    container: Container, clock: VirtualClock
) -> None:
    web = container
    worker = bootstrap(container.settings, clock=clock)  # another process on the same database
    try:
        assert not worker.live_calls.in_progress("k1")
        web.live_calls.began("k1")
        assert worker.live_calls.in_progress("k1")
        assert worker.live_calls.take("k1") is None  # still live: nothing to report yet

        web.live_calls.finished("k1", RECORD)
        assert not worker.live_calls.in_progress("k1")
        assert worker.live_calls.peek("k1") == RECORD  # a look leaves it to take
        assert worker.live_calls.take("k1") == RECORD
        assert worker.live_calls.take("k1") is None  # once
        assert web.live_calls.take("k1") is None
        assert web.live_calls.peek("k1") == RECORD  # still readable after a crash
    finally:
        worker.close()


def test_the_conversation_is_encrypted_at_rest(container: Container) -> None:
    container.live_calls.began("k2")
    container.live_calls.finished("k2", RECORD)
    with container.engine.connect() as connection:
        stored = connection.execute(text("SELECT conversation FROM live_calls")).scalar_one()
    assert "stop calling" not in str(stored)
    assert container.live_calls.take("k2") == RECORD


def test_media_that_ends_with_nothing_to_report_leaves_nothing(container: Container) -> None:
    container.live_calls.began("k3")
    container.live_calls.finished("k3", None)
    assert not container.live_calls.in_progress("k3")
    assert container.live_calls.take("k3") is None
    container.live_calls.finished("k4", None)  # never began: a no-op


def test_a_restarted_stream_starts_its_record_afresh(container: Container) -> None:
    container.live_calls.began("k5")
    container.live_calls.finished("k5", RECORD)
    container.live_calls.began("k5")  # the call's stream began again
    assert container.live_calls.in_progress("k5")
    assert container.live_calls.take("k5") is None


def test_records_are_purged_two_days_after_the_call(
    container: Container, clock: VirtualClock
) -> None:
    container.live_calls.began("old")
    container.live_calls.finished("old", RECORD)
    clock.advance(timedelta(days=1))
    container.live_calls.began("new")
    clock.advance(timedelta(days=1, seconds=1))
    assert container.live_calls.purge() == 1
    assert container.live_calls.peek("old") is None
    assert container.live_calls.in_progress("new")
