"""`TwilioCarrier`: the `TelephonyProvider` contract on Twilio's REST API (at most once, with
the claim-before-send record: see the package docstring), and `connect_twilio`."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import ColumnElement, CursorResult, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.carriers import CarrierCall
from ringfence.adapters.telephony.base import (
    CallReport,
    DialReceipt,
    DialRequest,
    TelephonyError,
    TelephonyProvider,
)
from ringfence.adapters.telephony.call_records import claim_key, rows_of
from ringfence.adapters.telephony.live_calls import (
    LiveCallResults,
    live_outcome,
    with_failed_transfer,
)
from ringfence.adapters.telephony.twilio.records import chunks, key_of_call, record, state_of_row
from ringfence.adapters.telephony.twilio.rest import (
    INSTALL_HINT,
    TwilioCallResource,
    TwilioRestClient,
    TwilioUnavailable,
    describe_rest_error,
    rest_error,
)
from ringfence.adapters.telephony.twilio.state import (
    CLOCK_SKEW,
    IN_PROGRESS,
    NOT_PLACED,
    REQUESTED,
    CallState,
    Observation,
    observation_of_resource,
    report_of,
)
from ringfence.adapters.telephony.twilio.twiml import (
    STATUS_EVENTS,
    PublicUrls,
    stream_twiml,
    transfer_twiml,
)
from ringfence.clock import Clock
from ringfence.domain.vocabulary import CallOutcome, CarrierKind

_TWILIO = rows_of(CarrierKind.TWILIO)

log = logging.getLogger("ringfence.twilio")


_RACE_POLL_S: Final = 0.05


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
    """A Twilio account as a `TelephonyProvider`; its rows of `carrier_calls` are its memory.

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
                claimed = CarrierCall(
                    carrier=CarrierKind.TWILIO,
                    idempotency_key=key,
                    job_id=request.job_id,
                    contact_id=request.contact_id,
                    to_address=request.to_e164,
                    from_e164=request.from_e164,
                    requested_at=now,
                    status=REQUESTED,
                    refused=False,
                    checked_at=now,
                    details={},
                )
                if claim_key(session, claimed):
                    return True
                # Known key: only a dial declared never placed may be sent again, by one process.
                result = session.execute(
                    update(CarrierCall)
                    .where(
                        _TWILIO,
                        CarrierCall.idempotency_key == key,
                        CarrierCall.status == NOT_PLACED,
                    )
                    .values(
                        status=REQUESTED,
                        requested_at=now,
                        checked_at=now,
                        to_address=request.to_e164,
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
        error = rest_error(exc)
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
        reason = describe_rest_error(status, code, message)
        if status in (401, 403, 404, 429):  # our account or rate, not this call: nothing placed
            self._mark_not_placed(key)
            raise TelephonyError(f"twilio: request refused, no call placed ({reason})") from exc
        # Twilio refused this call (invalid number, caller ID not allowed...): an attempted
        # dial that failed at once, as the contract counts it.
        now = self._clock.now()
        try:
            with self._sessions() as session:
                row = session.scalars(
                    select(CarrierCall)
                    .where(_TWILIO, CarrierCall.idempotency_key == key)
                    .with_for_update()
                ).one()
                row.carrier_call_id = "RF" + hashlib.sha256(key.encode()).hexdigest()[:32]
                row.refused = True
                row.status = "failed"
                row.ended_at = row.requested_at
                row.carrier_reason = reason
                row.checked_at = now
                state = state_of_row(row)
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
                    update(CarrierCall)
                    .where(
                        _TWILIO,
                        CarrierCall.idempotency_key == key,
                        CarrierCall.status == REQUESTED,
                        CarrierCall.carrier_call_id.is_(None),
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
                        select(CarrierCall.carrier_call_id).where(
                            _TWILIO, CarrierCall.carrier_call_id.in_([c.sid for c in candidates])
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
                    update(CarrierCall)
                    .where(
                        _TWILIO,
                        CarrierCall.idempotency_key == key,
                        CarrierCall.hung_up_at.is_(None),
                    )
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
            error = rest_error(exc)
            if error is None or error[0] >= 500:
                raise TelephonyError(f"twilio: cannot hang up {carrier_call_id}: {exc}") from exc
            try:  # refused as "not in progress": it has ended; record how
                call = context.fetch()
            except Exception as err:
                raise TelephonyError(f"twilio: cannot fetch {carrier_call_id}: {err}") from err
        self._record(key, observation_of_resource(call, self._clock.now()))

    def transfer(
        self, carrier_call_id: str, to_e164: str, *, report_key: str | None = None
    ) -> None:
        """Hand an answered call to `to_e164` (a warm transfer to staff): the call leaves its
        media stream and runs `transfer_twiml`. `report_key`: the key the dial's end is
        reported under (an inbound call's record); by default the key of the call we placed.
        Raises TelephonyError when Twilio refuses (the call has ended, or the API is
        unreachable)."""
        # Twilio reports how the <Dial> ended to `action`, so a hand-over no one took becomes
        # a task for staff; without the key (the database is out), the caller is still told.
        key = report_key
        try:
            key = key or key_of_call(self._sessions, carrier_call_id)
        except SQLAlchemyError:
            log.exception("twilio: the transfer of %s will not report back", carrier_call_id)
        action = None if key is None else self._urls.dial(key)
        try:
            self._client.calls(carrier_call_id).update(twiml=transfer_twiml(to_e164, action))
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
        conversation = held.conversation
        if report.transfer_failed is not None:  # the <Dial> to staff did not bridge
            conversation = with_failed_transfer(conversation, report.transfer_failed)
        outcome = report.outcome
        if outcome is CallOutcome.CONNECTED:  # Twilio's AMD off, or it took a machine for a
            outcome = live_outcome(conversation)  # person: the pipeline's AMD decides
        return replace(
            report,
            outcome=outcome,
            conversation=conversation,
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
        return self._load_one(CarrierCall.idempotency_key == key)

    def _load_by_sid(self, call_sid: str) -> CallState | None:
        return self._load_one(CarrierCall.carrier_call_id == call_sid)

    def _load_one(self, which: ColumnElement[bool]) -> CallState | None:
        try:
            with self._sessions() as session:
                row = session.scalars(select(CarrierCall).where(_TWILIO, which)).one_or_none()
                return None if row is None else state_of_row(row)
        except SQLAlchemyError as exc:
            raise TelephonyError(f"twilio: call records unavailable: {exc}") from exc

    def _load_many(self, keys: Sequence[str]) -> list[CallState]:
        try:
            with self._sessions() as session:
                return [
                    state_of_row(row)
                    for chunk in chunks(keys)
                    for row in session.scalars(
                        select(CarrierCall).where(_TWILIO, CarrierCall.idempotency_key.in_(chunk))
                    )
                ]
        except SQLAlchemyError as exc:
            raise TelephonyError(f"twilio: call records unavailable: {exc}") from exc


def _receipt(state: CallState) -> DialReceipt:
    assert state.call_sid is not None
    if state.refused:
        return DialReceipt(state.call_sid, False, state.carrier_reason)
    return DialReceipt(state.call_sid, True)


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
