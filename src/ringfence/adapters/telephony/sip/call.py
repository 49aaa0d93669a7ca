"""One outbound SIP call on the endpoint's asyncio loop: the INVITE transaction, the dialog,
and the call's RTP bridged to its `MediaSession`.

The INVITE client transaction (RFC 3261 §17.1.1, UDP): the INVITE is retransmitted every T1,
doubling, until a response arrives, and abandoned after Timer B (64·T1) with no response at
all (a carrier failure). A 401/407 challenge is answered once with a new INVITE carrying the
digest (§22.2). A non-2xx final response is acknowledged and mapped to an outcome
(`outcomes.py`). After `ring_timeout_s` of ringing the call is CANCELed (§9.1: only once a
provisional response has arrived) and its 487 makes it a no-answer. A 2xx is acknowledged
(every retransmission of it too, §13.2.2.4) and its SDP answer says where RTP goes.

Media: a packet of 20 ms goes out every 20 ms on the loop's clock (the agent's audio, or
silence between its turns: RTP flows both ways for the whole call), and each packet that
comes in is decoded to PCM16 and handed to the session, whose answers (audio, marks, `Clear`,
`Hangup`) are applied at once. `Clear` drops the audio not sent yet (barge-in) and reports its
marks as dropped. The call ends when the callee sends BYE, the session says `Hangup` (its
queued audio is sent first), Ringfence hangs up, or the longest allowed call is reached;
ours ends with a BYE (§15.1.1).

The session is prepared before the INVITE is sent (the opening synthesized, so the agent speaks
the moment the call is answered: the 2-second rule), and discarded if no one answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol, cast, runtime_checkable

from ringfence.adapters.telephony import g711
from ringfence.adapters.telephony.media import (
    Clear,
    Hangup,
    MediaAction,
    MediaSession,
    OutboundAudio,
    StreamStart,
)
from ringfence.adapters.telephony.sip import digest, sdp
from ringfence.adapters.telephony.sip.message import (
    SipMessage,
    SipRequest,
    SipResponse,
    response_to,
    split_commas,
    tag_of,
    uri_of,
)
from ringfence.adapters.telephony.sip.outcomes import (
    NO_RESPONSE_REASON,
    outcome_of_final,
    ring_timeout_reason,
)
from ringfence.adapters.telephony.sip.rtp import RtpError, RtpPacket, parse_rtp
from ringfence.domain.vocabulary import CallOutcome

log = logging.getLogger("ringfence.sip")

T1: Final = 0.5  # RFC 3261's round-trip estimate
FRAME_S: Final = g711.FRAME_MS / 1000
PCM_FRAME_BYTES: Final = g711.FRAME_BYTES * 2
USER_AGENT: Final = "Ringfence"
ALLOW: Final = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY"


@dataclass(frozen=True, slots=True)
class SipAccount:
    """How we present ourselves to the trunk."""

    domain: str  # the host part of our From URI (the trunk's domain)
    username: str | None = None  # digest credentials, when the trunk challenges
    password: str | None = None
    display_name: str | None = None
    codecs: tuple[sdp.Codec, ...] = ("PCMU", "PCMA")


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
    """How the call went, on the loop's monotonic clock (seconds since the INVITE)."""

    outcome: CallOutcome | None = None  # None for an answered call: the media decides
    reason: str | None = None
    sip_status: int | None = None
    answered_after_s: float | None = None
    ended_after_s: float = 0.0
    hung_up_by: str | None = None  # "callee", "agent", "ringfence", "limit"
    sent_packets: int = 0
    received_packets: int = 0
    first_audio_after_answer_ms: float | None = None
    notes: list[str] = field(default_factory=list)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)  # the magic cookie says: RFC 3261 branch


class _Rtp(asyncio.DatagramProtocol):
    def __init__(self, on_packet: Callable[[bytes, tuple[str, int]], None]) -> None:
        self._on_packet = on_packet
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._on_packet(data, addr)


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
        self._local_tag = new_tag()
        self._cseq = 0
        self._responses: asyncio.Queue[SipResponse] = asyncio.Queue()
        self._invite: SipRequest | None = None
        self._remote_tag: str | None = None
        self._remote_target = target_uri
        self._route_set: list[str] = []
        self._acks: dict[int, SipRequest] = {}  # by CSeq: ACKs of 2xx, resent on retransmits
        self._ended = asyncio.Event()
        self._ending_by: str | None = None
        self._session: MediaSession | None = None
        self._outbound: deque[bytes | str] = deque()  # PCM16 frames and mark names
        self._hangup_after_audio = False
        self._rtp: _Rtp | None = None
        self._rtp_peer: tuple[str, int] | None = None
        self._media: sdp.MediaAnswer | None = None
        self._received_samples = 0
        self._answered_mono: float | None = None
        self._first_audio_mono: float | None = None
        self._began = time.monotonic()
        self.result = CallResult()
        self.answered = asyncio.Event()

    # -- control from the carrier ---------------------------------------------------------
    def hang_up(self, by: str = "ringfence") -> None:
        """End the call (CANCEL while ringing, BYE once answered). Idempotent."""
        if self._ending_by is None:
            self._ending_by = by
        self._ended.set()

    # -- messages from the endpoint ---------------------------------------------------------
    def on_message(self, message: SipMessage, addr: tuple[str, int]) -> None:
        if isinstance(message, SipResponse):
            number, method = message.cseq
            if method == "INVITE" and 200 <= message.status < 300 and number in self._acks:
                self._transport.send(self._acks[number])  # our ACK was lost: send it again
                return
            self._responses.put_nowait(message)
            return
        match message.method:
            case "BYE":
                self._transport.send(response_to(message, 200, "OK"), addr)
                if self._ending_by is None:
                    self._ending_by = "callee"
                self._ended.set()
            case "ACK":
                pass
            case "INVITE":  # a re-INVITE (session refresh, hold): keep our media as it is
                self._transport.send(
                    response_to(
                        message,
                        200,
                        "OK",
                        extra=(
                            ("Contact", self._contact()),
                            ("Content-Type", "application/sdp"),
                        ),
                        body=self._offer(),
                    ),
                    addr,
                )
            case "CANCEL":
                self._transport.send(response_to(message, 200, "OK"), addr)
            case _:  # OPTIONS, INFO, NOTIFY in the dialog
                self._transport.send(response_to(message, 200, "OK"), addr)

    # -- the call -----------------------------------------------------------------------------
    async def run(self) -> CallResult:
        loop = asyncio.get_running_loop()
        prepared: MediaSession | None = None
        if self._prepare is not None:
            # Before the INVITE: the opening is ready the moment anyone answers (the 2-second
            # rule), and an agent that cannot be prepared never rings anyone's phone.
            try:
                prepared = await loop.run_in_executor(None, self._prepare)
            except Exception as exc:
                log.exception("SIP call %s: the agent could not be prepared", self.call_id)
                self.result.outcome = CallOutcome.FAILED
                self.result.reason = f"not dialed: the agent could not be prepared ({exc})"
                self.result.ended_after_s = self._elapsed()
                return self.result
        rtp = _Rtp(self._on_rtp)
        transport, _ = await loop.create_datagram_endpoint(
            lambda: rtp, local_addr=(self._transport.local_host, 0)
        )
        self._rtp = rtp
        try:
            if await self._invite_transaction():
                self._session, prepared = prepared, None
                await self._media_phase()
        except Exception as exc:  # a bug: the call ends, reported
            log.exception("SIP call %s failed", self.call_id)
            self.result.notes.append(f"internal error: {exc}")
            if self.result.answered_after_s is None and self.result.outcome is None:
                self.result.outcome = CallOutcome.FAILED
                self.result.reason = f"carrier failure (Ringfence's SIP client: {exc})"
            if self._remote_tag is not None:
                self._send_bye()
        finally:
            transport.close()
            if isinstance(prepared, Discardable):  # no one answered: no record to make
                await loop.run_in_executor(None, prepared.discard)
            if self._session is not None:
                # Stopping wraps up the record (recording encrypted and written): off the loop.
                await loop.run_in_executor(None, self._session.on_stop)
        self.result.ended_after_s = self._elapsed()
        return self.result

    def _elapsed(self) -> float:
        return time.monotonic() - self._began

    # -- INVITE transaction -------------------------------------------------------------------
    async def _invite_transaction(self) -> bool:
        """True once answered (ACK sent); False with the outcome set otherwise."""
        self._invite = self._new_invite()
        authenticated = False
        provisional = False
        canceled = False
        interval = T1
        sent_at = time.monotonic()
        self._transport.send(self._invite)
        next_send = sent_at + interval
        ring_deadline = sent_at + self._ring_timeout_s
        give_up = sent_at + self._no_response_s
        while True:
            now = time.monotonic()
            if self._ended.is_set() and not canceled:
                if provisional:
                    self._send_cancel()
                    canceled = True
                    give_up = now + 64 * T1
                elif now >= give_up:
                    break
            if not canceled and provisional and now >= ring_deadline:
                self._send_cancel()
                canceled = True
                give_up = now + 64 * T1
            if now >= give_up:
                break
            waits = [give_up - now]
            if not provisional:
                waits.append(next_send - now)
            if not canceled and provisional:
                waits.append(ring_deadline - now)
            try:
                response = await asyncio.wait_for(
                    self._next_response_or_end(), timeout=max(0.0, min(waits))
                )
            except TimeoutError:
                if not provisional and time.monotonic() >= next_send:
                    self._transport.send(self._invite)  # Timer A
                    interval *= 2
                    next_send = time.monotonic() + interval
                continue
            if response is None:
                continue  # hang_up() while ringing: CANCEL at the top of the loop
            number, method = response.cseq
            if method != "INVITE" or number != self._cseq:
                continue  # the CANCEL's 200, or a stale response
            if response.status < 200:
                provisional = True
                continue
            if response.status < 300:
                self._answered(response)
                if canceled:  # answered as we gave up: leave at once
                    self._send_bye()
                    self.result.outcome = CallOutcome.NO_ANSWER
                    self.result.reason = ring_timeout_reason(self._ring_timeout_s)
                    return False
                return self._take_answer(response)
            self._ack_failure(response)
            if response.status in (401, 407) and not authenticated and not canceled:
                challenge_header = response.header(
                    "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
                )
                if challenge_header and self._account.username:
                    try:
                        self._invite = self._authenticated_invite(response.status, challenge_header)
                    except digest.DigestError as exc:
                        self.result.notes.append(str(exc))
                    else:
                        authenticated = True
                        provisional = False
                        interval = T1
                        self._transport.send(self._invite)
                        next_send = time.monotonic() + interval
                        give_up = time.monotonic() + self._no_response_s
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
            return False
        # Timer B: nothing came back (or the CANCEL's 487 never came).
        if canceled:
            self.result.outcome = CallOutcome.NO_ANSWER
            self.result.reason = ring_timeout_reason(self._ring_timeout_s)
        else:
            self.result.outcome = CallOutcome.FAILED
            self.result.reason = NO_RESPONSE_REASON
        return False

    async def _next_response_or_end(self) -> SipResponse | None:
        if self._ended.is_set():
            # Let the caller act on the hang-up, without spinning.
            await asyncio.sleep(0.01)
            return None if self._responses.empty() else self._responses.get_nowait()
        getter = asyncio.ensure_future(self._responses.get())
        ender = asyncio.ensure_future(self._ended.wait())
        try:
            done, _ = await asyncio.wait({getter, ender}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ender.cancel()
            if not getter.done():
                getter.cancel()
        return getter.result() if getter in done else None

    def _new_invite(self, *extra: tuple[str, str]) -> SipRequest:
        self._cseq += 1
        name = self._account.display_name
        from_uri = f"sip:{self._caller_id}@{self._account.domain}"
        shown = f'"{name}" ' if name else ""
        return SipRequest(
            method="INVITE",
            uri=self.target_uri,
            headers=(
                ("Via", self._via()),
                ("Max-Forwards", "70"),
                ("From", f"{shown}<{from_uri}>;tag={self._local_tag}"),
                ("To", f"<{self.target_uri}>"),
                ("Call-ID", self.call_id),
                ("CSeq", f"{self._cseq} INVITE"),
                ("Contact", self._contact()),
                # The caller ID trunks use when they ignore From (RFC 3325).
                ("P-Asserted-Identity", f"<{from_uri}>"),
                ("Allow", ALLOW),
                ("User-Agent", USER_AGENT),
                ("Content-Type", "application/sdp"),
                *extra,
            ),
            body=self._offer(),
        )

    def _authenticated_invite(self, status: int, challenge_header: str) -> SipRequest:
        challenge = digest.parse_challenge(challenge_header)
        value = digest.authorization(
            challenge,
            method="INVITE",
            uri=self.target_uri,
            username=self._account.username or "",
            password=self._account.password or "",
            cnonce=secrets.token_hex(8),
        )
        header = "Authorization" if status == 401 else "Proxy-Authorization"
        return self._new_invite((header, value))

    def _via(self, branch: str | None = None) -> str:
        host, port = self._transport.local_host, self._transport.local_port
        return f"SIP/2.0/UDP {host}:{port};branch={branch or new_branch()};rport"

    def _contact(self) -> str:
        host, port = self._transport.local_host, self._transport.local_port
        return f"<sip:ringfence@{host}:{port}>"

    def _offer(self) -> bytes:
        rtp_port = 0
        if self._rtp is not None and self._rtp.transport is not None:
            rtp_port = self._rtp.transport.get_extra_info("sockname")[1]
        return sdp.offer(
            session_id=abs(hash(self.call_id)) % 10**9,
            host=self._transport.local_host,
            rtp_port=rtp_port,
            codecs=self._account.codecs,
        )

    def _ack_failure(self, response: SipResponse) -> None:
        """ACK of a non-2xx final response: same transaction as the INVITE (§17.1.1.3)."""
        invite = self._invite
        assert invite is not None
        self._transport.send(
            SipRequest(
                method="ACK",
                uri=invite.uri,
                headers=(
                    ("Via", invite.header("Via") or ""),
                    ("Max-Forwards", "70"),
                    ("From", invite.header("From") or ""),
                    ("To", response.header("To") or ""),
                    ("Call-ID", self.call_id),
                    ("CSeq", f"{self._cseq} ACK"),
                ),
            )
        )

    def _send_cancel(self) -> None:
        """CANCEL of the INVITE (§9.1): its Request-URI, Call-ID, From, To, CSeq number and
        top Via (so the same branch) — a separate transaction the trunk matches to it."""
        invite = self._invite
        assert invite is not None
        self._transport.send(
            SipRequest(
                method="CANCEL",
                uri=invite.uri,
                headers=(
                    ("Via", invite.header("Via") or ""),
                    ("Max-Forwards", "70"),
                    ("From", invite.header("From") or ""),
                    ("To", invite.header("To") or ""),
                    ("Call-ID", self.call_id),
                    ("CSeq", f"{self._cseq} CANCEL"),
                    ("User-Agent", USER_AGENT),
                ),
            )
        )

    def _answered(self, response: SipResponse) -> None:
        """A 2xx: the dialog exists (§12.1.2); ACK it (a new transaction, §13.2.2.4)."""
        self._remote_tag = tag_of(response.header("To"))
        contact = response.header("Contact")
        if contact:
            self._remote_target = uri_of(split_commas(contact)[0])
        self._route_set = list(reversed(response.headers_named("Record-Route")))
        ack = self._in_dialog("ACK", cseq=self._cseq)
        self._acks[self._cseq] = ack
        self._transport.send(ack)
        self._answered_mono = time.monotonic()
        self.result.sip_status = response.status
        self.result.answered_after_s = self._elapsed()

    def _take_answer(self, response: SipResponse) -> bool:
        try:
            self._media = sdp.parse_answer(response.body, self._account.codecs)
        except sdp.SdpError as exc:
            self.result.notes.append(f"SDP answer: {exc}")
            self._send_bye()
            self.result.outcome = CallOutcome.FAILED
            self.result.reason = f"no usable audio in the answer ({exc})"
            return False
        self._rtp_peer = (self._media.host, self._media.port)
        self.answered.set()
        return True

    def _in_dialog(self, method: str, *, cseq: int | None = None) -> SipRequest:
        if cseq is None:
            self._cseq += 1
            cseq = self._cseq
        invite = self._invite
        assert invite is not None
        to = f"<{self.target_uri}>" + (f";tag={self._remote_tag}" if self._remote_tag else "")
        return SipRequest(
            method=method,
            uri=self._remote_target,
            headers=(
                ("Via", self._via()),
                *(("Route", route) for route in self._route_set),
                ("Max-Forwards", "70"),
                ("From", invite.header("From") or ""),
                ("To", to),
                ("Call-ID", self.call_id),
                ("CSeq", f"{cseq} {method}"),
                ("User-Agent", USER_AGENT),
            ),
        )

    def _send_bye(self) -> SipRequest:
        bye = self._in_dialog("BYE")
        self._transport.send(bye)
        return bye

    # -- media --------------------------------------------------------------------------------
    async def _media_phase(self) -> None:
        session = self._session
        media = self._media
        assert media is not None
        loop = asyncio.get_running_loop()
        if session is not None:
            start = StreamStart(
                call_key=self.key,
                call_sid=self.call_id,
                stream_sid=f"rtp-{media.host}:{media.port}",
                parameters={"codec": media.codec},
            )
            self._apply(session.on_start(start))
        silence = bytes([g711.MULAW_SILENCE if media.codec == "PCMU" else g711.ALAW_SILENCE])
        encode = g711.pcm16_to_mulaw if media.codec == "PCMU" else g711.pcm16_to_alaw
        ssrc = secrets.randbits(32)
        sequence = secrets.randbits(16)
        timestamp = secrets.randbits(32)
        started = loop.time()
        deadline = started + self._max_call_s
        ticks = 0
        while not self._ended.is_set():
            ticks += 1
            due = started + ticks * FRAME_S
            if due >= deadline:
                self.hang_up("limit")
                break
            delay = due - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ended.wait(), timeout=delay)
                if self._ended.is_set():
                    break
            payload = self._next_frame(encode) or silence * g711.FRAME_BYTES
            self._send_rtp(
                RtpPacket(media.payload_type, sequence, timestamp, ssrc, payload, marker=ticks == 1)
            )
            sequence += 1
            timestamp += g711.FRAME_BYTES
            if self._hangup_after_audio and not any(
                isinstance(item, bytes) for item in self._outbound
            ):
                self.hang_up("agent")
        if self._ending_by != "callee":
            await self._bye_transaction()
        self.result.hung_up_by = self._ending_by

    def _next_frame(self, encode: Callable[[bytes], bytes]) -> bytes | None:
        """The next 20 ms of the agent's audio, telling the session of the marks it passes."""
        while self._outbound:
            item = self._outbound.popleft()
            if isinstance(item, str):
                if self._session is not None:
                    self._apply(self._session.on_mark(item))
                continue
            if self._first_audio_mono is None and self._answered_mono is not None:
                self._first_audio_mono = time.monotonic()
                self.result.first_audio_after_answer_ms = (
                    self._first_audio_mono - self._answered_mono
                ) * 1000
            return encode(item)
        return None

    def _send_rtp(self, packet: RtpPacket) -> None:
        if self._rtp is None or self._rtp.transport is None or self._rtp_peer is None:
            return
        self._rtp.transport.sendto(packet.render(), self._rtp_peer)
        self.result.sent_packets += 1

    def _on_rtp(self, data: bytes, addr: tuple[str, int]) -> None:
        media = self._media
        if media is None or self._ended.is_set():
            return  # early media before the answer is not the callee speaking
        try:
            packet = parse_rtp(data)
        except RtpError:
            return
        if packet.payload_type != media.payload_type:
            return  # comfort noise, telephone events
        self.result.received_packets += 1
        decode = g711.mulaw_to_pcm16 if media.codec == "PCMU" else g711.alaw_to_pcm16
        pcm16 = decode(packet.payload)
        at = self._received_samples / g711.SAMPLE_RATE
        self._received_samples += len(packet.payload)
        if self._session is not None:
            self._apply(self._session.on_audio(pcm16, at))

    def _apply(self, actions: list[MediaAction]) -> None:
        for action in actions:
            match action:
                case OutboundAudio():
                    pcm = action.pcm16
                    for i in range(0, len(pcm), PCM_FRAME_BYTES):
                        frame = pcm[i : i + PCM_FRAME_BYTES]
                        self._outbound.append(frame.ljust(PCM_FRAME_BYTES, b"\x00"))
                    if action.mark is not None:
                        self._outbound.append(action.mark)
                case Clear():
                    dropped = [item for item in self._outbound if isinstance(item, str)]
                    self._outbound.clear()
                    if self._session is not None:
                        for mark in dropped:
                            self._apply(self._session.on_mark(mark))
                case Hangup():
                    self._hangup_after_audio = True

    async def _bye_transaction(self) -> None:
        """Send BYE, retransmitted (Timer E) until its final response or Timer F."""
        bye = self._send_bye()
        number = bye.cseq[0]
        interval, waited = T1, 0.0
        while waited < 64 * T1:
            try:
                response = await asyncio.wait_for(self._responses.get(), timeout=interval)
            except TimeoutError:
                waited += interval
                interval = min(interval * 2, 4.0)
                self._transport.send(bye)
                continue
            if response.cseq == (number, "BYE") and response.status >= 200:
                return
        self.result.notes.append("the BYE was never answered")
