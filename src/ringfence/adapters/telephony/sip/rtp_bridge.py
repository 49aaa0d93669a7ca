"""A SIP call's RTP, bridged to its `MediaSession`, on the endpoint's loop.

One 20 ms packet goes out every 20 ms on the loop's clock: the agent's audio, or silence
between its turns (RTP flows both ways for the whole call). Each packet that comes in from the
answered address is decoded to PCM16 and handed to the session, whose answers (audio, marks,
`Clear`, `Hangup`, `Transfer`) are applied at once: `Clear` drops the audio not sent yet
(barge-in) and reports its marks as dropped; `Hangup` ends the call once the queued audio is
out, and so does `Transfer` (the call then REFERs the callee to the staff line).

The bridge ends the call (`stop` is set, with who ended it) when the session hangs up, when the
longest call is reached, or when no RTP has come in for `silence_timeout_s` (the far end
vanished without a BYE, or one-way audio: the agent would otherwise wait for a turn forever).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, cast

from ringfence.adapters.telephony import g711
from ringfence.adapters.telephony.media import (
    Clear,
    Hangup,
    MediaAction,
    MediaSession,
    OutboundAudio,
    StreamStart,
    Transfer,
)
from ringfence.adapters.telephony.sip.rtp import RtpError, RtpPacket, parse_rtp
from ringfence.adapters.telephony.sip.sdp import MediaAnswer

FRAME_S: Final = g711.FRAME_MS / 1000
PCM_FRAME_BYTES: Final = g711.FRAME_BYTES * 2


class RtpSocket(asyncio.DatagramProtocol):
    """The call's RTP socket; packets go to `on_packet`."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.on_packet: Callable[[bytes, tuple[str, int]], None] = lambda data, addr: None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.on_packet(data, addr)

    @property
    def port(self) -> int:
        if self.transport is None:
            return 0
        port: int = self.transport.get_extra_info("sockname")[1]
        return port


@dataclass(slots=True)
class MediaStats:
    sent_packets: int = 0
    received_packets: int = 0
    first_audio_after_answer_ms: float | None = None
    ended_by: str | None = None  # "agent", "limit", "no_media"


class RtpBridge:
    def __init__(
        self,
        socket: RtpSocket,
        media: MediaAnswer,
        session: MediaSession | None,
        *,
        stop: asyncio.Event,
        max_call_s: float,
        silence_timeout_s: float = 20.0,
    ) -> None:
        self._socket = socket
        self._media = media
        self._session = session
        self._stop = stop
        self._max_call_s = max_call_s
        self._silence_timeout_s = silence_timeout_s
        self._outbound: deque[bytes | str] = deque()  # PCM16 frames and mark names
        self._hangup_after_audio = False
        # The session asked to hand the call to staff (`Transfer`): the call REFERs once the
        # agent's last words are out.
        self.transfer_to: str | None = None
        self._received_samples = 0
        self._answered = time.monotonic()
        self._last_heard = self._answered
        self.stats = MediaStats()
        pcmu = media.codec == "PCMU"
        self._encode = g711.pcm16_to_mulaw if pcmu else g711.pcm16_to_alaw
        self._decode = g711.mulaw_to_pcm16 if pcmu else g711.alaw_to_pcm16
        silence = g711.MULAW_SILENCE if pcmu else g711.ALAW_SILENCE
        self._silence = bytes([silence]) * g711.FRAME_BYTES
        socket.on_packet = self._on_packet

    def start(self, key: str, call_id: str) -> None:
        if self._session is not None:
            start = StreamStart(
                call_key=key,
                call_sid=call_id,
                stream_sid=f"rtp-{self._media.host}:{self._media.port}",
                parameters={"codec": self._media.codec},
            )
            self._apply(self._session.on_start(start))

    async def run(self) -> None:
        """Send a packet every 20 ms until the call ends (by anyone)."""
        loop = asyncio.get_running_loop()
        ssrc, sequence, timestamp = secrets.randbits(32), secrets.randbits(16), secrets.randbits(32)
        started = loop.time()
        ticks = 0
        while not self._stop.is_set():
            ticks += 1
            due = started + ticks * FRAME_S
            if due - started >= self._max_call_s:
                self._end("limit")
                return
            if time.monotonic() - self._last_heard >= self._silence_timeout_s:
                self._end("no_media")
                return
            delay = due - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                if self._stop.is_set():
                    return
            payload = self._next_frame() or self._silence
            self._send(
                RtpPacket(self._media.payload_type, sequence, timestamp, ssrc, payload, ticks == 1)
            )
            sequence += 1
            timestamp += g711.FRAME_BYTES
            if self._hangup_after_audio and not any(isinstance(i, bytes) for i in self._outbound):
                self._end("agent")
                return

    def _end(self, by: str) -> None:
        self.stats.ended_by = by
        self._stop.set()

    def _next_frame(self) -> bytes | None:
        """The next 20 ms of the agent's audio, telling the session of the marks it passes."""
        while self._outbound:
            item = self._outbound.popleft()
            if isinstance(item, str):
                if self._session is not None:
                    self._apply(self._session.on_mark(item))
                continue
            if self.stats.first_audio_after_answer_ms is None:
                self.stats.first_audio_after_answer_ms = (time.monotonic() - self._answered) * 1000
            return self._encode(item)
        return None

    def _send(self, packet: RtpPacket) -> None:
        transport = self._socket.transport
        if transport is None or transport.is_closing():
            return
        transport.sendto(packet.render(), (self._media.host, self._media.port))
        self.stats.sent_packets += 1

    def _on_packet(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._stop.is_set() or addr[0] != self._media.host:
            return  # after the end, or not from the answered address (the port may be NATed)
        try:
            packet = parse_rtp(data)
        except RtpError:
            return
        self._last_heard = time.monotonic()  # comfort noise counts: the far end is there
        if packet.payload_type != self._media.payload_type:
            return  # comfort noise, telephone events
        self.stats.received_packets += 1
        pcm16 = self._decode(packet.payload)
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
                case Transfer():
                    self._hangup_after_audio = True
                    self.transfer_to = action.to
