"""What a live call's media endpoint hands to its carrier's reports: the conversation as held
(and where its recording was stored), keyed by the dial's idempotency key.

The media endpoint (the web process) holds the call's audio; the carrier's `completed_reports`
(the dispatcher) reports the call once its status is final. `LiveCallResults` joins the two
in one process (`ringfence serve` runs the dispatcher in a thread of the web process): the
endpoint says a call's media `began`, then `finished` with its record; the carrier holds a
final report back while the media of its call is still being wrapped up (the stream's stop
and the status callback race), and takes the record into the report.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ringfence.agent.callee import Conversation
from ringfence.agent.events import EndReason
from ringfence.domain.vocabulary import CallOutcome


def live_outcome(conversation: Conversation) -> CallOutcome:
    """An answered call's outcome as its audio told it: the agent left a voicemail when the
    answering-machine detection heard a machine, else a person was on the line."""
    if conversation.ended_by is EndReason.VOICEMAIL:
        return CallOutcome.VOICEMAIL
    return CallOutcome.CONNECTED


@dataclass(frozen=True, slots=True)
class LiveCallRecord:
    """A live call's conversation, and its stored recording (path relative to the recordings
    directory; None when it could not be written)."""

    conversation: Conversation
    recording_path: str | None = None
    recording_seconds: float | None = None
    answer_to_first_audio_ms: float = 0.0


class LiveCallResults:
    """Thread-safe: the endpoint writes from the event loop, the carrier reads in the worker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[str] = set()
        self._done: dict[str, LiveCallRecord] = {}

    def began(self, key: str) -> None:
        with self._lock:
            self._live.add(key)

    def finished(self, key: str, record: LiveCallRecord | None) -> None:
        """The media of the call ended; `record` is None when there is nothing to report."""
        with self._lock:
            self._live.discard(key)
            if record is not None:
                self._done[key] = record

    def in_progress(self, key: str) -> bool:
        """Whether the call's media has begun and not finished yet."""
        with self._lock:
            return key in self._live

    def take(self, key: str) -> LiveCallRecord | None:
        """The record of the call under `key`, once (None when none is held)."""
        with self._lock:
            return self._done.pop(key, None)
