"""The media plane's stand-in sessions: scripted clips and an echo, for tests, demos and line
checks, and `rms`. The seam itself (`MediaSession` and the actions it answers with) is
`speech/media.py`, re-exported here for the carriers that feed it.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from ringfence.speech.media import (
    SAMPLE_RATE,
    Clear,
    Hangup,
    MediaAction,
    MediaSession,
    MediaSessionFactory,
    OutboundAudio,
    StreamStart,
    Transfer,
    TransferAware,
)

__all__ = [
    "SAMPLE_RATE",
    "Clear",
    "EchoTestSession",
    "Hangup",
    "MediaAction",
    "MediaSession",
    "MediaSessionFactory",
    "OutboundAudio",
    "ScriptedMediaSession",
    "StreamStart",
    "Transfer",
    "TransferAware",
    "rms",
]

_BIG_ENDIAN: Final = array("h", [1]).tobytes() == b"\x00\x01"


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
