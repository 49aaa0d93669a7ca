"""Twilio as a carrier: calls placed through the REST API, their state from signed callbacks.

This is the control plane. `TwilioCarrier` keeps the `TelephonyProvider` contract with
Twilio's REST API (`calls.create`, `calls(sid).fetch/update`, `calls.list`), through a client
object injected at construction (`twilio.rest.Client`, or the tests' fake of it).
`TwilioWebhooks` checks the `X-Twilio-Signature` of what Twilio posts back and records it. The
call's audio is a bidirectional Media Stream opened by the TwiML `<Connect><Stream>` given at
dial time, served by `entrypoints/api/routes/twilio.py` with `twilio_media.py`.

At most once, with an API that has no idempotency key (docs/carriers.md has the long form):
1. The row claiming a key in `twilio_calls` is committed *before* the create request is sent,
   and only the process whose insert won sends it: one key, one request.
2. When Twilio answers, its CallSid is written to the row. A crash between the request and
   that write leaves a `requested` row; it is settled by the `initiated` status callback (its
   signed URL carries the key), or by `lookup`, which searches Twilio's calls for one to the
   same number from the same caller ID created around the request time.
3. A `requested` row that neither settles within `unknown_after` was never placed: it is
   marked `not_placed`, `lookup` answers None, and the dispatcher's next dial of the key may
   send a request again. That last step is the one place a duplicate could arise: a request
   Twilio accepted but whose call neither called back nor appeared in its call list for that
   long.

Twilio statuses map to outcomes: completed (answered by a person) -> connected, completed and
AnsweredBy machine_* -> voicemail, no-answer, busy, failed -> failed with Twilio's error code and
SIP response kept as `carrier_reason`; canceled -> no answer when Ringfence hung up before the
answer (as the sandbox reports it), failed otherwise.

The SDK is the optional `[twilio]` extra, imported when first needed.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol, cast
from urllib.parse import urlencode, urlsplit

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.carriers import TwilioCall
from ringfence.adapters.telephony.base import (
    CallReport,
    CarrierCallState,
    DialReceipt,
    DialRequest,
    TelephonyError,
    TelephonyProvider,
    completed_report,
)
from ringfence.adapters.telephony.live_calls import LiveCallResults, live_outcome
from ringfence.clock import Clock
from ringfence.domain.staff_hours import is_sip_uri
from ringfence.domain.vocabulary import CallOutcome

log = logging.getLogger("ringfence.twilio")

INSTALL_HINT: Final = "the Twilio carrier needs the twilio package: pip install 'ringfence[twilio]'"
STATUS_PATH: Final = "/twilio/status"
AMD_PATH: Final = "/twilio/amd"
MEDIA_PATH: Final = "/twilio/media/"
STATUS_EVENTS: Final = ("initiated", "ringing", "answered", "completed")
KEY_PARAMETER: Final = "idempotency_key"  # the <Stream>'s custom parameter

REQUESTED: Final = "requested"
NOT_PLACED: Final = "not_placed"
IN_PROGRESS: Final = "in-progress"
FINAL_STATUSES: Final = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# Statuses only move forward: a late "ringing" callback never undoes an "in-progress".
_RANK: Final = {REQUESTED: 0, NOT_PLACED: 0, "queued": 1, "initiated": 1, "ringing": 2}
_RANK_IN_PROGRESS: Final = 3
# Twilio's clock and ours may disagree a little when matching a call to a request by time.
CLOCK_SKEW: Final = timedelta(seconds=60)
_RACE_POLL_S: Final = 0.05


class TwilioUnavailable(RuntimeError):
    """The twilio package is not installed."""


# --- The REST surface used (twilio.rest.Client has it; so does the tests' fake) -------------


class TwilioCallResource(Protocol):
    """A Call resource, as `twilio.rest.api.v2010.account.call.CallInstance` exposes it."""

    @property
    def sid(self) -> str | None: ...

    @property
    def status(self) -> str | None: ...

    @property
    def date_created(self) -> datetime | None: ...

    @property
    def end_time(self) -> datetime | None: ...

    @property
    def duration(self) -> str | None: ...

    @property
    def answered_by(self) -> str | None: ...


class TwilioCallContext(Protocol):
    def fetch(self) -> TwilioCallResource: ...

    def update(self, *, status: str = ..., twiml: str = ...) -> TwilioCallResource: ...


class TwilioCallList(Protocol):
    def create(
        self,
        *,
        to: str,
        from_: str,
        twiml: str,
        status_callback: str,
        status_callback_event: Sequence[str],
        status_callback_method: str,
        timeout: int,
        time_limit: int,
        machine_detection: str = ...,
        async_amd: str = ...,
        async_amd_status_callback: str = ...,
        async_amd_status_callback_method: str = ...,
    ) -> TwilioCallResource: ...

    def list(self, *, to: str, from_: str, limit: int) -> Sequence[TwilioCallResource]: ...

    def __call__(self, sid: str) -> TwilioCallContext: ...


class TwilioRestClient(Protocol):
    @property
    def calls(self) -> TwilioCallList: ...


# --- URLs and TwiML -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicUrls:
    """Where Twilio reaches this server: `base` is the public https origin (and any path
    prefix a proxy strips); media streams use its wss:// form."""

    base: str

    @classmethod
    def of(cls, base: str) -> PublicUrls:
        parts = urlsplit(base)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValueError(f"public base URL must be http(s)://host[/prefix], not {base!r}")
        return cls(base.rstrip("/"))

    def status(self, key: str) -> str:
        return f"{self.base}{STATUS_PATH}?{urlencode({'key': key})}"

    def amd(self, key: str) -> str:
        return f"{self.base}{AMD_PATH}?{urlencode({'key': key})}"

    def media(self, key: str) -> str:
        return websocket_url(f"{self.base}{MEDIA_PATH}{key}")


def websocket_url(url: str) -> str:
    """The ws(s):// form of an http(s):// URL."""
    scheme, rest = url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}"


def stream_twiml(stream_url: str, key: str) -> str:
    """`<Response><Connect><Stream url=...>` with the key as a custom parameter: Twilio runs
    it on answer and opens the bidirectional media stream (the call lasts as long as it)."""
    try:
        from twilio.twiml.voice_response import Connect, VoiceResponse
    except ImportError as exc:
        raise TwilioUnavailable(INSTALL_HINT) from exc
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url)
    stream.parameter(name=KEY_PARAMETER, value=key)
    response.append(connect)
    return str(response)


TRANSFER_UNANSWERED: Final = (
    "Sorry, no one from our team can take the call right now. We'll call you back. Goodbye."
)


def transfer_twiml(to_e164: str) -> str:
    """`<Dial>` the staff line (a `<Number>`, or a `<Sip>` address): the caller hears ringing
    and the call bridges when staff answer; if no one answers within 25 s, the caller is told
    the team will call back."""
    try:
        from twilio.twiml.voice_response import Dial, VoiceResponse
    except ImportError as exc:
        raise TwilioUnavailable(INSTALL_HINT) from exc
    response = VoiceResponse()
    dial = Dial(timeout=25, answer_on_bridge=True)
    if is_sip_uri(to_e164):  # a PBX extension
        dial.sip(to_e164)
    else:
        dial.number(to_e164)
    response.append(dial)
    response.say(TRANSFER_UNANSWERED)
    return str(response)


def _rest_error(exc: BaseException) -> tuple[int, int | None, str] | None:
    """(HTTP status, Twilio error code, message) when `exc` is Twilio's REST error."""
    try:
        from twilio.base.exceptions import TwilioRestException
    except ImportError:
        return None
    if isinstance(exc, TwilioRestException):
        code = exc.code if isinstance(exc.code, int) else None
        return int(exc.status), code, str(exc.msg)
    return None


def _describe(status: int, code: int | None, message: str) -> str:
    text = f"Twilio {code}: {message}" if code else f"Twilio HTTP {status}: {message}"
    return text[:200]


# --- The call's state: pure -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Observation:
    """What Twilio said about a call at one moment: a status callback, or a REST resource."""

    status: str  # Twilio's CallStatus; "" when it says nothing of the status (an AMD result)
    at: datetime  # when it was true (a callback's Timestamp; the time of a REST answer)
    call_sid: str | None = None
    ended_at: datetime | None = None
    talk_seconds: int | None = None  # Twilio's duration: from the answer to the end
    answered_by: str | None = None
    reason: str | None = None  # error code, SIP response


@dataclass(frozen=True, slots=True)
class CallState:
    """A `twilio_calls` row, as a value."""

    idempotency_key: str
    call_sid: str | None
    to_e164: str
    from_e164: str
    requested_at: datetime
    status: str
    refused: bool
    answered_by: str | None
    answered_at: datetime | None
    ended_at: datetime | None
    carrier_reason: str | None
    hung_up_at: datetime | None
    checked_at: datetime

    @property
    def final(self) -> bool:
        return self.refused or self.status in FINAL_STATUSES


def _rank(status: str) -> int:
    return _RANK_IN_PROGRESS if status == IN_PROGRESS else _RANK.get(status, -1)


def observe(state: CallState, news: Observation, *, now: datetime) -> CallState:
    """The call's state after `news`. Statuses only move forward and the first final word
    stands (callbacks arrive out of order, and a poll may race them); a late word on who
    answered (asynchronous AMD) is still kept."""
    answered_by = state.answered_by or news.answered_by
    if state.final:
        return replace(state, answered_by=answered_by, checked_at=now)
    call_sid = state.call_sid or news.call_sid
    status = news.status
    if status in FINAL_STATUSES:
        ended = max(news.ended_at or news.at, state.requested_at)
        answered: datetime | None = None
        if status == "completed":
            # Twilio's duration (what it bills) places the answer; without it, the moment
            # the call was first seen answered (a callback's timestamp, or a poll's).
            if news.talk_seconds is not None:
                answered = ended - timedelta(seconds=news.talk_seconds)
            else:
                answered = state.answered_at or ended
            answered = min(max(answered, state.requested_at), ended)
        return replace(
            state,
            call_sid=call_sid,
            status=status,
            answered_by=answered_by,
            answered_at=answered,
            ended_at=ended,
            carrier_reason=news.reason or state.carrier_reason,
            checked_at=now,
        )
    if _rank(status) > _rank(state.status):
        answered_at = state.answered_at
        if status == IN_PROGRESS and answered_at is None:
            answered_at = max(news.at, state.requested_at)
        return replace(
            state,
            call_sid=call_sid,
            status=status,
            answered_by=answered_by,
            answered_at=answered_at,
            checked_at=now,
        )
    return replace(state, call_sid=call_sid, answered_by=answered_by, checked_at=now)


def outcome_of(state: CallState) -> tuple[CallOutcome, str | None]:
    """The outcome of an ended call, and the carrier's reason where it did not connect."""
    reason = state.carrier_reason
    match state.status:
        case "completed":
            answered_by = (state.answered_by or "").lower()
            if answered_by.startswith("machine"):
                return CallOutcome.VOICEMAIL, None
            if answered_by == "fax":
                return CallOutcome.FAILED, "answered by a fax machine"
            return CallOutcome.CONNECTED, None
        case "busy":
            return CallOutcome.BUSY, reason
        case "no-answer":
            return CallOutcome.NO_ANSWER, reason
        case "canceled" if state.hung_up_at is not None:
            return CallOutcome.NO_ANSWER, reason  # Ringfence gave up before anyone answered
        case "canceled":
            return CallOutcome.FAILED, reason or "canceled by the carrier"
        case _:
            return CallOutcome.FAILED, reason or "call failed"


def report_of(state: CallState) -> CallReport:
    """Where the call stands, in the contract's terms."""
    key, sid, dialed = state.idempotency_key, state.call_sid or "", state.requested_at
    if state.refused:
        return CallReport(
            idempotency_key=key,
            carrier_call_id=sid,
            state=CarrierCallState.COMPLETED,
            dialed_at=dialed,
            ended_at=dialed,
            outcome=CallOutcome.FAILED,
            duration_seconds=0,
            billable_seconds=0,
            carrier_reason=state.carrier_reason,
        )
    if state.status in FINAL_STATUSES:
        ended = state.ended_at or dialed
        answered = state.answered_at if state.status == "completed" else None
        outcome, reason = outcome_of(state)
        return completed_report(
            key,
            sid,
            dialed=dialed,
            answered=answered,
            ended=ended,
            outcome=outcome,
            reason=reason,
        )
    if state.status == IN_PROGRESS:
        return CallReport(
            key, sid, CarrierCallState.IN_PROGRESS, dialed, answered_at=state.answered_at
        )
    return CallReport(key, sid, CarrierCallState.RINGING, dialed)


def observation_of_resource(call: TwilioCallResource, now: datetime) -> Observation:
    return Observation(
        status=call.status or "queued",
        at=now,
        call_sid=call.sid,
        ended_at=call.end_time,
        talk_seconds=_int_or_none(call.duration),
        answered_by=call.answered_by or None,
    )


def observation_of_callback(form: Mapping[str, str], now: datetime) -> Observation:
    """A status callback's parameters (CallSid, CallStatus, Timestamp, CallDuration, AnsweredBy,
    SipResponseCode, ErrorCode, ErrorMessage). Raises ValueError without CallSid/CallStatus."""
    sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
    if not sid or not status:
        raise ValueError("a status callback needs CallSid and CallStatus")
    at = _rfc2822(form.get("Timestamp")) or now
    final = status in FINAL_STATUSES
    reason = None
    if final and status != "completed":
        parts = []
        if form.get("ErrorCode"):
            message = form.get("ErrorMessage", "")
            parts.append(f"Twilio {form['ErrorCode']}" + (f": {message}" if message else ""))
        if form.get("SipResponseCode"):
            parts.append(f"SIP {form['SipResponseCode']}")
        reason = "; ".join(parts)[:200] or None
    return Observation(
        status=status,
        at=at,
        call_sid=sid,
        ended_at=at if final else None,
        talk_seconds=_int_or_none(form.get("CallDuration")),
        answered_by=form.get("AnsweredBy") or None,
        reason=reason,
    )


def _rfc2822(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


# --- The durable record ---------------------------------------------------------------------


def _state(row: TwilioCall) -> CallState:
    return CallState(
        idempotency_key=row.idempotency_key,
        call_sid=row.call_sid,
        to_e164=row.to_e164,
        from_e164=row.from_e164,
        requested_at=row.requested_at,
        status=row.status,
        refused=row.refused,
        answered_by=row.answered_by,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        carrier_reason=row.carrier_reason,
        hung_up_at=row.hung_up_at,
        checked_at=row.checked_at,
    )


def _write(row: TwilioCall, state: CallState) -> None:
    row.call_sid = state.call_sid
    row.status = state.status
    row.refused = state.refused
    row.answered_by = state.answered_by
    row.answered_at = state.answered_at
    row.ended_at = state.ended_at
    row.carrier_reason = state.carrier_reason
    row.hung_up_at = state.hung_up_at
    row.checked_at = state.checked_at


def record(
    sessions: sessionmaker[Session], key: str, news: Observation, *, now: datetime
) -> CallState | None:
    """Apply `news` to the call under `key` in its own short transaction (None: no such call).

    News naming another CallSid than the one on record is ignored (and logged): a key names one
    call. Raises SQLAlchemyError.
    """
    with sessions() as session:
        row = session.scalars(
            select(TwilioCall).where(TwilioCall.idempotency_key == key).with_for_update()
        ).one_or_none()
        if row is None:
            return None
        before = _state(row)
        if news.call_sid and before.call_sid and news.call_sid != before.call_sid:
            log.warning("news of call %s ignored: key %s is call %s", news.call_sid, key, before)
            return before
        after = observe(before, news, now=now)
        _write(row, after)
        session.commit()
        return after


def _chunks(keys: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for i in range(0, len(keys), size):  # bounded IN lists
        yield keys[i : i + size]


# --- The carrier ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TwilioOptions:
    public_base_url: str
    # Asynchronous answering-machine detection (DetectMessageEnd): the stream starts at once,
    # so the agent greets a person within the 2-second rule; the verdict arrives on /twilio/amd.
    machine_detection: bool = True
    ring_timeout_s: int = 30  # rings past the 15-s abandonment minimum, then no-answer
    time_limit_s: int = 900  # a runaway call ends after 15 minutes
    # A sent request neither called back nor listed after this long was never placed.
    unknown_after: timedelta = timedelta(seconds=60)
    # A call in flight with no news (callback or poll) for this long is polled.
    poll_after: timedelta = timedelta(seconds=60)
    # How long a dial of a key waits for another process's fresh request under it to settle.
    race_wait: timedelta = timedelta(seconds=10)
    # How long a final report waits for its call's media to be wrapped up (its conversation
    # and recording, from the media endpoint: `live` below) before it goes without them.
    media_grace: timedelta = timedelta(seconds=30)


class TwilioCarrier:
    """A Twilio account as a `TelephonyProvider`, with `twilio_calls` as its durable memory.

    `completed_reports` reports, once each, the calls this instance dialed (refusals included)
    or looked up in flight, when their row is final: written by the status callback route
    (any process), by a lookup, or by this method's own poll of calls gone quiet for
    `poll_after` (callbacks can be lost). `lookup` asks Twilio for calls in flight.
    """

    def __init__(
        self,
        client: TwilioRestClient,
        session_factory: sessionmaker[Session],
        clock: Clock,
        options: TwilioOptions,
        *,
        name: str = "twilio",
        live: LiveCallResults | None = None,
    ) -> None:
        self.name = name
        self._live = live
        self._client = client
        self._sessions = session_factory
        self._clock = clock
        self._options = options
        self._urls = PublicUrls.of(options.public_base_url)
        self._pending: set[str] = set()
        self._seen: set[str] = set()

    # -- dial ----------------------------------------------------------------------------

    def dial(self, request: DialRequest) -> DialReceipt:
        """Place the call, or return the receipt of the one already placed under this key."""
        key = request.idempotency_key
        deadline = time.monotonic() + self._options.race_wait.total_seconds()
        while True:
            if self._claim(request):
                return self._send(request)
            state = self._load(key)
            if state is None:
                raise TelephonyError(f"twilio: lost the record of the dial under {key!r}")
            if state.call_sid is not None:
                self._track(state, even_if_final=True)
                return _receipt(state)
            if state.status == NOT_PLACED:
                continue  # declared never placed: claim it again
            racing = self._clock.now() - state.requested_at < self._options.race_wait
            if not racing or time.monotonic() >= deadline:
                break
            time.sleep(_RACE_POLL_S)  # another process is sending it: wait for Twilio's answer
        state = self._settle(state)  # a request sent, its answer never recorded
        if state.call_sid is not None:
            self._track(state, even_if_final=True)
            return _receipt(state)
        if self._claim(request):
            return self._send(request)
        raise TelephonyError(f"twilio: the dial under {key!r} is being placed by another process")

    def _claim(self, request: DialRequest) -> bool:
        """Commit the row claiming the key; True when this process is the one to send it."""
        now = self._clock.now()
        key = request.idempotency_key
        try:
            with self._sessions() as session:
                session.add(
                    TwilioCall(
                        idempotency_key=key,
                        job_id=request.job_id,
                        contact_id=request.contact_id,
                        to_e164=request.to_e164,
                        from_e164=request.from_e164,
                        requested_at=now,
                        status=REQUESTED,
                        refused=False,
                        checked_at=now,
                    )
                )
                try:
                    session.commit()
                    return True
                except IntegrityError:
                    session.rollback()
                # Known key: only a dial declared never placed may be sent again, by one process.
                result = session.execute(
                    update(TwilioCall)
                    .where(TwilioCall.idempotency_key == key, TwilioCall.status == NOT_PLACED)
                    .values(
                        status=REQUESTED,
                        requested_at=now,
                        checked_at=now,
                        to_e164=request.to_e164,
                        from_e164=request.from_e164,
                    )
                )
                session.commit()
                return cast(CursorResult[Any], result).rowcount == 1
        except SQLAlchemyError as exc:
            raise TelephonyError(f"twilio: call records unavailable: {exc}") from exc

    def _send(self, request: DialRequest) -> DialReceipt:
        key = request.idempotency_key
        amd: dict[str, str] = {}
        if self._options.machine_detection:
            amd = {
                "machine_detection": "DetectMessageEnd",
                "async_amd": "true",
                "async_amd_status_callback": self._urls.amd(key),
                "async_amd_status_callback_method": "POST",
            }
        try:
            call = self._client.calls.create(
                to=request.to_e164,
                from_=request.from_e164,
                twiml=stream_twiml(self._urls.media(key), key),
                status_callback=self._urls.status(key),
                status_callback_event=list(STATUS_EVENTS),
                status_callback_method="POST",
                timeout=self._options.ring_timeout_s,
                time_limit=self._options.time_limit_s,
                **amd,
            )
        except TwilioUnavailable as exc:
            self._mark_not_placed(key)
            raise TelephonyError(str(exc)) from exc
        except Exception as exc:  # the SDK raises its own errors and its HTTP library's
            return self._refused(request, exc)
        if not call.sid:
            raise TelephonyError(f"twilio: no CallSid in the answer to the dial under {key!r}")
        # If this write fails, Twilio has the call and we do not: the `initiated` callback or
        # a lookup settles the row, and the dispatcher treats the dial as of unknown fate.
        state = self._record(key, observation_of_resource(call, self._clock.now()))
        if state.call_sid != call.sid:
            self._cancel_duplicate(key, call.sid, state)
        self._track(state, even_if_final=True)
        return _receipt(state)

    def _cancel_duplicate(self, key: str, sid: str, state: CallState) -> None:
        """The key's first request, declared never placed, turned out to exist after all (its
        callback arrived) while a second one was sent: the first call stands, the second is
        cancelled before it rings long. The one case at-most-once cannot rule out."""
        log.error("twilio: key %s placed a second call %s (first: %s)", key, sid, state.call_sid)
        try:
            self._client.calls(sid).update(status="canceled")
        except Exception:
            log.exception("twilio: cannot cancel the duplicate call %s", sid)

    def _refused(self, request: DialRequest, exc: Exception) -> DialReceipt:
        key = request.idempotency_key
        error = _rest_error(exc)
        if error is None or error[0] >= 500:
            # The answer was lost (or Twilio failed): if the call was created, Twilio lists it.
            found = self._search_quietly(key)
            if found is not None:
                state = self._record(key, observation_of_resource(found, self._clock.now()))
                self._track(state, even_if_final=True)
                return _receipt(state)
            raise TelephonyError(
                f"twilio: no answer to the dial under {key!r}, the call may exist: {exc}"
            ) from exc
        status, code, message = error
        reason = _describe(status, code, message)
        if status in (401, 403, 404, 429):  # our account or rate, not this call: nothing placed
            self._mark_not_placed(key)
            raise TelephonyError(f"twilio: request refused, no call placed ({reason})") from exc
        # Twilio refused this call (invalid number, caller ID not allowed...): an attempted
        # dial that failed at once, as the contract counts it.
        now = self._clock.now()
        try:
            with self._sessions() as session:
                row = session.scalars(
                    select(TwilioCall).where(TwilioCall.idempotency_key == key).with_for_update()
                ).one()
                row.call_sid = "RF" + hashlib.sha256(key.encode()).hexdigest()[:32]
                row.refused = True
                row.status = "failed"
                row.ended_at = row.requested_at
                row.carrier_reason = reason
                row.checked_at = now
                state = _state(row)
                session.commit()
        except SQLAlchemyError as err:
            raise TelephonyError(f"twilio: call records unavailable: {err}") from err
        self._track(state, even_if_final=True)
        return _receipt(state)

    def _search_quietly(self, key: str) -> TwilioCallResource | None:
        try:
            state = self._load(key)
            return None if state is None else self._search(state)
        except TelephonyError:
            return None

    def _mark_not_placed(self, key: str) -> CallState | None:
        try:
            with self._sessions() as session:
                session.execute(
                    update(TwilioCall)
                    .where(
                        TwilioCall.idempotency_key == key,
                        TwilioCall.status == REQUESTED,
                        TwilioCall.call_sid.is_(None),
                    )
                    .values(status=NOT_PLACED, checked_at=self._clock.now())
                )
                session.commit()
        except SQLAlchemyError as exc:
            raise TelephonyError(f"twilio: call records unavailable: {exc}") from exc
        return self._load(key)

    # -- lookup, settle, poll ------------------------------------------------------------

    def lookup(self, idempotency_key: str) -> CallReport | None:
        state = self._load(idempotency_key)
        if state is None or state.status == NOT_PLACED:
            return None
        if state.call_sid is None:
            state = self._settle(state)
            if state.call_sid is None:
                return None
        if not state.final:
            state = self._poll(state)
        self._track(state, even_if_final=False)
        return report_of(state)

    def _settle(self, state: CallState) -> CallState:
        """A `requested` row without a CallSid: find the call Twilio holds for it, or, once
        `unknown_after` has passed, declare it never placed. Raises TelephonyError before."""
        key = state.idempotency_key
        found = self._search(state)
        if found is not None:
            return self._record(key, observation_of_resource(found, self._clock.now()))
        age = self._clock.now() - state.requested_at
        if age < self._options.unknown_after:
            raise TelephonyError(
                f"twilio: the dial under {key!r} was sent {age.total_seconds():.0f}s ago "
                "and Twilio has not reported it yet"
            )
        settled = self._mark_not_placed(key)
        if settled is None:
            raise TelephonyError(f"twilio: lost the record of the dial under {key!r}")
        return settled

    def _search(self, state: CallState) -> TwilioCallResource | None:
        """Twilio's call to the same number from the same caller ID created around the request
        and not on record under another key (Call resources carry no key of ours)."""
        try:
            calls = self._client.calls.list(to=state.to_e164, from_=state.from_e164, limit=20)
        except Exception as exc:
            raise TelephonyError(f"twilio: cannot list calls: {exc}") from exc
        start = state.requested_at - CLOCK_SKEW
        end = state.requested_at + self._options.unknown_after + CLOCK_SKEW
        candidates = [
            c for c in calls if c.sid and c.date_created and start <= c.date_created <= end
        ]
        if not candidates:
            return None
        try:
            with self._sessions() as session:
                claimed = set(
                    session.scalars(
                        select(TwilioCall.call_sid).where(
                            TwilioCall.call_sid.in_([c.sid for c in candidates])
                        )
                    )
                )
        except SQLAlchemyError as exc:
            raise TelephonyError(f"twilio: call records unavailable: {exc}") from exc
        free = [c for c in candidates if c.sid not in claimed]
        if len(free) > 1:
            log.warning("%d calls match the dial under %s", len(free), state.idempotency_key)
        return min(
            free,
            key=lambda c: abs((c.date_created or state.requested_at) - state.requested_at),
            default=None,
        )

    def _poll(self, state: CallState) -> CallState:
        assert state.call_sid is not None
        try:
            call = self._client.calls(state.call_sid).fetch()
        except Exception as exc:
            raise TelephonyError(f"twilio: cannot fetch call {state.call_sid}: {exc}") from exc
        return self._record(state.idempotency_key, observation_of_resource(call, self._clock.now()))

    # -- hang up -------------------------------------------------------------------------

    def hangup(self, carrier_call_id: str) -> None:
        """End the call (cancel it while it rings); a no-op once it has ended."""
        state = self._load_by_sid(carrier_call_id)
        if state is None:
            raise TelephonyError(f"twilio: no call {carrier_call_id!r} placed by Ringfence")
        if state.final:
            return
        now = self._clock.now()
        key = state.idempotency_key
        try:
            with self._sessions() as session:
                session.execute(
                    update(TwilioCall)
                    .where(TwilioCall.idempotency_key == key, TwilioCall.hung_up_at.is_(None))
                    .values(hung_up_at=now)
                )
                session.commit()
        except SQLAlchemyError as exc:
            raise TelephonyError(f"twilio: call records unavailable: {exc}") from exc
        context = self._client.calls(carrier_call_id)
        try:
            if state.status == IN_PROGRESS:
                call = context.update(status="completed")
            else:  # a cancel does not end an answered call: end it if it was answered meanwhile
                call = context.update(status="canceled")
                if call.status == IN_PROGRESS:
                    call = context.update(status="completed")
        except Exception as exc:
            error = _rest_error(exc)
            if error is None or error[0] >= 500:
                raise TelephonyError(f"twilio: cannot hang up {carrier_call_id}: {exc}") from exc
            try:  # refused as "not in progress": it has ended; record how
                call = context.fetch()
            except Exception as err:
                raise TelephonyError(f"twilio: cannot fetch {carrier_call_id}: {err}") from err
        self._record(key, observation_of_resource(call, self._clock.now()))

    def transfer(self, carrier_call_id: str, to_e164: str) -> None:
        """Hand an answered call to `to_e164` (a warm transfer to staff): the call leaves its
        media stream and runs `transfer_twiml`. Raises TelephonyError when Twilio refuses
        (the call has ended, or the API is unreachable)."""
        try:
            self._client.calls(carrier_call_id).update(twiml=transfer_twiml(to_e164))
        except TwilioUnavailable:
            raise
        except Exception as exc:
            raise TelephonyError(f"twilio: cannot transfer {carrier_call_id}: {exc}") from exc

    # -- reports -------------------------------------------------------------------------

    def completed_reports(self) -> list[CallReport]:
        if not self._pending:
            return []
        now = self._clock.now()
        states = self._load_many(sorted(self._pending))
        reports: list[CallReport] = []
        for state in sorted(states, key=lambda s: (s.requested_at, s.idempotency_key)):
            key = state.idempotency_key
            if not state.final:
                try:
                    if state.call_sid is None:
                        if now - state.requested_at >= self._options.unknown_after:
                            state = self._settle(state)
                    elif now - state.checked_at >= self._options.poll_after:
                        state = self._poll(state)
                except TelephonyError as exc:  # asked again at the next sweep
                    log.warning("twilio: call under %s not checked: %s", key, exc)
                    continue
                if state.status == NOT_PLACED:  # never placed: nothing will ever be reported
                    self._pending.discard(key)
                    continue
            if state.final:
                if self._media_wrapping_up(state, now):
                    continue  # the stream's stop is still being handled: asked again next sweep
                self._pending.discard(key)
                reports.append(self._with_media(report_of(state)))
        self._pending.intersection_update(s.idempotency_key for s in states)
        return reports

    def _media_wrapping_up(self, state: CallState, now: datetime) -> bool:
        if self._live is None or not self._live.in_progress(state.idempotency_key):
            return False
        return now - (state.ended_at or now) < self._options.media_grace

    def _with_media(self, report: CallReport) -> CallReport:
        """The report with the conversation held live on its media stream, if there was one."""
        held = None if self._live is None else self._live.take(report.idempotency_key)
        if held is None:
            return report
        outcome = report.outcome
        if outcome is CallOutcome.CONNECTED:  # Twilio's AMD off, or it took a machine for a
            outcome = live_outcome(held.conversation)  # person: the pipeline's AMD decides
        return replace(
            report,
            outcome=outcome,
            conversation=held.conversation,
            recording_path=held.recording_path,
            recording_seconds=held.recording_seconds,
        )

    # -- records -------------------------------------------------------------------------

    def _track(self, state: CallState, *, even_if_final: bool) -> None:
        key = state.idempotency_key
        if key in self._seen:
            return
        if even_if_final or not state.final:
            self._seen.add(key)
            self._pending.add(key)

    def _record(self, key: str, news: Observation) -> CallState:
        try:
            state = record(self._sessions, key, news, now=self._clock.now())
        except SQLAlchemyError as exc:
            raise TelephonyError(f"twilio: call records unavailable: {exc}") from exc
        if state is None:
            raise TelephonyError(f"twilio: lost the record of the dial under {key!r}")
        return state

    def _load(self, key: str) -> CallState | None:
        try:
            with self._sessions() as session:
                row = session.scalars(
                    select(TwilioCall).where(TwilioCall.idempotency_key == key)
                ).one_or_none()
                return None if row is None else _state(row)
        except SQLAlchemyError as exc:
            raise TelephonyError(f"twilio: call records unavailable: {exc}") from exc

    def _load_by_sid(self, call_sid: str) -> CallState | None:
        try:
            with self._sessions() as session:
                row = session.scalars(
                    select(TwilioCall).where(TwilioCall.call_sid == call_sid)
                ).one_or_none()
                return None if row is None else _state(row)
        except SQLAlchemyError as exc:
            raise TelephonyError(f"twilio: call records unavailable: {exc}") from exc

    def _load_many(self, keys: Sequence[str]) -> list[CallState]:
        try:
            with self._sessions() as session:
                return [
                    _state(row)
                    for chunk in _chunks(keys)
                    for row in session.scalars(
                        select(TwilioCall).where(TwilioCall.idempotency_key.in_(chunk))
                    )
                ]
        except SQLAlchemyError as exc:
            raise TelephonyError(f"twilio: call records unavailable: {exc}") from exc


def _receipt(state: CallState) -> DialReceipt:
    assert state.call_sid is not None
    if state.refused:
        return DialReceipt(state.call_sid, False, state.carrier_reason)
    return DialReceipt(state.call_sid, True)


# --- Callbacks ------------------------------------------------------------------------------


class _SignedParams:
    """Form fields in the shape RequestValidator reads repeated fields from (`getlist`)."""

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self._items = items

    def __iter__(self) -> Iterator[str]:
        return iter({name for name, _ in self._items})

    def __len__(self) -> int:
        return len(self._items)

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._items if key == name]


class TwilioWebhooks:
    """What Twilio sends back: request signatures checked, then status and AMD recorded.

    Signatures are HMAC-SHA1 of the URL Twilio requested (rebuilt from `public_base_url`, as a
    proxy in front of this server changes the one it sees) and the sorted form fields, keyed
    with the Auth Token. Without a token nothing verifies, so every callback is refused.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        *,
        auth_token: str | None,
        public_base_url: str | None,
    ) -> None:
        self._sessions = session_factory
        self._clock = clock
        self._token = auth_token
        self._base = public_base_url.rstrip("/") if public_base_url else None

    def public_url(self, seen_url: str) -> str:
        """The URL Twilio requested, given the one this server saw (path and query kept)."""
        if self._base is None:
            return seen_url
        parts = urlsplit(seen_url)
        return self._base + parts.path + (f"?{parts.query}" if parts.query else "")

    def verify(self, url: str, form: Sequence[tuple[str, str]], signature: str | None) -> bool:
        """Whether `signature` (X-Twilio-Signature) signs `url` and `form` with our token."""
        if not self._token or not signature:
            return False
        try:
            from twilio.request_validator import RequestValidator
        except ImportError:
            log.error("Twilio callback refused: %s", INSTALL_HINT)
            return False
        return bool(RequestValidator(self._token).validate(url, _SignedParams(form), signature))

    def verify_stream(self, url: str, signature: str | None) -> bool:
        """A media stream's handshake: Twilio signs the wss:// URL (its https:// form too is
        accepted, as the documentation is not explicit about which one)."""
        https = "https://" + url.split("://", 1)[1] if "://" in url else url
        return self.verify(websocket_url(https), [], signature) or self.verify(https, [], signature)

    def record_status(self, key: str, form: Mapping[str, str]) -> bool:
        """Record a status callback; False when no call is on record under the key."""
        now = self._clock.now()
        return record(self._sessions, key, observation_of_callback(form, now), now=now) is not None

    def record_amd(self, key: str, form: Mapping[str, str]) -> bool:
        """Record an asynchronous AMD result (AnsweredBy) for the call under `key`."""
        now = self._clock.now()
        sid, answered_by = form.get("CallSid", ""), form.get("AnsweredBy", "")
        if not sid or not answered_by:
            raise ValueError("an AMD callback needs CallSid and AnsweredBy")
        news = Observation(status="", at=now, call_sid=sid, answered_by=answered_by)
        return record(self._sessions, key, news, now=now) is not None

    def live_call(self, key: str) -> CallState | None:
        """The call a media stream under `key` belongs to; None if unknown or already ended."""
        with self._sessions() as session:
            row = session.scalars(
                select(TwilioCall).where(TwilioCall.idempotency_key == key)
            ).one_or_none()
            state = None if row is None else _state(row)
        return None if state is None or state.final or state.status == NOT_PLACED else state


def connect_twilio(
    *,
    account_sid: str,
    auth_token: str,
    session_factory: sessionmaker[Session],
    clock: Clock,
    options: TwilioOptions,
    live: LiveCallResults | None = None,
) -> TwilioCarrier:
    """A `TwilioCarrier` on the real REST client. Raises TwilioUnavailable without the SDK."""
    try:
        from twilio.rest import Client
    except ImportError as exc:
        raise TwilioUnavailable(INSTALL_HINT) from exc
    return TwilioCarrier(
        Client(account_sid, auth_token), session_factory, clock, options, live=live
    )


if TYPE_CHECKING:  # mypy (strict, whole package) proves it keeps the carrier contract

    def _conforms(twilio: TwilioCarrier) -> TelephonyProvider:
        return twilio
