"""Live inbound calls: a caller rings a practice number on a real carrier (SIP today) and the
location's agent answers with the speech pipeline (issue 19).

`InboundLiveCalls.answer` is what a carrier asks while the caller hears ringing: it routes
the number and puts the call on record as in progress (`open_inbound_call`: the same record as
the sandbox's simulated calls), then prepares the agent's greeting on the configured engines
(`LiveMediaSessions.pipeline_for`): the greeting plays the moment the call is answered. What
the carrier gets back is the call's media session, or why it must not be answered:

- `Refused`: no location owns the number (or two accounts registered it), nothing written;
- `NoAgent`: the location has no voice agent to answer, nothing written;
- `AtCapacity`: the calls in flight (placed and answered) already fill the concurrent-call
  limit, nothing written. Inbound calls take no outbound pacing slot, but they hold the same
  workers and lines, so the dispatcher counts them too (services/dispatch.py).

When the call's stream stops, its recording (both legs, encrypted) is stored and the call is
closed with its conversation (`close_inbound_call`: filed under the caller it turned out to be,
its outcome applied by the code outbound outcomes go through: "stop calling me" suppresses the
number practice-wide and cancels its pending outbound calls). A call the caller hung up on
before the answer is closed unanswered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from ringfence.adapters.phi_cipher import PhiCipher
from ringfence.agent.session import AgentSession
from ringfence.domain.inbound import Refused
from ringfence.services.inbound_calls import (
    NoAgent,
    OpenedInbound,
    calls_in_flight,
    close_inbound_call,
    open_inbound_call,
)
from ringfence.services.live_media import LiveCallSession, observe_call, store_recording
from ringfence.services.unit_of_work import UnitOfWork
from ringfence.speech.pipeline import VoicePipeline
from ringfence.speech.result import PipelineResult

log = logging.getLogger("ringfence.inbound")


@dataclass(frozen=True, slots=True)
class AtCapacity:
    """Every line of the concurrent-call limit is held: the caller hears busy."""

    limit: int

    @property
    def explanation(self) -> str:
        return f"all {self.limit} concurrent call lines are in use"


class InboundCallSession(LiveCallSession):
    """An answered inbound call's media session, with the key its record is under (the key
    a carrier reports the end of a hand-over to staff under)."""

    def __init__(
        self,
        pipeline: VoicePipeline,
        *,
        record_key: str,
        on_finish: Callable[[PipelineResult], None],
        on_discard: Callable[[], None],
    ) -> None:
        super().__init__(pipeline, on_finish=on_finish, on_discard=on_discard)
        self.record_key = record_key


class OpeningPipeline(Protocol):
    """Builds a call's speech pipeline (`LiveMediaSessions.pipeline_for`)."""

    def __call__(self, agent: AgentSession, *, stream_opening: bool) -> VoicePipeline: ...


class InboundLiveCalls:
    """See the module docstring. Thread-safe: each call is its own units of work."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        *,
        pipeline_for: OpeningPipeline,
        store_dir: Path,
        cipher: PhiCipher,
        max_concurrent_calls: int,
    ) -> None:
        self._uow = uow
        self._pipeline_for = pipeline_for
        self._store_dir = store_dir
        self._cipher = cipher
        self._limit = max_concurrent_calls
        self._lock = threading.Lock()

    def answer(
        self,
        *,
        dialed: str,
        caller: str | None,
        carrier_call_id: str | None = None,
        transfer_reported_later: bool = False,
    ) -> InboundCallSession | Refused | NoAgent | AtCapacity:
        """The call's media session, or why it is not answered. `transfer_reported_later`:
        the carrier reports a hand-over to staff after the stream ends (Twilio's `<Dial>`
        action), so its close keeps the conversation for that report."""
        # Counted and opened under one lock: two callers ringing at once in this process
        # (the SIP endpoint's executor, the web server's threads) cannot both take the last
        # line. Calls answered by another process are seen once committed, not locked out.
        with self._lock, self._uow() as uow:
            if calls_in_flight(uow.session) >= self._limit:
                return AtCapacity(self._limit)
            opened = open_inbound_call(
                uow, dialed=dialed, caller=caller, carrier_call_id=carrier_call_id
            )
        if isinstance(opened, Refused | NoAgent):
            return opened
        try:
            # The caller hears ringing until the greeting's first sentence is ready; the
            # rest is synthesized while it plays (ring to greeting: issue 19's < 1 s).
            pipeline = self._pipeline_for(opened.agent_session, stream_opening=True)
        except Exception:
            # Not answered after all (no agent voice): the record must not stay in progress.
            log.exception("inbound call %d: the agent could not be prepared", opened.job_id)
            self._close(opened, None)
            raise
        return InboundCallSession(
            pipeline,
            record_key=opened.key,
            on_finish=lambda result: self._close(opened, result, transfer_reported_later),
            on_discard=lambda: self._close(opened, None),
        )

    def _close(
        self,
        opened: OpenedInbound,
        result: PipelineResult | None,
        transfer_reported_later: bool = False,
    ) -> None:
        path = seconds = None
        if result is not None:
            observe_call(result, direction="inbound")  # the speech latencies' metrics
            path, seconds = store_recording(
                self._store_dir, self._cipher, opened.account_id, opened.job_id, result
            )
        with self._uow() as uow:
            ended = _ended_at(opened, seconds, uow.clock.now())
            closed = close_inbound_call(
                uow,
                opened,
                None if result is None else result.conversation,
                ended_at=ended,
                recording_path=path,
                recording_seconds=seconds,
                transfer_reported_later=transfer_reported_later,
            )
        log.info(
            "inbound call %d ended (%s) after %d s",
            closed.job_id,
            closed.ended_by.value,
            closed.duration_seconds,
        )


def _ended_at(opened: OpenedInbound, seconds: float | None, now: datetime) -> datetime:
    """The call's end on the record's clock: its answer plus the recording's length (the
    timeline its transcript is on), else now."""
    if seconds is None:
        return max(now, opened.answered_at)
    return opened.answered_at + timedelta(seconds=seconds)
