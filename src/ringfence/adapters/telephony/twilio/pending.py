"""Inbound Twilio calls between their answer and their media stream (issue 19).

Twilio asks the incoming-call webhook what to do with a call, gets `<Connect><Stream>` back,
and opens the stream a moment later, to the same web process. The agent's session is prepared
while the caller hears ringing (its greeting synthesized), so it is held here under a fresh key
(the stream's URL names it) until the stream takes it. A stream that never comes (the caller
hung up at once, Twilio could not reach the socket) must not leave the call on record as in
progress: once `ttl_s` has passed, the session is discarded, which closes its record
unanswered. Discarding writes to the database, so callers run it off the event loop.

Twilio asks the webhook again when its first request times out, and a retry can arrive while
the first is still being answered: `answer_once` answers a CallSid once, and a request for a
call being answered waits for that answer (the same key, or the same refusal) instead of
opening a second record.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar, cast

from ringfence.adapters.telephony.media import MediaSession

log = logging.getLogger("ringfence.twilio")

INBOUND_KEY_PREFIX: Final = "in-"  # never an outbound idempotency key's shape
DEFAULT_TTL_S: Final = 30.0
T = TypeVar("T")


class PreparedSession(MediaSession, Protocol):
    """A media session prepared before its stream starts: one that never starts is discarded
    (`LiveCallSession.discard`: the call is closed unanswered)."""

    def discard(self) -> None: ...


@dataclass(frozen=True, slots=True)
class PendingStream:
    key: str
    call_sid: str  # the `start` message must name this call (the webhook's CallSid)
    session: PreparedSession
    due: float  # monotonic seconds: discarded after this


def new_inbound_key() -> str:
    """Unguessable (the stream's handshake is signed too): 32 hex digits after the prefix."""
    return INBOUND_KEY_PREFIX + secrets.token_hex(16)


class PendingStreams:
    """The prepared sessions of answered inbound calls, by key, until their stream takes them.
    Thread-safe; `discard_expired` and `take` may discard (database writes): call them off the
    event loop."""

    def __init__(
        self,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
        new_key: Callable[[], str] = new_inbound_key,
    ) -> None:
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        self._new_key = new_key
        self._lock = threading.Lock()
        self._held: dict[str, PendingStream] = {}
        # CallSid -> the answer being made for it; an entry lives only while it is made.
        self._answering: dict[str, Future[Any]] = {}

    def hold(self, call_sid: str, session: PreparedSession) -> str:
        """Keep `session` for the stream of `call_sid`; the key its stream URL carries."""
        key = self._new_key()
        with self._lock:
            self._held[key] = PendingStream(key, call_sid, session, self._monotonic() + self.ttl_s)
        return key

    def key_of(self, call_sid: str) -> str | None:
        """The key already held for `call_sid` (Twilio asked the webhook twice), else None."""
        with self._lock:
            return self._key_of(call_sid)

    def _key_of(self, call_sid: str) -> str | None:
        return next((p.key for p in self._held.values() if p.call_sid == call_sid), None)

    def answer_once(self, call_sid: str, answer: Callable[[], T]) -> str | T:
        """The key held for `call_sid`, else what `answer()` returns (it holds the session
        and returns its key, or says why the call is not answered), run once for concurrent
        requests: one that comes while another is answering the call waits for that answer,
        its result or its exception. Blocks: call it off the event loop."""
        with self._lock:
            key = self._key_of(call_sid)
            if key is not None:
                return key
            running = self._answering.get(call_sid)
            first = running is None
            if running is None:
                running = self._answering[call_sid] = Future()
        if not first:  # Twilio's retry of a call being answered: its answer
            # Bounded: a first answer stuck (a busy database) must not hold every retry's
            # thread; a retry that gives up is answered as a call that could not be answered.
            return cast("str | T", running.result(timeout=self.ttl_s))
        try:
            answered = answer()
        except BaseException as exc:
            running.set_exception(exc)
            raise
        else:
            running.set_result(answered)
            return answered
        finally:
            # Removed once its answer is held (a later request finds the key): the map holds
            # only the calls being answered now.
            with self._lock:
                del self._answering[call_sid]

    def take(self, key: str) -> PendingStream | None:
        """The session held under `key`, removed (a stream takes it once); None when there is
        none or it expired (then discarded, with any other expired one)."""
        self.discard_expired()
        with self._lock:
            return self._held.pop(key, None)

    def discard_expired(self) -> int:
        """Discard the sessions whose stream did not come in time; how many."""
        now = self._monotonic()
        with self._lock:
            expired = [p for p in self._held.values() if p.due <= now]
            for pending in expired:
                del self._held[pending.key]
        return _discard(expired, "its media stream never came")

    def discard_all(self) -> int:
        """Discard every held session (the process is stopping); how many."""
        with self._lock:
            held, self._held = list(self._held.values()), {}
        return _discard(held, "the server stopped before its media stream came")

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)


def _discard(pending: list[PendingStream], why: str) -> int:
    for stream in pending:
        log.warning("inbound call %s closed unanswered: %s", stream.call_sid, why)
        try:
            stream.session.discard()
        except Exception:
            # One failed close must not keep the others in progress (the dispatcher settles
            # a record left behind: services.inbound_calls.settle_lost_inbound_calls).
            log.exception("inbound call %s could not be closed", stream.call_sid)
    return len(pending)
