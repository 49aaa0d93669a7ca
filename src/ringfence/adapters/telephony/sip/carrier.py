"""`SipCarrier`: the `TelephonyProvider` that places calls through a SIP trunk or PBX.

Each dial claims its idempotency key in `carrier_calls` (committed before the INVITE is sent: one
key, one INVITE, whatever happens next), then the call runs on the endpoint's loop
(`call.SipCall`), with its media session prepared before the INVITE. The dispatcher
collects finished calls with `completed_reports` (the final state is written to the row
then), and after a restart `lookup` answers from the row: a SIP dialog dies with the process
that held it, so a row still "calling" once the longest possible call has passed is reported
as a failed call ("call lost"), never dialed again.
"""

from __future__ import annotations

import concurrent.futures
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.carriers import CarrierCall
from ringfence.adapters.telephony.base import (
    CallReport,
    CarrierCallState,
    DialReceipt,
    DialRequest,
    TelephonyError,
    completed_report,
)
from ringfence.adapters.telephony.call_records import claim_key, rows_of
from ringfence.adapters.telephony.live_calls import LiveCallResults, live_outcome
from ringfence.adapters.telephony.media import MediaSession
from ringfence.adapters.telephony.sip.answering import SipAnswering
from ringfence.adapters.telephony.sip.call import CallResult, SipCall
from ringfence.adapters.telephony.sip.dialog import SipAccount
from ringfence.adapters.telephony.sip.endpoint import EndpointThread, Registration
from ringfence.adapters.telephony.sip.incoming import IncomingAnswerer
from ringfence.clock import Clock
from ringfence.domain.vocabulary import CallOutcome, CarrierKind

log = logging.getLogger("ringfence.sip")

_SIP = rows_of(CarrierKind.SIP)

CALLING: Final = "calling"
LATE_ANSWER_S: Final = 32.0  # 64·T1: how long a finished call still answers a late 2xx
MIN_RING_TIMEOUT_S: Final = 15.0  # ring at least this long before giving up (the floor)

# Prepares the media session of the call under a key, before it is answered.
SessionPreparer = Callable[[str], MediaSession]


@dataclass(frozen=True, slots=True)
class SipOptions:
    trunk_host: str
    trunk_port: int = 5060
    bind_host: str = "0.0.0.0"
    bind_port: int = 0  # 0: any free port (outbound calls need no fixed one)
    account: SipAccount | None = None
    register: bool = False
    ring_timeout_s: float = 30.0
    max_call_s: float = 600.0
    no_response_s: float = 32.0  # RFC 3261 Timer B

    @property
    def lost_after(self) -> timedelta:
        """After this long, a call still "calling" on record cannot be live anywhere."""
        # Preparing the agent, Timer B, ringing, the CANCEL's wait, the call, the BYE's
        # retransmissions and writing the record, with a margin: generously more than any call.
        setup_and_teardown = 300
        return timedelta(
            seconds=self.no_response_s + self.ring_timeout_s + self.max_call_s + setup_and_teardown
        )


def request_uri(to: str, options: SipOptions, account: SipAccount) -> str:
    """A SIP URI as given; an E.164 number as a user at the trunk's domain."""
    if to.startswith(("sip:", "sips:")):
        return to
    return f"sip:{to}@{account.domain}"


@dataclass(slots=True)
class _Live:
    call: SipCall
    dialed_at: datetime
    future: concurrent.futures.Future[CallResult] | None = None


class SipCarrier:
    name = "sip"

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        options: SipOptions,
        *,
        prepare: SessionPreparer | None = None,
        live: LiveCallResults | None = None,
        answer: IncomingAnswerer | None = None,
    ) -> None:
        self._sessions = session_factory
        self._clock = clock
        self._options = options
        self._account = options.account or SipAccount(domain=options.trunk_host)
        self._prepare = prepare
        self._live_results = live
        self._lock = threading.Lock()
        self._live: dict[str, _Live] = {}
        self._finished: dict[str, tuple[_Live, CallResult]] = {}
        self._endpoint = EndpointThread(
            bind_host=options.bind_host,
            bind_port=options.bind_port,
            trunk=(options.trunk_host, options.trunk_port),
        )
        # Calls to the practice's numbers, from the trunk (issue 19; answering.py).
        self._answering = (
            SipAnswering(self._endpoint, self._account, answer, max_call_s=options.max_call_s)
            if answer is not None
            else None
        )
        if options.register:
            self._endpoint.submit(
                self._endpoint.endpoint.register_forever(self._account, Registration())
            )

    @property
    def local_address(self) -> tuple[str, int]:
        endpoint = self._endpoint.endpoint
        return endpoint.local_host, endpoint.local_port

    def close(self, timeout_s: float = 40.0) -> None:
        """Hang up every call, placed or answered (CANCEL the ringing, BYE the answered), wait
        for them to end (a CANCEL may wait 32 s for its 487), then close the endpoint."""
        with self._lock:
            lives = list(self._live.values())
        for live in lives:
            self._endpoint.call_soon(live.call.hang_up, "ringfence")
        futures = [live.future for live in lives if live.future is not None]
        if self._answering is not None:  # callers are left with a BYE too, not a dead line
            self._answering.close(timeout_s)
        if futures:
            concurrent.futures.wait(futures, timeout=timeout_s)
        self._endpoint.close()

    # -- dialing ------------------------------------------------------------------------------
    def dial(self, request: DialRequest) -> DialReceipt:
        key = request.idempotency_key
        uri = request_uri(request.to_e164, self._options, self._account)
        call_id = f"{secrets.token_hex(12)}@{self._endpoint.endpoint.local_host}"
        dialed_at = self._clock.now()
        claim = CarrierCall(
            carrier=CarrierKind.SIP,
            idempotency_key=key,
            carrier_call_id=call_id,
            job_id=request.job_id,
            contact_id=request.contact_id,
            to_address=uri[:255],
            from_e164=request.from_e164,
            requested_at=dialed_at,
            status=CALLING,
            refused=False,
            details={},
        )
        try:
            with self._sessions() as session:
                if not claim_key(session, claim):
                    # Claimed before (a retry, or another worker first): that call stands.
                    existing = session.scalar(
                        select(CarrierCall.carrier_call_id).where(
                            _SIP, CarrierCall.idempotency_key == key
                        )
                    )
                    if existing is None:
                        raise TelephonyError(f"sip: the claim of {key} vanished")
                    return DialReceipt(carrier_call_id=existing, accepted=True)
        except SQLAlchemyError as exc:
            raise TelephonyError(f"sip: cannot record the call under {key}: {exc}") from exc
        prepare = self._prepare
        call = SipCall(
            self._endpoint.endpoint,
            self._account,
            key=key,
            call_id=call_id,
            target_uri=uri,
            caller_id=request.from_e164 or "anonymous",
            prepare=(lambda: prepare(key)) if prepare is not None else None,
            ring_timeout_s=self._options.ring_timeout_s,
            max_call_s=self._options.max_call_s,
            no_response_s=self._options.no_response_s,
        )
        live = _Live(call, dialed_at)
        with self._lock:
            self._live[key] = live
        try:
            self._endpoint.call_soon(self._endpoint.endpoint.calls.__setitem__, call_id, call)
            live.future = self._endpoint.submit(call.run())
        except RuntimeError as exc:  # the endpoint is closed (shutting down): nothing was sent
            with self._lock:
                self._live.pop(key, None)
            self._finish_unsent(key, live, f"not dialed: the SIP endpoint is closed ({exc})")
            return DialReceipt(carrier_call_id=call_id, accepted=True)
        live.future.add_done_callback(lambda future: self._done(key, future))
        return DialReceipt(carrier_call_id=call_id, accepted=True)

    def _finish_unsent(self, key: str, live: _Live, reason: str) -> None:
        result = CallResult(outcome=CallOutcome.FAILED, reason=reason)
        with self._lock:
            self._finished[key] = (live, result)

    def _done(self, key: str, future: concurrent.futures.Future[CallResult]) -> None:
        with self._lock:
            live = self._live.pop(key, None)
        if live is None:
            return
        # Routable a while longer: a 2xx arriving after the call was given up is ACKed and
        # hung up (SipCall.on_message), not left on a silent line.
        self._endpoint.call_later(
            LATE_ANSWER_S, self._endpoint.endpoint.calls.pop, live.call.call_id, None
        )
        try:
            result = future.result()
        except BaseException as exc:  # canceled at shutdown, or a bug: the call is over
            result = CallResult(
                outcome=CallOutcome.FAILED,
                reason=f"carrier failure (SIP client stopped: {exc})",
                ended_after_s=live.call.elapsed(),
            )
            if live.call.result.answered_after_s is not None:
                result.answered_after_s = live.call.result.answered_after_s
                result.outcome = None
        with self._lock:
            self._finished[key] = (live, result)

    def hangup(self, carrier_call_id: str) -> None:
        """CANCEL the call ringing, BYE it answered. A no-op once it has ended, and for a call
        another process holds (its dialog is there); a call never placed raises
        TelephonyError (the router then asks the next carrier)."""
        with self._lock:
            held = [live.call for live in self._live.values()]
            ended = {live.call.call_id for live, _ in self._finished.values()}
        calls = [call for call in held if call.call_id == carrier_call_id]
        for call in calls:
            self._endpoint.call_soon(call.hang_up, "ringfence")
        if calls or carrier_call_id in ended:
            return
        try:
            with self._sessions() as session:
                placed = session.scalar(
                    select(CarrierCall.id).where(
                        _SIP, CarrierCall.carrier_call_id == carrier_call_id
                    )
                )
        except SQLAlchemyError as exc:
            raise TelephonyError(f"sip: cannot look up call {carrier_call_id!r}: {exc}") from exc
        if placed is None:
            raise TelephonyError(f"sip: no call {carrier_call_id!r}")

    # -- reports ------------------------------------------------------------------------------
    def completed_reports(self) -> list[CallReport]:
        with self._lock:
            finished = dict(self._finished)
        reports: list[CallReport] = []
        statuses: list[int | None] = []
        for key, (live, result) in finished.items():
            try:
                report = self._report(key, live, result)
            except SQLAlchemyError:  # its record could not be read: reported at the next sweep
                log.exception("sip: the call under %s is not reported yet", key)
                continue
            reports.append(report)
            statuses.append(result.sip_status)
        with self._lock:
            for report in reports:
                self._finished.pop(report.idempotency_key, None)
        if reports:
            try:
                self._store(reports, statuses)
            except SQLAlchemyError:
                # The reports still go to the dispatcher; after a restart `lookup` settles
                # rows left "calling" (as lost, once the longest call has passed).
                log.exception("sip: final states not written")
        return reports

    def lookup(self, idempotency_key: str) -> CallReport | None:
        with self._lock:
            live = self._live.get(idempotency_key)
            finished = self._finished.get(idempotency_key)
        if live is not None:
            answered = live.call.result.answered_after_s
            if answered is None:
                return CallReport(
                    idempotency_key, live.call.call_id, CarrierCallState.RINGING, live.dialed_at
                )
            return CallReport(
                idempotency_key,
                live.call.call_id,
                CarrierCallState.IN_PROGRESS,
                live.dialed_at,
                answered_at=live.dialed_at + timedelta(seconds=answered),
            )
        if finished is not None:
            return self._report(idempotency_key, *finished)
        try:
            with self._sessions() as session:
                row = session.scalar(
                    select(CarrierCall).where(_SIP, CarrierCall.idempotency_key == idempotency_key)
                )
                if row is None:
                    return None
                if row.status == CALLING:
                    if self._clock.now() - row.requested_at < self._options.lost_after:
                        return CallReport(
                            row.idempotency_key,
                            row.carrier_call_id or "",
                            CarrierCallState.RINGING,
                            row.requested_at,
                        )
                    return self._lost(session, row)
                report = _report_of_row(row)
            return self._with_record(report)
        except SQLAlchemyError as exc:
            raise TelephonyError(f"sip: cannot look up {idempotency_key}: {exc}") from exc

    def _lost(self, session: Session, row: CarrierCall) -> CallReport:
        reason = "call lost: the worker that placed it stopped during the call"
        # Only a row still "calling": a worker that finished the call meanwhile wins.
        session.execute(
            update(CarrierCall)
            .where(CarrierCall.id == row.id, CarrierCall.status == CALLING)
            .values(
                status=CallOutcome.FAILED.value, ended_at=row.requested_at, carrier_reason=reason
            )
        )
        session.commit()
        session.refresh(row)
        return _report_of_row(row)

    def _report(self, key: str, live: _Live, result: CallResult) -> CallReport:
        dialed = live.dialed_at
        answered = (
            None  # a call that ended before its media (a failure, ours) bills nothing
            if result.answered_after_s is None or result.outcome is not None
            else dialed + timedelta(seconds=result.answered_after_s)
        )
        report = completed_report(
            key,
            live.call.call_id,
            dialed=dialed,
            answered=answered,
            ended=dialed + timedelta(seconds=result.ended_after_s),
            outcome=result.outcome or CallOutcome.CONNECTED,
            reason=result.reason,
        )
        return self._with_record(report)

    def _with_record(self, report: CallReport) -> CallReport:
        """An answered call's report with the conversation its media session recorded (read,
        not taken: `lookup` and `completed_reports` may both report the call; the dispatcher
        applies a report once)."""
        if self._live_results is None or report.answered_at is None:
            return report
        held = self._live_results.peek(report.idempotency_key)
        if held is None:
            return report
        return replace(
            report,
            outcome=live_outcome(held.conversation),
            conversation=held.conversation,
            recording_path=held.recording_path,
            recording_seconds=held.recording_seconds,
        )

    def _store(self, reports: list[CallReport], sip_statuses: list[int | None]) -> None:
        with self._sessions() as session, session.begin():
            for report, sip_status in zip(reports, sip_statuses, strict=True):
                assert report.outcome is not None
                session.execute(
                    update(CarrierCall)
                    .where(_SIP, CarrierCall.idempotency_key == report.idempotency_key)
                    .values(
                        status=report.outcome.value,
                        details={} if sip_status is None else {"sip_status": sip_status},
                        answered_at=report.answered_at,
                        ended_at=report.ended_at,
                        carrier_reason=(report.carrier_reason or None)
                        and report.carrier_reason[:200],
                    )
                )


def _report_of_row(row: CarrierCall) -> CallReport:
    return completed_report(
        row.idempotency_key,
        row.carrier_call_id or "",
        dialed=row.requested_at,
        answered=row.answered_at,
        ended=row.ended_at or row.requested_at,
        outcome=CallOutcome(row.status),
        reason=row.carrier_reason,
    )
