"""The media plane's seam: what a live call's audio is handed to, whatever the carrier.

A carrier's media endpoint (Twilio's Media Streams today, SIP/RTP next) decodes the callee's
audio to PCM16 and feeds a `MediaSession`; the session answers with audio to play (and marks
to be told when it has played) or `Clear` to stop playback at once. The speech pipeline
(`speech/pipeline.py`) is one implementation; the scripted and echo sessions of
`adapters/telephony/media.py` stand in for it in tests, demos and line checks. It lives with the
speech contracts, below the carriers: the carriers import it, the pipeline never imports a
carrier.

Contract, for every implementation:
- Audio in and out is mono signed 16-bit little-endian PCM at 8 kHz (`SAMPLE_RATE`).
- Every method is called on the carrier's event loop, one call at a time, and must return
  quickly: heavy work (speech-to-text, synthesis) runs on the session's own thread, and what it
  produces is returned from the next call (the carrier sends a frame every 20 ms).
- `on_mark(name)` says the audio queued before that mark has been played, or was dropped by a
  `Clear`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

SAMPLE_RATE: Final = 8_000


@dataclass(frozen=True, slots=True)
class StreamStart:
    """A call's audio stream has started."""

    call_key: str  # the dial's idempotency key: Ringfence's handle on the call
    call_sid: str  # the carrier's id of the call
    stream_sid: str
    parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboundAudio:
    """Audio to play to the callee, then (optionally) a mark to be told about once played."""

    pcm16: bytes
    mark: str | None = None

    def __post_init__(self) -> None:
        if len(self.pcm16) % 2:
            raise ValueError("PCM16 audio must hold whole 16-bit samples")


@dataclass(frozen=True, slots=True)
class Clear:
    """Stop playing at once and drop the audio queued so far (the callee barged in)."""


@dataclass(frozen=True, slots=True)
class Hangup:
    """End the call: the agent's last words have played (opt-out, goodbye, voicemail left)."""


@dataclass(frozen=True, slots=True)
class Transfer:
    """Hand the call to `to` (E.164, the practice's staff line) once the agent's last words
    have played: the callee asked for a person (a warm transfer). Carriers that can transfer
    do (SIP REFER, Twilio `<Dial>`); a session that is told the transfer failed
    (`TransferAware`) records it, and the call then ends as after a `Hangup`."""

    to: str


MediaAction = OutboundAudio | Clear | Hangup | Transfer


@runtime_checkable
class TransferAware(Protocol):
    """A session that wants to know when a transfer it asked for did not go through (said
    before `on_stop`, so the call's record carries it)."""

    def transfer_failed(self, why: str) -> None: ...


class MediaSession(Protocol):
    """One live call's audio, from the stream's start to its stop."""

    def on_start(self, start: StreamStart) -> list[MediaAction]: ...

    def on_audio(self, pcm16: bytes, at: float) -> list[MediaAction]:
        """The callee's next frame; `at` is seconds since the stream started."""
        ...

    def on_mark(self, name: str) -> list[MediaAction]: ...

    def on_stop(self) -> None: ...


# Builds the session of the call whose idempotency key is given (it may load the call's agent).
MediaSessionFactory = Callable[[str], MediaSession]
