"""One SIP call a caller placed to a practice number (issue 19): the INVITE server
transaction and the dialog, on the endpoint's loop. Its media is `rtp_bridge.RtpBridge`, as for
the calls we place.

The INVITE server transaction (RFC 3261 §17.2.1, UDP): 100 Trying at once and 180 Ringing while
the shell decides (`IncomingAnswerer`, run off the loop: it routes the number, puts the call on
record and prepares the agent's greeting); a declined call gets its final response (404 for a
number no location owns, 480 when nobody can answer, 486 at the concurrent-call limit),
retransmitted until its ACK. An answered call gets a 200 OK whose SDP answers the offer in the
first G.711 law of the offer we take, retransmitted every T1 (doubling, at most T2) until the
ACK comes; with no ACK within 64·T1 the call is hung up (§13.3.1.4). RTP flows from the 200 on:
the greeting plays at once.

A CANCEL before the answer is answered 200 and the INVITE 487 (§9.2): the prepared session is
discarded. A retransmitted INVITE gets our last response again. Every later request of the
dialog (BYE, re-INVITE, NOTIFYs of a transfer) and the call's end (BYE, transfer by REFER,
hang-up at shutdown) are the outbound call's (`call.SipCall`), over a dialog seen from the
called side (`IncomingDialog`: our From is the INVITE's To with our tag; requests go to the
caller's Contact along the INVITE's Record-Route, in order, §12.1.1).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ringfence.adapters.telephony.media import MediaSession
from ringfence.adapters.telephony.sip import sdp
from ringfence.adapters.telephony.sip.call import (
    T1,
    T2,
    CallResult,
    Discardable,
    SipCall,
    Transport,
)
from ringfence.adapters.telephony.sip.dialog import (
    ALLOW,
    USER_AGENT,
    Dialog,
    SipAccount,
)
from ringfence.adapters.telephony.sip.message import (
    SipMessage,
    SipRequest,
    SipResponse,
    response_to,
    split_commas,
    tag_of,
    uri_of,
)

log = logging.getLogger("ringfence.sip")

ACK_TIMEOUT_S: Final = 64 * T1  # Timer H: how long a final response waits for its ACK


@dataclass(frozen=True, slots=True)
class IncomingInvite:
    """What the shell needs to route a call: the number dialed and who is calling."""

    call_id: str
    dialed: str  # the Request-URI's user part, as the trunk spells the number
    caller: str | None  # P-Asserted-Identity's, else From's user part; None when withheld
    source: tuple[str, int]


@dataclass(frozen=True, slots=True)
class Decline:
    """Not answered: the final response the caller's side gets."""

    status: int
    reason: str


# Routes the call, puts it on record and prepares its media session (off the loop).
IncomingAnswerer = Callable[[IncomingInvite], MediaSession | Decline]

_WITHHELD: Final = frozenset({"anonymous", "unknown", "restricted", "private", ""})


def user_of(value: str | None) -> str | None:
    """The user part of a name-addr or URI ("<sip:+1212...@host>;tag=x" -> "+1212...")."""
    if not value:
        return None
    uri = uri_of(split_commas(value)[0])
    scheme, _, rest = uri.partition(":")
    if scheme.lower() not in ("sip", "sips", "tel"):
        return None
    user = rest.split("@", 1)[0] if "@" in rest else (rest if scheme.lower() == "tel" else "")
    return user.split(";", 1)[0] or None


def incoming_invite(invite: SipRequest, source: tuple[str, int]) -> IncomingInvite:
    dialed = user_of(invite.uri) or user_of(invite.header("To")) or ""
    caller = user_of(invite.header("P-Asserted-Identity")) or user_of(invite.header("From"))
    if caller is not None and caller.lower() in _WITHHELD:
        caller = None
    return IncomingInvite(invite.call_id, dialed, caller, source)


class IncomingDialog(Dialog):
    """The dialog of a call we answered: requests built from the called side (see the module
    docstring); the SDP we send answers the caller's offer in its one chosen law."""

    def __init__(
        self, local: Transport, account: SipAccount, invite: SipRequest, rtp_port: Callable[[], int]
    ) -> None:
        contact = invite.header("Contact")
        target = (
            uri_of(split_commas(contact)[0]) if contact else uri_of(invite.header("From") or "")
        )
        super().__init__(
            local,
            account,
            call_id=invite.call_id,
            target_uri=target,
            caller_id=user_of(invite.header("To")) or "ringfence",
            rtp_port=rtp_port,
        )
        self.received = invite
        self.remote_tag = tag_of(invite.header("From"))
        self.remote_target = target
        self.route_set = invite.headers_named("Record-Route")  # in order, for the UAS
        self.answer_codecs: tuple[sdp.Codec, ...] = account.codecs

    def local_party(self) -> str:
        """Our side of the dialog: the INVITE's To, with our tag."""
        to = self.received.header("To") or ""
        return to if tag_of(to) is not None else f"{to};tag={self.local_tag}"

    def offer(self) -> bytes:
        return sdp.offer(
            session_id=abs(hash(self.call_id)) % 10**9,
            host=self._local.local_host,
            rtp_port=self._rtp_port(),
            codecs=self.answer_codecs,
        )

    # The dialog seen from the called side: we are the INVITE's To (with our tag) and the
    # caller is its From, whatever tag our requests would otherwise carry.
    def _from_party(self) -> str:
        return self.local_party()

    def _to_party(self, remote_tag: str | None) -> str:
        return self.received.header("From") or ""


class IncomingSipCall(SipCall):
    """One answered-or-declined call from its INVITE to its end. `run()` once; the endpoint
    feeds `on_message`."""

    def __init__(
        self,
        transport: Transport,
        account: SipAccount,
        invite: SipRequest,
        source: tuple[str, int],
        *,
        key: str,
        answer: IncomingAnswerer,
        max_call_s: float,
        silence_timeout_s: float = 20.0,
    ) -> None:
        super().__init__(
            transport,
            account,
            key=key,
            call_id=invite.call_id,
            target_uri=invite.uri,
            caller_id=user_of(invite.header("To")) or "ringfence",
            prepare=None,
            ring_timeout_s=0.0,
            max_call_s=max_call_s,
            silence_timeout_s=silence_timeout_s,
        )
        self._invite = invite
        self._source = source
        self._answer = answer
        self.incoming = incoming_invite(invite, source)
        self._dialog: IncomingDialog = IncomingDialog(
            transport, account, invite, lambda: self._rtp.port
        )
        self._last: SipResponse | None = None  # our latest response to the INVITE
        self._final_sent = False
        self._dialog_made = False  # our 200 OK is sent: the dialog exists
        self._acked = asyncio.Event()
        self._canceled = False

    # -- messages from the endpoint ---------------------------------------------------------
    def on_message(self, message: SipMessage, addr: tuple[str, int]) -> None:
        if isinstance(message, SipRequest):
            if message.method == "ACK" and message.cseq[0] == self._invite.cseq[0]:
                self._acked.set()
                return
            if message.method == "INVITE" and message.cseq == self._invite.cseq:
                if self._last is not None:  # a retransmission: our last response again
                    self._reply(self._last)
                return
            if message.method == "CANCEL":
                self._transport.send(response_to(message, 200, "OK"), addr)
                if not self._final_sent:
                    self._canceled = True
                    self._final(487, "Request Terminated")
                    self.hang_up("callee")
                return
            if not self._dialog_made and message.method != "ACK":
                # No dialog before our 2xx: a new INVITE (CSeq 2) of a call we declined, or a
                # BYE for it, is not a re-INVITE to answer (§12.2.2).
                self._transport.send(
                    response_to(message, 481, "Call/Transaction Does Not Exist"), addr
                )
                return
        super().on_message(message, addr)

    # -- the call -----------------------------------------------------------------------------
    async def run(self) -> CallResult:
        loop = asyncio.get_running_loop()
        session: MediaSession | None = None
        transport: asyncio.BaseTransport | None = None
        answered: MediaSession | Decline | None = None
        try:
            self._provisional_response(100, "Trying")
            try:
                media = sdp.parse_answer(self._invite.body, self._account.codecs)
            except sdp.SdpError as exc:
                self.result.notes.append(f"SDP offer: {exc}")
                return await self._declined(Decline(488, "Not Acceptable Here"))
            self._dialog.answer_codecs = (media.codec,)
            transport, _ = await loop.create_datagram_endpoint(
                lambda: self._rtp, local_addr=(self._transport.local_host, 0)
            )
            self._provisional_response(180, "Ringing")
            answered = await loop.run_in_executor(None, self._answer, self.incoming)
            if isinstance(answered, Decline):
                return await self._declined(answered)
            if self._canceled:
                self.result.reason = "the caller hung up before the answer"
                await self._retransmit_until_acked()  # our 487
                return self._done()
            if self._ended.is_set():  # shutting down while it rang: a final answer, not silence
                return await self._declined(Decline(480, "Temporarily Unavailable"))
            session, answered = answered, None
            self._final(
                200,
                "OK",
                extra=(
                    ("Contact", self._dialog.contact()),
                    ("Allow", ALLOW),
                    ("Content-Type", "application/sdp"),
                ),
                body=self._dialog.offer(),
            )
            self._dialog_made = True
            self.result.sip_status = 200
            self.result.answered_after_s = self.elapsed()
            acked = asyncio.ensure_future(self._retransmit_until_acked())
            try:
                await self._media_phase(media, session)
            finally:
                acked.cancel()
        except asyncio.CancelledError:  # shutting down: leave the caller cleanly, then go
            self._leave_now()
            raise
        except Exception as exc:  # a bug: the call ends, reported
            log.exception("incoming SIP call %s failed", self.call_id)
            self.result.notes.append(f"internal error: {exc}")
            self._leave_now()
        finally:
            self._over = True
            if transport is not None:
                transport.close()
            if isinstance(answered, Discardable):  # never answered: no conversation to keep
                await asyncio.shield(loop.run_in_executor(None, answered.discard))
            if session is not None:
                # Stopping wraps up the record (recording encrypted and written): off the loop.
                await asyncio.shield(loop.run_in_executor(None, session.on_stop))
        return self._done()

    def _done(self) -> CallResult:
        self.result.ended_after_s = self.elapsed()
        return self.result

    async def _declined(self, decline: Decline) -> CallResult:
        self.result.sip_status = decline.status
        self.result.reason = f"declined: {decline.status} {decline.reason}"
        self._final(decline.status, decline.reason)
        # Retransmitted (Timer G) until the ACK, or given up at Timer H.
        await self._retransmit_until_acked()
        return self._done()

    def _leave_now(self) -> None:
        """Best effort, one datagram: BYE an answered call, else a final 500 to its INVITE."""
        if self._final_sent and self._last is not None and self._last.status == 200:
            self._transport.send(self._dialog.in_dialog("BYE"))
        elif not self._final_sent:
            self._final(500, "Server Internal Error")

    # -- responses to the INVITE ----------------------------------------------------------------
    def _provisional_response(self, status: int, reason: str) -> None:
        if not self._final_sent:
            tag = None if status == 100 else self._dialog.local_tag
            extra = () if status == 100 else self._record_route()
            self._last = response_to(self._invite, status, reason, to_tag=tag, extra=extra)
            self._reply(self._last)

    def _record_route(self) -> tuple[tuple[str, str], ...]:
        """The INVITE's Record-Route, copied into the responses that make the dialog (§12.1.1):
        a record-routing proxy on the way stays on the path of the caller's ACK and BYE."""
        return tuple(
            ("Record-Route", route) for route in self._invite.headers_named("Record-Route")
        )

    def _final(
        self,
        status: int,
        reason: str,
        *,
        extra: tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
    ) -> None:
        if self._final_sent:
            return
        self._final_sent = True
        self._last = response_to(
            self._invite,
            status,
            reason,
            to_tag=self._dialog.local_tag,
            extra=(*self._record_route(), ("User-Agent", USER_AGENT), *extra),
            body=body,
        )
        self._reply(self._last)

    def _reply(self, response: SipResponse) -> None:
        self._transport.send(response, self._source)

    async def _retransmit_until_acked(self) -> None:
        """Our final response again every T1 (doubling, at most T2) until its ACK; a 200 never
        acknowledged ends the call (§13.3.1.4)."""
        interval, waited = T1, 0.0
        while waited < ACK_TIMEOUT_S and not self._acked.is_set():
            try:
                await asyncio.wait_for(self._acked.wait(), timeout=interval)
            except TimeoutError:
                waited += interval
                interval = min(interval * 2, T2)
                if self._last is not None and not self._acked.is_set():
                    self._reply(self._last)
        if not self._acked.is_set() and self._last is not None and self._last.status == 200:
            self.result.notes.append("the 200 OK was never acknowledged")
            self.hang_up("no_ack")
