"""A fake of Twilio's REST API (the `calls` surface of `twilio.rest.Client`), on a virtual clock.

Like the sandbox, each call's fate is decided by the last two digits of the number dialed, and
where it stands is derived from the clock: queued at the request, ringing, answered (by a
person or a machine), ended. Errors are Twilio's own `TwilioRestException`s, so the adapter's
error handling meets the real types; `drop_next_create` imitates a lost connection before or
after Twilio received the request. Every create request is counted under the idempotency key
its status callback URL carries, refused ones included: the at-most-once measure.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from twilio.base.exceptions import TwilioRestException

from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import CallOutcome

CALLS_URI = "/2010-04-01/Accounts/AC00000000000000000000000000000000/Calls.json"


@dataclass(frozen=True)
class FakeFate:
    ring_seconds: int
    ends_as: str  # Twilio's final status
    talk_seconds: int = 0
    answered_by: str | None = None  # with machine detection
    refused: tuple[int, str] | None = None  # (Twilio error code, message) at create time


# Last two digits -> fate (the sandbox's numbering): 00 a person, 01 a voicemail box,
# 02 no answer, 03 busy, 04 refused as an invalid number, 05 fails after ringing.
FATES: dict[str, FakeFate] = {
    "00": FakeFate(6, "completed", 90, answered_by="human"),
    "01": FakeFate(20, "completed", 30, answered_by="machine_end_beep"),
    "02": FakeFate(30, "no-answer"),
    "03": FakeFate(2, "busy"),
    "04": FakeFate(0, "failed", refused=(21211, "Invalid 'To' Phone Number")),
    "05": FakeFate(1, "failed"),
}
SUFFIX = {
    CallOutcome.CONNECTED: "00",
    CallOutcome.VOICEMAIL: "01",
    CallOutcome.NO_ANSWER: "02",
    CallOutcome.BUSY: "03",
    CallOutcome.FAILED: "04",
}


def number_for(outcome: CallOutcome) -> str:
    return f"+121255501{SUFFIX[outcome]}"


@dataclass(frozen=True)
class FakeCallInstance:
    """What `calls.create/fetch/update/list` return: the attributes of Twilio's CallInstance."""

    sid: str
    to: str
    from_formatted: str
    status: str
    date_created: datetime
    start_time: datetime | None
    end_time: datetime | None
    duration: str | None
    answered_by: str | None


@dataclass
class FakeCall:
    sid: str
    to: str
    from_: str
    created: datetime
    fate: FakeFate
    params: dict[str, object]
    canceled_at: datetime | None = None
    completed_at: datetime | None = None
    redirected_to: list[str] = field(default_factory=list)  # TwiML the call was updated with

    def instance(self, now: datetime) -> FakeCallInstance:
        fate = self.fate
        answered = fate.answered_by is not None or fate.ends_as == "completed"
        answer_at = self.created + timedelta(seconds=fate.ring_seconds)
        end = answer_at + timedelta(seconds=fate.talk_seconds) if answered else answer_at
        status = fate.ends_as
        if self.canceled_at is not None and self.canceled_at < end:
            end, status, answered = self.canceled_at, "canceled", False
        if self.completed_at is not None and self.completed_at < end:
            end = self.completed_at
        if now >= end:
            talk = int((end - answer_at).total_seconds()) if answered and end > answer_at else 0
            return self._instance(status, end, str(talk) if status == "completed" else None, now)
        if answered and now >= answer_at:
            return self._instance("in-progress", None, None, now)
        return self._instance("queued" if now == self.created else "ringing", None, None, now)

    def _instance(
        self, status: str, end: datetime | None, duration: str | None, now: datetime
    ) -> FakeCallInstance:
        machine_detection = "machine_detection" in self.params
        in_call = status in ("in-progress", "completed")
        return FakeCallInstance(
            sid=self.sid,
            to=self.to,
            from_formatted=self.from_,
            status=status,
            date_created=self.created,
            start_time=self.created if status != "queued" else None,
            end_time=end,
            duration=duration,
            answered_by=self.fate.answered_by if machine_detection and in_call else None,
        )


@dataclass
class FakeTwilio:
    """The `calls` surface of `twilio.rest.Client`."""

    clock: VirtualClock
    calls_made: list[FakeCall] = field(default_factory=list)
    requests_by_key: Counter[str] = field(default_factory=Counter)
    fetches: int = 0
    lists: int = 0
    # "before": the connection drops before Twilio receives the next create request;
    # "after": Twilio places the call and the answer is lost.
    drop_next_create: Literal["before", "after"] | None = None
    refuse_next_create: tuple[int, int, str] | None = None  # (HTTP status, code, message)
    unreachable: bool = False
    fail_next_list: bool = False
    unlisted: set[str] = field(default_factory=set)  # calls the list does not show (yet)
    on_create: list[Callable[[], None]] = field(default_factory=list)  # run at each request
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def calls(self) -> FakeCallList:
        return FakeCallList(self)

    def key_of(self, status_callback: str) -> str:
        return parse_qs(urlsplit(status_callback).query)["key"][0]

    def calls_under(self, key: str) -> int:
        return self.requests_by_key[key]

    def call(self, sid: str) -> FakeCall:
        return next(c for c in self.calls_made if c.sid == sid)

    def _check(self) -> None:
        if self.unreachable:
            raise ConnectionError("api.twilio.com unreachable")


class FakeCallList:
    def __init__(self, twilio: FakeTwilio) -> None:
        self._twilio = twilio

    def create(
        self,
        *,
        to: str,
        from_: str,
        twiml: str,
        status_callback: str,
        status_callback_event: list[str],
        status_callback_method: str,
        timeout: int,
        time_limit: int,
        **amd: str,
    ) -> FakeCallInstance:
        twilio = self._twilio
        twilio._check()
        for hook in twilio.on_create:
            hook()
        with twilio._lock:
            if twilio.drop_next_create == "before":
                twilio.drop_next_create = None
                raise ConnectionError("connection reset before the request was sent")
            key = twilio.key_of(status_callback)
            twilio.requests_by_key[key] += 1
            if twilio.refuse_next_create is not None:
                http, code, message = twilio.refuse_next_create
                twilio.refuse_next_create = None
                raise TwilioRestException(http, CALLS_URI, message, code, "POST")
            fate = FATES.get(to[-2:], FATES["00"])
            if fate.refused is not None:
                code, message = fate.refused
                raise TwilioRestException(400, CALLS_URI, message, code, "POST")
            now = twilio.clock.now()
            call = FakeCall(
                sid=f"CA{len(twilio.calls_made) + 1:032x}",
                to=to,
                from_=from_,
                created=now,
                fate=fate,
                params={
                    "twiml": twiml,
                    "status_callback": status_callback,
                    "status_callback_event": list(status_callback_event),
                    "status_callback_method": status_callback_method,
                    "timeout": timeout,
                    "time_limit": time_limit,
                    **amd,
                },
            )
            twilio.calls_made.append(call)
            if twilio.drop_next_create == "after":
                twilio.drop_next_create = None
                raise ConnectionError("connection reset before the answer arrived")
            return call.instance(now)

    def list(self, *, to: str, from_: str, limit: int) -> list[FakeCallInstance]:
        twilio = self._twilio
        twilio._check()
        twilio.lists += 1
        if twilio.fail_next_list:
            twilio.fail_next_list = False
            raise ConnectionError("connection reset while listing calls")
        now = twilio.clock.now()
        found = [
            c
            for c in twilio.calls_made
            if c.to == to and c.from_ == from_ and c.sid not in twilio.unlisted
        ]
        found.sort(key=lambda c: c.created, reverse=True)
        return [c.instance(now) for c in found[:limit]]

    def __call__(self, sid: str) -> FakeCallContext:
        return FakeCallContext(self._twilio, sid)


class FakeCallContext:
    def __init__(self, twilio: FakeTwilio, sid: str) -> None:
        self._twilio = twilio
        self._sid = sid

    def _call(self) -> FakeCall:
        self._twilio._check()
        for call in self._twilio.calls_made:
            if call.sid == self._sid:
                return call
        raise TwilioRestException(404, f"{CALLS_URI}/{self._sid}", "not found", 20404, "GET")

    def fetch(self) -> FakeCallInstance:
        call = self._call()
        self._twilio.fetches += 1
        return call.instance(self._twilio.clock.now())

    def update(self, *, status: str | None = None, twiml: str | None = None) -> FakeCallInstance:
        call = self._call()
        now = self._twilio.clock.now()
        current = call.instance(now).status
        if current not in ("queued", "ringing", "in-progress"):
            raise TwilioRestException(
                400, CALLS_URI, "Call is not in-progress. Cannot redirect.", 21220, "POST"
            )
        if twiml is not None:  # Twilio leaves the current TwiML (the stream) for this
            call.redirected_to.append(twiml)
            return call.instance(now)
        if status == "canceled" and current != "in-progress":
            call.canceled_at = now
        elif status == "completed":
            if current == "in-progress":
                call.completed_at = now
            else:  # a ringing call that is hung up is canceled
                call.canceled_at = now
        return call.instance(now)
