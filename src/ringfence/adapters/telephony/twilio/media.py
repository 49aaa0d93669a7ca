"""Twilio Media Streams, without I/O: the WebSocket messages as typed values, G.711 µ-law, and
the bridge between one bidirectional stream and a `MediaSession`.

From Twilio: `connected`, then `start` (streamSid, callSid, customParameters, mediaFormat
audio/x-mulaw 8000 Hz mono), `media` (base64 µ-law, track `inbound`, 20 ms each), `dtmf`,
`mark` (a mark we sent has played, or was dropped by `clear`), `stop`. To Twilio: `media`
(base64 µ-law to play; Twilio queues it), `mark` (tell us when playback reaches here) and
`clear` (drop what is queued: barge-in). The route in `entrypoints/api/carriers/twilio.py` only
moves text between the socket and `StreamBridge`.

µ-law comes from `g711.py`, shared with the SIP carrier.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ringfence.adapters.telephony.g711 import (
    SAMPLE_RATE,
    frames,
    mulaw_to_pcm16,
    pcm16_to_mulaw,
)
from ringfence.adapters.telephony.media import (
    Clear,
    Hangup,
    MediaAction,
    MediaSession,
    MediaSessionFactory,
    OutboundAudio,
    StreamStart,
    Transfer,
)

MULAW_ENCODING: Final = "audio/x-mulaw"

# --- Messages from Twilio -------------------------------------------------------------------


class ProtocolError(ValueError):
    """A message that is not Media Streams JSON, or lacks what its event requires."""


@dataclass(frozen=True, slots=True)
class Connected:
    protocol: str
    version: str


@dataclass(frozen=True, slots=True)
class MediaFormat:
    encoding: str
    sample_rate: int
    channels: int


@dataclass(frozen=True, slots=True)
class Start:
    sequence_number: int
    stream_sid: str
    account_sid: str
    call_sid: str
    tracks: tuple[str, ...]
    media_format: MediaFormat
    custom_parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Media:
    sequence_number: int
    stream_sid: str
    track: str
    chunk: int
    timestamp_ms: int  # since the stream started
    payload: bytes  # µ-law, decoded from base64


@dataclass(frozen=True, slots=True)
class Mark:
    sequence_number: int
    stream_sid: str
    name: str


@dataclass(frozen=True, slots=True)
class Dtmf:
    sequence_number: int
    stream_sid: str
    track: str
    digit: str


@dataclass(frozen=True, slots=True)
class Stop:
    sequence_number: int
    stream_sid: str
    account_sid: str
    call_sid: str


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event this code does not know (Twilio may add some): ignored, not an error."""

    event: str


InboundMessage = Connected | Start | Media | Mark | Dtmf | Stop | UnknownEvent


def parse_message(text: str | bytes) -> InboundMessage:
    """One WebSocket text frame from Twilio. Raises ProtocolError when malformed."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ProtocolError("a message must be a JSON object")
    event = _str(data, "event")
    match event:
        case "connected":
            return Connected(_str(data, "protocol", ""), _str(data, "version", ""))
        case "start":
            start = _obj(data, "start")
            fmt = _obj(start, "mediaFormat")
            params = start.get("customParameters") or {}
            if not isinstance(params, dict):
                raise ProtocolError("customParameters must be an object")
            tracks = start.get("tracks") or []
            if not isinstance(tracks, list):
                raise ProtocolError("tracks must be a list")
            return Start(
                sequence_number=_int(data, "sequenceNumber"),
                stream_sid=_str(start, "streamSid", "") or _str(data, "streamSid"),
                account_sid=_str(start, "accountSid", ""),
                call_sid=_str(start, "callSid"),
                tracks=tuple(str(t) for t in tracks),
                media_format=MediaFormat(
                    _str(fmt, "encoding"), _int(fmt, "sampleRate"), _int(fmt, "channels", 1)
                ),
                custom_parameters={str(k): str(v) for k, v in params.items()},
            )
        case "media":
            media = _obj(data, "media")
            try:
                payload = base64.b64decode(_str(media, "payload"), validate=True)
            except binascii.Error as exc:
                raise ProtocolError(f"media payload is not base64: {exc}") from exc
            return Media(
                sequence_number=_int(data, "sequenceNumber"),
                stream_sid=_str(data, "streamSid"),
                track=_str(media, "track", "inbound"),
                chunk=_int(media, "chunk", 0),
                timestamp_ms=_int(media, "timestamp", 0),
                payload=payload,
            )
        case "mark":
            mark = _obj(data, "mark")
            return Mark(_int(data, "sequenceNumber"), _str(data, "streamSid"), _str(mark, "name"))
        case "dtmf":
            dtmf = _obj(data, "dtmf")
            return Dtmf(
                _int(data, "sequenceNumber"),
                _str(data, "streamSid"),
                _str(dtmf, "track", "inbound_track"),
                _str(dtmf, "digit"),
            )
        case "stop":
            stop = data.get("stop") or {}
            if not isinstance(stop, dict):
                raise ProtocolError("stop must be an object")
            return Stop(
                _int(data, "sequenceNumber"),
                _str(data, "streamSid"),
                _str(stop, "accountSid", ""),
                _str(stop, "callSid", ""),
            )
        case _:
            return UnknownEvent(event)


_MISSING: Final = object()


def _str(data: dict[str, Any], name: str, default: object = _MISSING) -> str:
    value = data.get(name, default)
    if value is _MISSING or value is None:
        raise ProtocolError(f"{name!r} is missing")
    if not isinstance(value, str):
        raise ProtocolError(f"{name!r} must be a string")
    return value


def _int(data: dict[str, Any], name: str, default: object = _MISSING) -> int:
    value = data.get(name, default)
    if value is _MISSING or value is None:
        raise ProtocolError(f"{name!r} is missing")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ProtocolError(f"{name!r} must be a number")
    try:
        return int(value)  # Twilio sends most numbers as strings
    except ValueError as exc:
        raise ProtocolError(f"{name!r} must be a number") from exc


def _obj(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise ProtocolError(f"{name!r} must be an object")
    return value


# --- Messages to Twilio ---------------------------------------------------------------------


def media_message(stream_sid: str, mulaw: bytes) -> str:
    payload = base64.b64encode(mulaw).decode("ascii")
    return json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def mark_message(stream_sid: str, name: str) -> str:
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    return json.dumps({"event": "clear", "streamSid": stream_sid})


# --- One stream -----------------------------------------------------------------------------


class StreamRejected(Exception):
    """The stream must be closed: it is not the call it claims to be, or not audio we speak."""


class StreamBridge:
    """One bidirectional stream: Twilio's messages in, the session's answers out as messages.

    `expected_call_sid` binds the stream to the call Ringfence placed under its key (from the
    signed callback or the dial's answer): a `start` for another call is rejected.
    """

    def __init__(
        self,
        call_key: str,
        sessions: MediaSessionFactory,
        *,
        expected_call_sid: str | None = None,
    ) -> None:
        self.call_key = call_key
        self._sessions = sessions
        self._expected_call_sid = expected_call_sid
        self.stream_sid: str | None = None
        self.call_sid: str | None = None
        self.session: MediaSession | None = None
        self.done = False
        # The session asked to end the call (`Hangup`): the endpoint hangs up through the carrier.
        self.hangup_requested = False
        # ... or to hand it to staff (`Transfer`): the endpoint transfers through the carrier.
        self.transfer_to: str | None = None

    def handle(self, message: InboundMessage) -> list[str]:
        """The messages to send back for `message` (raises StreamRejected)."""
        match message:
            case Start():
                return self._start(message)
            case Media():
                if message.track != "inbound" or self.session is None:
                    return []
                pcm16 = mulaw_to_pcm16(message.payload)
                return self._send(self.session.on_audio(pcm16, message.timestamp_ms / 1000))
            case Mark():
                if self.session is None:
                    return []
                return self._send(self.session.on_mark(message.name))
            case Stop():
                self.close()
                return []
            case _:  # connected, dtmf, events this code does not know
                return []

    def close(self) -> None:
        """The stream ended (a stop, or the socket went away): tell the session once."""
        if not self.done and self.session is not None:
            self.session.on_stop()
        self.done = True

    def _start(self, start: Start) -> list[str]:
        if self.session is not None:
            raise StreamRejected("a second start on one stream")
        if self._expected_call_sid is not None and start.call_sid != self._expected_call_sid:
            raise StreamRejected(f"stream of call {start.call_sid}, not of this key's call")
        fmt = start.media_format
        if (fmt.encoding, fmt.sample_rate, fmt.channels) != (MULAW_ENCODING, SAMPLE_RATE, 1):
            raise StreamRejected(f"unsupported media format {fmt}")
        self.stream_sid = start.stream_sid
        self.call_sid = start.call_sid
        self.session = self._sessions(self.call_key)
        return self._send(
            self.session.on_start(
                StreamStart(
                    call_key=self.call_key,
                    call_sid=start.call_sid,
                    stream_sid=start.stream_sid,
                    parameters=dict(start.custom_parameters),
                )
            )
        )

    def _send(self, actions: list[MediaAction]) -> list[str]:
        sid = self.stream_sid
        if sid is None:
            return []
        out: list[str] = []
        for action in actions:
            match action:
                case OutboundAudio():
                    out.extend(media_message(sid, f) for f in frames(pcm16_to_mulaw(action.pcm16)))
                    if action.mark is not None:
                        out.append(mark_message(sid, action.mark))
                case Clear():
                    out.append(clear_message(sid))
                case Hangup():
                    self.hangup_requested = True
                case Transfer():
                    self.transfer_to = action.to
        return out
