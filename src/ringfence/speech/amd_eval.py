"""The answering-machine detector's evaluation: greetings rendered to audio, run, scored.

The cases live in `tests/data/amd/greetings.jsonl`, one JSON object a line, written as
recipes rather than audio (no binaries in the repository): who answers and what they say,
with pauses, beeps and line noise. `render` turns a recipe into 8 kHz PCM with any voice: the
local Piper voice (varied in pitch and pace per case), espeak-ng, or, with neither installed,
the speech-like babble of `speech.synth` (not speech; its timing follows the words). The
benchmark (`benchmarks/bench_amd.py`) runs every voice available; the unit tests run babble.

    {"id": "vm-carrier-beep", "expect": "machine",
     "parts": [{"pause": 0.3}, {"say": "The person you are trying to reach..."},
               {"pause": 0.4}, {"beep": 1000, "seconds": 0.5}, {"pause": 4}],
     "voice": {"pace": 1.1, "pitch": 0.95}, "noise_dbfs": -50}

Scoring: a case is right when the verdict is the expected one (`human`, `machine`, or
`unknown` for silence and noise). On machines with a beep, the message must start after the
beep has ended ("spoke over the beep" counts separately) and, to be useful, soon after it.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringfence.speech.amd import (
    AmdConfig,
    AmdDecision,
    AmdVerdict,
    AnsweringMachineDetector,
    ReadyForMessage,
)
from ringfence.speech.audio import CARRIER_RATE, SAMPLE_WIDTH, silence
from ringfence.speech.contracts import VoiceActivityDetector
from ringfence.speech.synth import babble, mix, noise, tone

SECONDS_PER_WORD = 0.3  # babble's stand-in for a word, at pace 1.0


@dataclass(frozen=True, slots=True)
class VoiceStyle:
    pace: float = 1.0  # > 1 speaks slower (Piper's length_scale)
    pitch: float = 1.0  # < 1 lower


@dataclass(frozen=True, slots=True)
class Part:
    kind: str  # "say", "pause", "beep", "babble"
    text: str = ""
    seconds: float = 0.0
    frequency_hz: float = 0.0


@dataclass(frozen=True, slots=True)
class AmdCase:
    id: str
    expect: AmdVerdict
    parts: tuple[Part, ...]
    voice: VoiceStyle = VoiceStyle()
    noise_dbfs: float | None = None
    note: str = ""


def parse_case(data: dict[str, Any]) -> AmdCase:
    parts: list[Part] = []
    for raw in data["parts"]:
        if "say" in raw:
            parts.append(Part("say", text=str(raw["say"])))
        elif "pause" in raw:
            parts.append(Part("pause", seconds=float(raw["pause"])))
        elif "beep" in raw:
            parts.append(
                Part(
                    "beep", seconds=float(raw.get("seconds", 0.5)), frequency_hz=float(raw["beep"])
                )
            )
        elif "babble" in raw:
            parts.append(Part("babble", seconds=float(raw["babble"])))
        else:
            raise ValueError(f"case {data.get('id')!r}: unknown part {raw!r}")
    voice = data.get("voice", {})
    return AmdCase(
        id=str(data["id"]),
        expect=AmdVerdict(data["expect"]),
        parts=tuple(parts),
        voice=VoiceStyle(float(voice.get("pace", 1.0)), float(voice.get("pitch", 1.0))),
        noise_dbfs=None if data.get("noise_dbfs") is None else float(data["noise_dbfs"]),
        note=str(data.get("note", "")),
    )


def load_cases(path: Path) -> list[AmdCase]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [parse_case(json.loads(line)) for line in lines if line.strip()]


# A voice: (text, style) -> 8 kHz PCM16 of that text spoken.
Voice = Callable[[str, VoiceStyle], bytes]


def babble_voice(text: str, style: VoiceStyle) -> bytes:
    """The engine-free voice: babble as long as the words would take, seeded by the text."""
    words = max(1, len(text.split()))
    return babble(
        words * SECONDS_PER_WORD * style.pace,
        seed=sum(map(ord, text)),
        pitch_hz=120.0 * style.pitch,
    )


@dataclass(frozen=True, slots=True)
class RenderedCase:
    case: AmdCase
    pcm: bytes
    beeps_ms: tuple[tuple[int, int], ...]  # (start, end) of every beep


def render(case: AmdCase, voice: Voice) -> RenderedCase:
    pieces: list[bytes] = []
    beeps: list[tuple[int, int]] = []
    at_ms = 0
    for part in case.parts:
        if part.kind == "say":
            pcm = voice(part.text, case.voice)
        elif part.kind == "babble":
            pcm = babble(part.seconds, seed=len(pieces), pitch_hz=120.0 * case.voice.pitch)
        elif part.kind == "beep":
            pcm = tone(part.seconds, part.frequency_hz, level_dbfs=-14.0)
            beeps.append((at_ms, at_ms + _ms(pcm)))
        else:
            pcm = silence(part.seconds, CARRIER_RATE)
        pieces.append(pcm)
        at_ms += _ms(pcm)
    audio = b"".join(pieces)
    if case.noise_dbfs is not None:
        audio = mix(
            audio,
            noise(
                len(audio) / (SAMPLE_WIDTH * CARRIER_RATE),
                level_dbfs=case.noise_dbfs,
                seed=len(case.id),
            ),
        )
    return RenderedCase(case, audio, tuple(beeps))


def _ms(pcm: bytes) -> int:
    return len(pcm) * 1000 // (SAMPLE_WIDTH * CARRIER_RATE)


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: AmdCase
    decision: AmdDecision | None
    ready: ReadyForMessage | None
    beeps_ms: tuple[tuple[int, int], ...]

    @property
    def verdict(self) -> AmdVerdict | None:
        return self.decision.verdict if self.decision else None

    @property
    def correct(self) -> bool:
        return self.verdict is self.case.expect

    @property
    def spoke_over_beep(self) -> bool:
        """The message would start before the last beep had finished."""
        if self.ready is None or not self.beeps_ms:
            return False
        return self.ready.at_ms < self.beeps_ms[-1][1]

    @property
    def wait_after_beep_ms(self) -> int | None:
        if self.ready is None or not self.beeps_ms:
            return None
        return self.ready.at_ms - self.beeps_ms[-1][1]


def run_case(
    rendered: RenderedCase,
    vad: VoiceActivityDetector,
    config: AmdConfig | None = None,
) -> CaseResult:
    detector = AnsweringMachineDetector(config or AmdConfig(frame_ms=vad.frame_ms))
    frame_bytes = SAMPLE_WIDTH * CARRIER_RATE * vad.frame_ms // 1000
    pcm = rendered.pcm
    for start in range(0, len(pcm) - frame_bytes + 1, frame_bytes):
        frame = pcm[start : start + frame_bytes]
        detector.observe(frame, speech=vad.is_speech(frame))
        if detector.done:
            break
    return CaseResult(rendered.case, detector.decision, detector.ready, rendered.beeps_ms)


@dataclass(frozen=True, slots=True)
class AmdReport:
    results: tuple[CaseResult, ...]
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return sum(r.correct for r in self.results) / len(self.results) if self.results else 0.0

    @property
    def machine_accuracy(self) -> float:
        """Right on the question that changes what the agent does: machine or not."""
        if not self.results:
            return 0.0
        right = sum(
            (r.verdict is AmdVerdict.MACHINE) == (r.case.expect is AmdVerdict.MACHINE)
            for r in self.results
        )
        return right / len(self.results)

    @property
    def median_decision_ms(self) -> float:
        times = [r.decision.at_ms for r in self.results if r.decision]
        return statistics.median(times) if times else 0.0

    def median_decision_ms_for(self, verdict: AmdVerdict) -> float:
        times = [r.decision.at_ms for r in self.results if r.decision and r.case.expect is verdict]
        return statistics.median(times) if times else 0.0

    @property
    def spoke_over_beep(self) -> int:
        return sum(r.spoke_over_beep for r in self.results)

    @property
    def wrong(self) -> list[CaseResult]:
        return [r for r in self.results if not r.correct]


def evaluate(
    cases: Iterable[AmdCase],
    voice: Voice,
    vad_factory: Callable[[], VoiceActivityDetector],
    config: AmdConfig | None = None,
) -> AmdReport:
    """Render every case with `voice` and run it with a fresh VAD from `vad_factory`."""
    results = tuple(run_case(render(case, voice), vad_factory(), config) for case in cases)
    confusion: dict[tuple[str, str], int] = {}
    for result in results:
        key = (result.case.expect.value, result.verdict.value if result.verdict else "none")
        confusion[key] = confusion.get(key, 0) + 1
    return AmdReport(results, confusion)


def format_report(name: str, report: AmdReport, *, show_wrong: bool = True) -> str:
    human = report.median_decision_ms_for(AmdVerdict.HUMAN)
    machine = report.median_decision_ms_for(AmdVerdict.MACHINE)
    lines = [
        f"{name}: {len(report.results)} cases, accuracy {report.accuracy:.1%} "
        f"(machine-or-not {report.machine_accuracy:.1%}), median decision "
        f"{report.median_decision_ms:.0f} ms (people {human:.0f}, machines {machine:.0f}), "
        f"spoke over a beep: {report.spoke_over_beep}",
    ]
    waits = [w for r in report.results if (w := r.wait_after_beep_ms) is not None]
    if waits:
        lines.append(f"  message starts {statistics.median(waits):.0f} ms after the beep (median)")
    lines.append(
        "  confusion (expected -> got): "
        + ", ".join(f"{e}->{g}: {n}" for (e, g), n in sorted(report.confusion.items()))
    )
    if show_wrong:
        for r in report.wrong:
            got = r.decision
            lines.append(
                f"  WRONG {r.case.id}: expected {r.case.expect.value}, got "
                f"{got.verdict.value if got else 'none'} ({got.reason.value if got else '-'} "
                f"at {got.at_ms if got else '-'} ms, greeting {got.greeting_ms if got else '-'} ms)"
            )
    return "\n".join(lines)
