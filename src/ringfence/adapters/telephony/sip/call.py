"""One outbound SIP call on the endpoint's asyncio loop: the INVITE transaction and the dialog.
Its media is `rtp_bridge.RtpBridge`.

The INVITE client transaction (RFC 3261 §17.1.1, UDP): the INVITE is retransmitted every T1,
doubling, until a response arrives; with no response at all it is abandoned after Timer B
(64·T1) as a carrier failure. A provisional response stops both timers; the ring timeout runs
from the first 180/183 (the phone rings): after `ring_timeout_s` of ringing the call is
CANCELed (§9.1; the CANCEL retransmitted until answered) and its 487 makes it a no-answer.

A 401/407 challenge is answered once with a new INVITE carrying the digest (§22.2); the same
credentials go on the ACK of the 2xx (§13.2.2.4) and on later requests of the dialog. A non-2xx
final response is acknowledged and mapped to an outcome (`outcomes.py`). A 2xx is acknowledged
(every retransmission of it too) and its SDP answer says where RTP goes; a 2xx that crosses our
ring-timeout CANCEL is a person who picked up: the call goes on. A 2xx from a second fork, or
one that arrives after the call was given up, is acknowledged and hung up at once.

The call ends when the callee sends BYE, the agent hangs up, Ringfence hangs up (`hang_up`),
the longest call is reached, or no RTP comes in; ours ends with a BYE (§15.1.1), retransmitted
until answered, re-authenticated once if challenged. When the agent hands the callee to staff
(`Transfer`), the call first REFERs the callee's side to the staff line (RFC 3515, the basic
transfer of RFC 5589 §6) and follows the implicit subscription's NOTIFYs to the new call's
final status; a refused REFER or a failed new call is told to the session (`TransferAware`:
staff get a call-back task), and the call then ends with its BYE either way.

The media session is prepared before the INVITE is sent (the opening synthesized: the agent
speaks the moment the call is answered, the 2-second rule; an agent that cannot be prepared is
never dialed), and discarded if no one answers. Cancelled at shutdown, the call still sends its
BYE or CANCEL before it goes.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, runtime_checkable

from ringfence.adapters.telephony.media import MediaSession, TransferAware
from ringfence.adapters.telephony.sip import digest, sdp
from ringfence.adapters.telephony.sip.dialog import (
    ALLOW,
    Credentials,
    Dialog,
    SipAccount,
    answer_challenge,
)
from ringfence.adapters.telephony.sip.message import (
    SipMessage,
    SipResponse,
    response_to,
    sipfrag_status,
    tag_of,
)
from ringfence.adapters.telephony.sip.outcomes import (
    NO_RESPONSE_REASON,
    outcome_of_final,
    ring_timeout_reason,
)
from ringfence.adapters.telephony.sip.rtp_bridge import RtpBridge, RtpSocket
from ringfence.domain.vocabulary import CallOutcome

log = logging.getLogger("ringfence.sip")

T1: Final = 0.5  # RFC 3261's round-trip estimate
T2: Final = 4.0  # the longest retransmission interval of a non-INVITE request
_OK_IN_DIALOG: Final = frozenset({"OPTIONS", "INFO", "NOTIFY"})


class Transport(Protocol):
    """The endpoint, as a call sees it."""

    local_host: str
    local_port: int

    def send(self, message: SipMessage, addr: tuple[str, int] | None = None) -> None: ...


@runtime_checkable
class Discardable(Protocol):
    """A session prepared for a call no one answered: let it go without a record."""

    def discard(self) -> None: ...


@dataclass(slots=True)
class CallResult:
    """How the call went, on the monotonic clock (seconds since the call began)."""

    outcome: CallOutcome | None = None  # None for an answered call: the media decides
    reason: str | None = None
    sip_status: int | None = None
    answered_after_s: float | None = None
    ended_after_s: float = 0.0
    hung_up_by: str | None = None  # "callee", "agent", "ringfence", "limit", "no_media"
    sent_packets: int = 0
    received_packets: int = 0
    first_audio_after_answer_ms: float | None = None
    transferred_to: str | None = None  # the staff line the callee was handed to
    notes: list[str] = field(default_factory=list)


class SipCall:
    """One call from INVITE to BYE. `run()` once; the endpoint feeds `on_message`."""

    def __init__(
        self,
        transport: Transport,
        account: SipAccount,
        *,
        key: str,
        call_id: str,
        target_uri: str,
        caller_id: str,
        prepare: Callable[[], MediaSession] | None,
        ring_timeout_s: float,
        max_call_s: float,
        no_response_s: float = 64 * T1,
        silence_timeout_s: float = 20.0,
        transfer_timeout_s: float = 40.0,
    ) -> None:
        self._transport = transport
        self._account = account
        self.key = key
        self.call_id = call_id
        self.target_uri = target_uri
        self._caller_id = caller_id
        self._prepare = prepare
        self._ring_timeout_s = ring_timeout_s
        self._max_call_s = max_call_s
        self._no_response_s = no_response_s
        self._silence_timeout_s = silence_timeout_s
        self._transfer_timeout_s = transfer_timeout_s
        # Final statuses of the transferred call, from the REFER subscription's NOTIFYs.
        self._refer_progress: asyncio.Queue[int] = asyncio.Queue()
        self._responses: asyncio.Queue[SipResponse] = asyncio.Queue()
        self._provisional = False
        self._rtp = RtpSocket()
        self._dialog = Dialog(
            transport,
            account,
            call_id=call_id,
            target_uri=target_uri,
            caller_id=caller_id,
            rtp_port=lambda: self._rtp.port,
        )
        self._ended = asyncio.Event()
        self._callee_left = asyncio.Event()  # the far end's BYE came
        self._ending_by: str | None = None
        self._over = False  # run() has returned: any late 2xx is hung up at once
        self._began = time.monotonic()
        self.result = CallResult()

    # -- control from the carrier ---------------------------------------------------------
    def hang_up(self, by: str = "ringfence") -> None:
        """End the call (not dialed yet: never dialed; ringing: CANCEL; answered: BYE)."""
        if self._ending_by is None:
            self._ending_by = by
        self._ended.set()

    # -- messages from the endpoint ---------------------------------------------------------
    def on_message(self, message: SipMessage, addr: tuple[str, int]) -> None:
        if isinstance(message, SipResponse):
            if message.cseq[1] == "INVITE" and 200 <= message.status < 300:
                ack = self._dialog.ack_sent_for(message)
                if ack is not None:
                    self._transport.send(ack)  # our ACK was lost: send it again
                    return
                remote = self._dialog.remote_tag
                if self._over or (remote is not None and tag_of(message.header("To")) != remote):
                    self._refuse_answer(message)  # too late, or a second fork
                    return
            self._responses.put_nowait(message)
            return
        if message.method != "ACK" and not self._dialog.is_ours(message):
            # No dialog yet, or another dialog's (a refused fork's) request (§12.2.2).
            self._transport.send(response_to(message, 481, "Call/Transaction Does Not Exist"), addr)
            return
        match message.method:
            case "NOTIFY" if (message.header("Event") or "").strip().lower().startswith("refer"):
                self._transport.send(response_to(message, 200, "OK"), addr)
                status = sipfrag_status(message.body)
                if status is not None and status >= 200:
                    self._refer_progress.put_nowait(status)
            case "BYE":
                self._transport.send(response_to(message, 200, "OK"), addr)
                if self._ending_by is None:
                    self._ending_by = "callee"
                self._callee_left.set()
                self._ended.set()
            case "ACK":
                pass
            case "INVITE":  # a re-INVITE (session refresh): our media stays as it is
                self._transport.send(
                    response_to(
                        message,
                        200,
                        "OK",
                        extra=(
                            ("Contact", self._dialog.contact()),
                            ("Content-Type", "application/sdp"),
                        ),
                        body=self._dialog.offer(),
                    ),
                    addr,
                )
            case "CANCEL":  # nothing of ours to cancel: the INVITE it names is not pending
                self._transport.send(response_to(message, 481, "Transaction Does Not Exist"), addr)
            case method if method in _OK_IN_DIALOG:
                self._transport.send(response_to(message, 200, "OK"), addr)
            case _:  # UPDATE, REFER, PRACK, MESSAGE...: not supported in our dialogs
                self._transport.send(
                    response_to(message, 501, "Not Implemented", extra=(("Allow", ALLOW),)), addr
                )

    # -- the call -----------------------------------------------------------------------------
    async def run(self) -> CallResult:
        loop = asyncio.get_running_loop()
        prepared: MediaSession | None = None
        session: MediaSession | None = None
        transport: asyncio.BaseTransport | None = None
        try:
            if self._prepare is not None:
                try:
                    prepared = await loop.run_in_executor(None, self._prepare)
                except Exception as exc:
                    log.exception("SIP call %s: the agent could not be prepared", self.call_id)
                    return self._not_dialed(f"the agent could not be prepared ({exc})")
            if self._ended.is_set():
                return self._not_dialed("hung up before the INVITE")
            transport, _ = await loop.create_datagram_endpoint(
                lambda: self._rtp, local_addr=(self._transport.local_host, 0)
            )
            media = await self._invite_transaction()
            if media is not None:
                session, prepared = prepared, None
                await self._media_phase(media, session)
        except asyncio.CancelledError:  # shutting down: leave the far end cleanly, then go
            self._leave_now()
            raise
        except Exception as exc:  # a bug: the call ends, reported
            log.exception("SIP call %s failed", self.call_id)
            self.result.notes.append(f"internal error: {exc}")
            if self.result.answered_after_s is None and self.result.outcome is None:
                self.result.outcome = CallOutcome.FAILED
                self.result.reason = f"carrier failure (Ringfence's SIP client: {exc})"
            self._leave_now()
        finally:
            self._over = True
            if transport is not None:
                transport.close()
            if isinstance(prepared, Discardable):  # no one answered: no record to make
                await asyncio.shield(loop.run_in_executor(None, prepared.discard))
            if session is not None:
                # Stopping wraps up the record (recording encrypted and written): off the loop.
                await asyncio.shield(loop.run_in_executor(None, session.on_stop))
        self.result.ended_after_s = self.elapsed()
        return self.result

    def _not_dialed(self, why: str) -> CallResult:
        self.result.outcome = CallOutcome.FAILED
        self.result.reason = f"not dialed: {why}"
        self.result.ended_after_s = self.elapsed()
        return self.result

    def elapsed(self) -> float:
        """Seconds since the call began (its preparation included)."""
        return time.monotonic() - self._began

    def _leave_now(self) -> None:
        """Best effort, one datagram: BYE an established dialog, CANCEL a ringing INVITE."""
        if self._dialog.remote_tag is not None:
            self._transport.send(self._dialog.in_dialog("BYE"))
        elif self._provisional and self.result.outcome is None:
            self._transport.send(self._dialog.cancel())

    # -- INVITE transaction -------------------------------------------------------------------
    async def _invite_transaction(self) -> sdp.MediaAnswer | None:
        """The answer's media once answered (ACK sent); None with the outcome set otherwise."""
        invite = self._dialog.new_invite()
        authenticated = canceled = cancel_answered = ringing = False
        now = time.monotonic()
        self._transport.send(invite)
        interval, next_send = T1, now + T1  # Timer A, until a provisional response
        give_up = now + self._no_response_s  # Timer B, until a provisional response
        ring_deadline = math.inf  # from the first provisional response
        cancel_interval, cancel_next = T1, math.inf
        while True:
            now = time.monotonic()
            if (
                not canceled
                and self._provisional
                and (self._ended.is_set() or now >= ring_deadline)
            ):
                self._transport.send(self._dialog.cancel())
                canceled = True
                give_up = now + 64 * T1  # for the INVITE's final response (the 487)
                cancel_next = now + cancel_interval
            if now >= give_up:
                break
            deadlines = [give_up]
            if not self._provisional:
                deadlines.append(next_send)
            elif not canceled:
                deadlines.append(ring_deadline)
            if canceled and not cancel_answered:
                deadlines.append(cancel_next)
            response = await self._next_response(
                min(deadlines) - now, wake_on_end=self._provisional and not canceled
            )
            now = time.monotonic()
            if response is None:
                if not self._provisional and now >= next_send:
                    self._transport.send(invite)
                    interval *= 2
                    next_send = now + interval
                if canceled and not cancel_answered and now >= cancel_next:
                    self._transport.send(self._dialog.cancel())
                    cancel_interval = min(cancel_interval * 2, T2)
                    cancel_next = now + cancel_interval
                continue
            number, method = response.cseq
            if method == "CANCEL":
                cancel_answered = cancel_answered or response.status >= 200
                continue
            if method != "INVITE" or number != self._dialog.cseq:
                continue  # a stale response
            if response.status < 200:
                if not self._provisional:
                    self._provisional = True
                    give_up = math.inf  # the trunk has it: the ring timeout governs now
                    # A trunk that never says it rings still gets Timer B's span to do so.
                    ring_deadline = now + self._no_response_s + self._ring_timeout_s
                if response.status >= 180 and not ringing:
                    ringing = True  # the phone rings (180, 183): it rings this long
                    ring_deadline = now + self._ring_timeout_s
                continue
            if response.status < 300:
                self._answered(response)
                if self._ending_by is not None:  # we hung up (CANCEL sent or not) as they answered
                    await self._bye_transaction()
                    self.result.outcome = CallOutcome.NO_ANSWER
                    self.result.reason = "hung up by Ringfence as the call was answered"
                    return None
                if canceled:  # answered as the ring timeout ran out: a person is there
                    self.result.notes.append("answered as the ring timeout ran out")
                return await self._take_answer(response)
            self._transport.send(self._dialog.ack_failure(response))
            if response.status in (401, 407) and not authenticated and not canceled:
                credentials = self._challenge_answer(response, "INVITE", self.target_uri)
                if credentials is not None:
                    authenticated = True
                    invite = self._dialog.new_invite(credentials)
                    self._provisional = ringing = False
                    self._transport.send(invite)
                    interval, next_send = T1, now + T1
                    give_up = now + self._no_response_s
                    continue
            self.result.sip_status = response.status
            if canceled and response.status == 487:
                self.result.outcome = CallOutcome.NO_ANSWER
                self.result.reason = (
                    "hung up by Ringfence before the answer"
                    if self._ending_by is not None
                    else ring_timeout_reason(self._ring_timeout_s)
                )
            else:
                self.result.outcome, self.result.reason = outcome_of_final(
                    response.status, response.reason
                )
            return None
        if canceled:  # the CANCEL's 487 never came
            self.result.outcome = CallOutcome.NO_ANSWER
            self.result.reason = ring_timeout_reason(self._ring_timeout_s)
        else:  # Timer B: nothing came back at all
            self.result.outcome = CallOutcome.FAILED
            self.result.reason = NO_RESPONSE_REASON
        return None

    async def _next_response(self, timeout: float, *, wake_on_end: bool) -> SipResponse | None:
        """The next response within `timeout` (None: timed out, or the call was hung up)."""
        if not self._responses.empty():
            return self._responses.get_nowait()
        getter = asyncio.ensure_future(self._responses.get())
        waiters: set[asyncio.Future[Any]] = {getter}
        ender = None
        if wake_on_end and not self._ended.is_set():
            ender = asyncio.ensure_future(self._ended.wait())
            waiters.add(ender)
        try:
            await asyncio.wait(
                waiters, timeout=max(0.0, timeout), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            if ender is not None:
                ender.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()  # taken, never dropped: even if the end woke us too
        return None

    def _challenge_answer(
        self, challenge: SipResponse, method: str, uri: str
    ) -> Credentials | None:
        try:
            return answer_challenge(challenge, self._account, method=method, uri=uri)
        except digest.DigestError as exc:
            self.result.notes.append(str(exc))
            return None

    def _answered(self, response: SipResponse) -> None:
        """A 2xx: the dialog exists; ACK it (a new transaction, §13.2.2.4)."""
        self._transport.send(self._dialog.answered(response))
        self.result.sip_status = response.status
        self.result.answered_after_s = self.elapsed()

    def _refuse_answer(self, response: SipResponse) -> None:
        ack, bye = self._dialog.refuse(response)
        self._transport.send(ack)
        self._transport.send(bye)
        self.result.notes.append(
            f"hung up a late or forked answer (tag {tag_of(response.header('To'))})"
        )

    async def _take_answer(self, response: SipResponse) -> sdp.MediaAnswer | None:
        try:
            return sdp.parse_answer(response.body, self._account.codecs)
        except sdp.SdpError as exc:
            self.result.notes.append(f"SDP answer: {exc}")
            await self._bye_transaction()
            self.result.outcome = CallOutcome.FAILED
            self.result.reason = f"no usable audio in the answer ({exc})"
            return None

    async def _bye_transaction(self) -> None:
        response = await self._in_dialog_transaction("BYE")
        if response is None:
            self.result.notes.append("the BYE was never answered")
        elif response.status >= 300:
            self.result.notes.append(f"the BYE was answered {response.status}")

    async def _in_dialog_transaction(
        self,
        method: str,
        extra: tuple[tuple[str, str], ...] = (),
        *,
        abandon: asyncio.Event | None = None,
    ) -> SipResponse | None:
        """A non-INVITE request in the dialog (BYE, REFER): retransmitted (Timer E) until its
        final response or Timer F, a challenge answered once. The final response, or None
        when none came (or `abandon` was set meanwhile)."""
        request = self._dialog.in_dialog(method).with_headers(*extra)
        self._transport.send(request)
        interval, waited, authenticated = T1, 0.0, False
        while waited < 64 * T1 and not (abandon is not None and abandon.is_set()):
            response = await self._next_response(interval, wake_on_end=False)
            if response is None:
                waited += interval
                interval = min(interval * 2, T2)
                self._transport.send(request)
                continue
            if response.cseq != (request.cseq[0], method) or response.status < 200:
                continue
            if response.status in (401, 407) and not authenticated:
                credentials = self._challenge_answer(response, method, self._dialog.remote_target)
                if credentials is not None:
                    authenticated = True
                    request = self._dialog.in_dialog(method, credentials=credentials)
                    request = request.with_headers(*extra)
                    self._transport.send(request)
                    interval, waited = T1, 0.0
                    continue
            return response
        return None

    # -- media --------------------------------------------------------------------------------
    async def _media_phase(self, media: sdp.MediaAnswer, session: MediaSession | None) -> None:
        bridge = RtpBridge(
            self._rtp,
            media,
            session,
            stop=self._ended,
            max_call_s=self._max_call_s,
            silence_timeout_s=self._silence_timeout_s,
        )
        bridge.start(self.key, self.call_id)
        await bridge.run()
        if self._ending_by is None:
            self._ending_by = bridge.stats.ended_by or "ringfence"
        stats = bridge.stats
        self.result.sent_packets = stats.sent_packets
        self.result.received_packets = stats.received_packets
        self.result.first_audio_after_answer_ms = stats.first_audio_after_answer_ms
        self.result.hung_up_by = self._ending_by
        if bridge.transfer_to is not None and self._ending_by == "agent":
            await self._transfer(bridge.transfer_to, session)
        if self._ending_by != "callee" and not self._callee_left.is_set():
            await self._bye_transaction()

    # -- transfer -----------------------------------------------------------------------------
    async def _transfer(self, to: str, session: MediaSession | None) -> None:
        failed = await self._refer_transaction(to)
        if failed is None:
            self.result.transferred_to = to
            self.result.notes.append(f"transferred to {to}")
            return
        self.result.notes.append(f"transfer to {to} failed: {failed}")
        if isinstance(session, TransferAware):
            session.transfer_failed(failed)

    async def _refer_transaction(self, to: str) -> str | None:
        """REFER the callee's side to `to`; None once the new call is answered, else why not."""
        target = to if to.startswith(("sip:", "sips:")) else f"sip:{to}@{self._account.domain}"
        extra = (
            ("Refer-To", f"<{target}>"),
            ("Referred-By", f"<sip:{self._caller_id}@{self._account.domain}>"),
            ("Contact", self._dialog.contact()),
        )
        response = await self._in_dialog_transaction("REFER", extra, abandon=self._callee_left)
        if response is None:
            if self._callee_left.is_set():
                return "the callee hung up before the transfer was accepted"
            return "the REFER was never answered"
        if response.status >= 300:
            return f"the REFER was answered {response.status} {response.reason}".strip()
        return await self._transferred_call_status()

    async def _transferred_call_status(self) -> str | None:
        """Wait for the NOTIFY that gives the new call's final status (RFC 3515 §2.4.5)."""
        ender = asyncio.ensure_future(self._callee_left.wait())
        progress = asyncio.ensure_future(self._refer_progress.get())
        try:
            await asyncio.wait(
                {ender, progress},
                timeout=self._transfer_timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            ender.cancel()
            if not progress.done():
                progress.cancel()
        if progress.done() and not progress.cancelled():
            status = progress.result()
            return None if 200 <= status < 300 else f"the staff line answered {status}"
        if self._callee_left.is_set():
            # The callee's side left our dialog after accepting the REFER: the usual end of
            # a transfer whose NOTIFY was not sent or was lost.
            return None
        return f"no answer from the staff line within {self._transfer_timeout_s:.0f} s"
