"""The answered inbound Twilio calls waiting for their media stream: taken once, found again
for a repeated webhook, and discarded (closed unanswered) once their time is up."""

from __future__ import annotations

from ringfence.adapters.telephony.media import MediaAction, StreamStart
from ringfence.adapters.telephony.twilio.pending import INBOUND_KEY_PREFIX, PendingStreams


class Prepared:
    """A prepared session that only counts its discards."""

    def __init__(self, *, fails: bool = False) -> None:
        self.discarded = 0
        self._fails = fails

    def on_start(self, start: StreamStart) -> list[MediaAction]:
        return []

    def on_audio(self, pcm16: bytes, at: float) -> list[MediaAction]:
        return []

    def on_mark(self, name: str) -> list[MediaAction]:
        return []

    def on_stop(self) -> None:
        return None

    def discard(self) -> None:
        self.discarded += 1
        if self._fails:
            raise RuntimeError("the database is out")


class Monotonic:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_a_held_session_is_taken_once_by_its_key() -> None:
    pending = PendingStreams(monotonic=Monotonic())
    session = Prepared()
    key = pending.hold("CA1", session)
    assert key.startswith(INBOUND_KEY_PREFIX)
    assert pending.key_of("CA1") == key
    assert pending.key_of("CA2") is None
    taken = pending.take(key)
    assert taken is not None
    assert (taken.call_sid, taken.session) == ("CA1", session)
    assert pending.take(key) is None
    assert session.discarded == 0


def test_keys_are_unguessable_and_distinct() -> None:
    pending = PendingStreams()
    keys = {pending.hold(f"CA{i}", Prepared()) for i in range(100)}
    assert len(keys) == 100
    assert all(len(key) == len(INBOUND_KEY_PREFIX) + 32 for key in keys)


def test_sessions_past_their_time_are_discarded_once() -> None:
    clock = Monotonic()
    pending = PendingStreams(ttl_s=30.0, monotonic=clock)
    early, late = Prepared(), Prepared()
    early_key = pending.hold("CA1", early)
    clock.now += 20
    late_key = pending.hold("CA2", late)
    clock.now += 9.9
    assert pending.discard_expired() == 0
    clock.now += 0.1  # the first one's 30 s are up
    assert pending.take(late_key) is not None  # a take discards what expired too
    assert (early.discarded, late.discarded) == (1, 0)
    assert pending.take(early_key) is None
    assert pending.discard_expired() == 0
    assert early.discarded == 1


def test_a_failed_discard_does_not_keep_the_others() -> None:
    pending = PendingStreams(monotonic=Monotonic())
    failing, other = Prepared(fails=True), Prepared()
    pending.hold("CA1", failing)
    pending.hold("CA2", other)
    assert pending.discard_all() == 2
    assert (failing.discarded, other.discarded) == (1, 1)
    assert len(pending) == 0
