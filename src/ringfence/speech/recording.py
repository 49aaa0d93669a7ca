"""Both legs of a live call, on one timeline, for the recording and its transcript offsets.

The timeline is the inbound audio's: millisecond t is t ms of the callee's audio after the
answer, so the recording, the transcript offsets and the end-pointing all share one clock.
The inbound leg is contiguous (the carrier sends audio, silence included, all call long);
the agent's leg is placed where each piece of audio was scheduled to play, and cut where a
barge-in stopped it, so the recording holds what the callee actually heard.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from ringfence.speech.audio import CARRIER_RATE, SAMPLE_WIDTH, pcm_of, samples_of
from ringfence.speech.contracts import Audio


@dataclass(frozen=True, slots=True)
class PlacedAudio:
    start_ms: int
    pcm: bytes


class CallRecorder:
    def __init__(self, sample_rate: int = CARRIER_RATE) -> None:
        self.sample_rate = sample_rate
        self._inbound = bytearray()
        self._outbound: list[PlacedAudio] = []

    @property
    def inbound_ms(self) -> int:
        return len(self._inbound) * 1000 // (SAMPLE_WIDTH * self.sample_rate)

    def add_inbound(self, pcm: bytes) -> None:
        self._inbound += pcm

    def add_outbound(self, start_ms: int, pcm: bytes) -> None:
        self._outbound.append(PlacedAudio(start_ms, pcm))

    def cut_outbound(self, at_ms: int) -> None:
        """Nothing the agent was to say from `at_ms` on was heard: drop it."""
        kept: list[PlacedAudio] = []
        for piece in self._outbound:
            if piece.start_ms >= at_ms:
                continue
            heard = self._bytes(at_ms - piece.start_ms)
            kept.append(PlacedAudio(piece.start_ms, piece.pcm[:heard]))
        self._outbound = kept

    def legs(self) -> tuple[Audio, Audio]:
        """(callee, agent): each a whole-call track from the answer, of equal length."""
        end = max(
            [len(self._inbound)] + [self._bytes(p.start_ms) + len(p.pcm) for p in self._outbound]
        )
        inbound = bytes(self._inbound) + bytes(end - len(self._inbound))
        outbound = array("h", bytes(end))
        for piece in self._outbound:
            offset = self._bytes(piece.start_ms) // SAMPLE_WIDTH
            samples = samples_of(piece.pcm)
            outbound[offset : offset + len(samples)] = samples
        return (
            Audio(inbound, self.sample_rate),
            Audio(pcm_of(outbound), self.sample_rate),
        )

    def mixed(self) -> Audio:
        return mix_legs(*self.legs())

    def _bytes(self, ms: int) -> int:
        return SAMPLE_WIDTH * (ms * self.sample_rate // 1000)


def mix_legs(callee: Audio, agent: Audio) -> Audio:
    """Both legs in one mono track, as a listener on the line would hear them."""
    if callee.sample_rate != agent.sample_rate:
        raise ValueError("both legs must have the same sample rate")
    a, b = samples_of(callee.pcm), samples_of(agent.pcm)
    if len(a) < len(b):
        a, b = b, a
    mixed = array("h", a)
    for i, value in enumerate(b):
        if value:
            mixed[i] = max(-32_768, min(32_767, mixed[i] + value))
    return Audio(pcm_of(mixed), callee.sample_rate)
