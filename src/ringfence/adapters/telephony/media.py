"""The media plane's seam: what a live call's audio is handed to, whatever the carrier.

A carrier's media endpoint (Twilio's Media Streams today, SIP/RTP next) decodes the callee's
audio to PCM16 and feeds a `MediaSession`; the session answers with audio to play (and marks
to be told when it has played) or `Clear` to stop playback at once. The speech pipeline
(`ringfence.speech`) is one implementation; the scripted and echo sessions here stand in for
it in tests, demos and line checks.

Contract, for every implementation:
- Audio in and out is mono signed 16-bit little-endian PCM at 8 kHz (`SAMPLE_RATE`).
- Every method is called on the carrier's event loop, one call at a time, and must return
  quickly: heavy work (speech-to-text, synthesis) runs on the session's own thread, and what it
  produces is returned from the next call (the carrier sends a frame every 20 ms).
- `on_mark(name)` says the audio queued before that mark has been played, or was dropped by a
  `Clear`.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

SAMPLE_RATE: Final = 8_000
_BIG_ENDIAN: Final = array("h", [1]).tobytes() == b"\x00\x01"


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


def rms(pcm16: bytes) -> float:
    """Root-mean-square level of a PCM16 frame, 0..32768 (0 for an empty frame)."""
    samples = array("h", pcm16[: len(pcm16) - len(pcm16) % 2])
    if _BIG_ENDIAN:
        samples.byteswap()
    if not samples:
        return 0.0
    return math.sqrt(math.fsum(s * s for s in samples) / len(samples))


class ScriptedMediaSession:
    """Plays pre-rendered clips in turn, and stops playing the moment the callee talks over it.

    The first clip (the opening) plays when the stream starts; each next one once the callee has
    spoken and gone quiet. Speech is told by level: `speech_frames` loud frames in a row start
    it (so a click is not speech), `quiet_frames` quiet ones end it. While a clip plays,
    speech starts a barge-in: `Clear`, and the clip counts as interrupted.
    """

    def __init__(
        self,
        clips: Sequence[bytes],
        *,
        speech_rms: float = 500.0,
        speech_frames: int = 2,
        quiet_frames: int = 25,
    ) -> None:
        self._clips = list(clips)
        self._speech_rms = speech_rms
        self._speech_frames = speech_frames
        self._quiet_frames = quiet_frames
        self._next = 0
        self._playing: str | None = None
        self._loud = 0
        self._quiet = 0
        self._speaking = False
        # What happened, for tests and logs: speech onsets, barge-ins (seconds), played marks.
        self.start: StreamStart | None = None
        self.speech_at: list[float] = []
        self.barge_ins: list[float] = []
        self.played: list[str] = []
        self.stopped = False

    @property
    def playing(self) -> bool:
        return self._playing is not None

    def on_start(self, start: StreamStart) -> list[MediaAction]:
        self.start = start
        return self._play_next()

    def on_audio(self, pcm16: bytes, at: float) -> list[MediaAction]:
        if rms(pcm16) >= self._speech_rms:
            self._loud += 1
            self._quiet = 0
            if not self._speaking and self._loud >= self._speech_frames:
                self._speaking = True
                self.speech_at.append(at)
                if self._playing is not None:
                    self._playing = None
                    self.barge_ins.append(at)
                    return [Clear()]
            return []
        self._quiet += 1
        self._loud = 0
        if self._speaking and self._quiet >= self._quiet_frames:
            self._speaking = False
            return self._play_next()
        return []

    def on_mark(self, name: str) -> list[MediaAction]:
        if name == self._playing:  # marks of cleared audio come back too: they are not played
            self._playing = None
            self.played.append(name)
        return []

    def on_stop(self) -> None:
        self.stopped = True

    def _play_next(self) -> list[MediaAction]:
        if self._next >= len(self._clips):
            return []
        mark = f"clip-{self._next}"
        clip = self._clips[self._next]
        self._next += 1
        self._playing = mark
        return [OutboundAudio(clip, mark=mark)]


class EchoTestSession:
    """Plays the callee's own audio back (a line check: say something, hear yourself)."""

    def __init__(self) -> None:
        self.frames = 0

    def on_start(self, start: StreamStart) -> list[MediaAction]:
        return []

    def on_audio(self, pcm16: bytes, at: float) -> list[MediaAction]:
        self.frames += 1
        return [OutboundAudio(pcm16)]

    def on_mark(self, name: str) -> list[MediaAction]:
        return []

    def on_stop(self) -> None:
        return None


if TYPE_CHECKING:  # mypy proves both keep the session contract

    def _conforms(scripted: ScriptedMediaSession, echo: EchoTestSession) -> list[MediaSession]:
        return [scripted, echo]
