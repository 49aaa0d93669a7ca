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

Parts: `say` (text, in the case's voice), `pause` (seconds of silence), `beep` (a sine at that
frequency, `seconds` long, at `level_dbfs`, -14 by default), `babble` (seconds of speech-like
sound), `tone` (the network's call-progress tone: a list of frequencies played together,
`seconds` long in all, at `level_dbfs` in all, -20 by default; with `on` and `off`, in a
cadence of `on` seconds of tone and `off` of silence: `{"tone": [480, 620], "seconds": 6,
"on": 0.5, "off": 0.5}` is North America's busy tone; not a beep). Optional keys: `voice`
(`pace` > 1 slower, `pitch` < 1 lower, `lang` "en" or "es": the espeak-ng voice speaks
Spanish, Piper reads it with its English voice), `noise_dbfs` (white
hiss over the whole call), `hum_dbfs` (60 Hz mains hum with its 120/180 Hz harmonics), `line`
("telephone": the call goes through a 300-3,400 Hz band-pass and G.711 mu-law, as a phone
network would carry it) and `note`.

Scoring: a case is right when the verdict is the expected one (`human`, `machine`, or
`unknown` for silence and noise). On machines with a beep, the message must start after the
beep has ended ("spoke over the beep" counts separately) and, to be useful, soon after it.

The greeting's words: with a `transcriber` (16 kHz PCM16 -> text: the pipeline's speech-to-text,
Whisper tiny.en, in the benchmark), `run_case` runs the detector with words, as the pipeline
does: each `TranscribeGreeting` it asks for is transcribed from the rendered audio (resampled to
16 kHz as the pipeline does), so the figures include the speech-to-text's errors, and the text
is handed back `stt_latency_ms` later on the audio's clock (the time the transcription takes on
a live call; the detector asks for no other while one is out). The babble voice has no words:
`no_words` hears nothing. Without a transcriber the detector runs on timing and beeps alone.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringfence.speech.amd import (
    AmdDecision,
    AmdVerdict,
    AnsweringMachineDetector,
    ReadyForMessage,
    TranscribeGreeting,
)
from ringfence.speech.amd_config import AmdConfig
from ringfence.speech.audio import (
    CARRIER_RATE,
    SAMPLE_WIDTH,
    STT_RATE,
    pcm_of,
    resample,
    samples_of,
    silence,
)
from ringfence.speech.contracts import VoiceActivityDetector
from ringfence.speech.synth import babble, mix, noise, tone

SECONDS_PER_WORD = 0.25  # babble's stand-in for a word, at pace 1.0
COMMA_PAUSE_S = 0.12  # babble's pause at a comma (at pace 1.0)
SENTENCE_PAUSE_S = 0.35  # and at a sentence's end
BEEP_DBFS = -14.0
LINE_TONE_DBFS = -20.0
TELEPHONE_BAND_HZ = (300.0, 3_400.0)
HUM_HZ = 60.0
LINES = ("clean", "telephone")
# How long a greeting's transcription takes on a live call, on the audio's clock: Whisper
# tiny.en (beam 5, int8, two threads) took 0.3-0.55 s on 0.5-6 s of greeting on a shared
# two-core machine; the evaluation hands each transcript back this long after its audio ends.
STT_LATENCY_MS = 500

# A greeting's speech-to-text: 16 kHz PCM16 (from the greeting's first word) -> its text.
GreetingTranscriber = Callable[[bytes], str]


def no_words(pcm16_16k: bytes) -> str:
    """The transcriber of a voice without words (babble): it hears nothing."""
    return ""


@dataclass(frozen=True, slots=True)
class VoiceStyle:
    pace: float = 1.0  # > 1 speaks slower (Piper's length_scale)
    pitch: float = 1.0  # < 1 lower
    lang: str = "en"  # "en" or "es"


@dataclass(frozen=True, slots=True)
class Part:
    kind: str  # "say", "pause", "beep", "babble", "tone"
    text: str = ""
    seconds: float = 0.0
    frequency_hz: float = 0.0
    level_dbfs: float = BEEP_DBFS
    frequencies_hz: tuple[float, ...] = ()  # a tone's
    on_s: float = 0.0  # a tone's cadence (0: continuous)
    off_s: float = 0.0


@dataclass(frozen=True, slots=True)
class AmdCase:
    id: str
    expect: AmdVerdict
    parts: tuple[Part, ...]
    voice: VoiceStyle = VoiceStyle()
    noise_dbfs: float | None = None
    note: str = ""
    hum_dbfs: float | None = None
    line: str = "clean"

    @property
    def hard(self) -> bool:
        """Marked as a known hard case (its note starts with "hard")."""
        return self.note.startswith("hard")


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
                    "beep",
                    seconds=float(raw.get("seconds", 0.5)),
                    frequency_hz=float(raw["beep"]),
                    level_dbfs=float(raw.get("level_dbfs", BEEP_DBFS)),
                )
            )
        elif "babble" in raw:
            parts.append(Part("babble", seconds=float(raw["babble"])))
        elif "tone" in raw:
            parts.append(
                Part(
                    "tone",
                    seconds=float(raw["seconds"]),
                    level_dbfs=float(raw.get("level_dbfs", LINE_TONE_DBFS)),
                    frequencies_hz=tuple(float(f) for f in raw["tone"]),
                    on_s=float(raw.get("on", 0.0)),
                    off_s=float(raw.get("off", 0.0)),
                )
            )
        else:
            raise ValueError(f"case {data.get('id')!r}: unknown part {raw!r}")
    voice = data.get("voice", {})
    line = str(data.get("line", "clean"))
    if line not in LINES:
        raise ValueError(f"case {data.get('id')!r}: line must be one of {LINES}, not {line!r}")
    return AmdCase(
        id=str(data["id"]),
        expect=AmdVerdict(data["expect"]),
        parts=tuple(parts),
        voice=VoiceStyle(
            float(voice.get("pace", 1.0)),
            float(voice.get("pitch", 1.0)),
            str(voice.get("lang", "en")),
        ),
        noise_dbfs=None if data.get("noise_dbfs") is None else float(data["noise_dbfs"]),
        note=str(data.get("note", "")),
        hum_dbfs=None if data.get("hum_dbfs") is None else float(data["hum_dbfs"]),
        line=line,
    )


def load_cases(path: Path) -> list[AmdCase]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [parse_case(json.loads(line)) for line in lines if line.strip()]


# A voice: (text, style) -> 8 kHz PCM16 of that text spoken.
Voice = Callable[[str, VoiceStyle], bytes]


def babble_voice(text: str, style: VoiceStyle) -> bytes:
    """The engine-free voice: babble as long as the words would take, seeded by the text,
    one phrase per clause with a short pause at a comma and a longer one between sentences
    (as a text-to-speech voice pauses at punctuation)."""
    pieces: list[bytes] = []
    clauses = [c for c in re.split(r"(?<=[,;:.?!])\s+", text.strip()) if c]
    for index, clause in enumerate(clauses):
        words = max(1, len(clause.split()))
        pieces.append(
            babble(
                words * SECONDS_PER_WORD * style.pace,
                seed=sum(map(ord, clause)) + index,
                pitch_hz=120.0 * style.pitch,
            )
        )
        if index < len(clauses) - 1:
            gap = SENTENCE_PAUSE_S if clause[-1] in ".?!" else COMMA_PAUSE_S
            pieces.append(silence(gap * style.pace, CARRIER_RATE))
    return b"".join(pieces)


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
            pcm = tone(part.seconds, part.frequency_hz, level_dbfs=part.level_dbfs)
            beeps.append((at_ms, at_ms + _ms(pcm)))
        elif part.kind == "tone":
            pcm = line_tone(part)
        else:
            pcm = silence(part.seconds, CARRIER_RATE)
        pieces.append(pcm)
        at_ms += _ms(pcm)
    audio = b"".join(pieces)
    seconds = len(audio) / (SAMPLE_WIDTH * CARRIER_RATE)
    if case.hum_dbfs is not None:
        audio = mix(audio, hum(seconds, level_dbfs=case.hum_dbfs))
    if case.noise_dbfs is not None:
        audio = mix(audio, noise(seconds, level_dbfs=case.noise_dbfs, seed=len(case.id)))
    if case.line == "telephone":
        audio = telephone_line(audio)
    return RenderedCase(case, audio, tuple(beeps))


def line_tone(part: Part, sample_rate: int = CARRIER_RATE) -> bytes:
    """A call-progress tone: its frequencies together (`level_dbfs` rms in all), in its
    cadence (on/off), `seconds` long."""
    count = round(part.seconds * sample_rate)
    share = part.level_dbfs - 10 * math.log10(max(1, len(part.frequencies_hz)))
    burst = part.on_s if part.on_s > 0 else part.seconds
    cycle = mix(*(tone(burst, f, level_dbfs=share) for f in part.frequencies_hz))
    if part.on_s > 0:
        cycle += silence(part.off_s, sample_rate)
    pieces: list[bytes] = []
    while sum(map(len, pieces)) < SAMPLE_WIDTH * count and cycle:
        pieces.append(cycle)
    return b"".join(pieces)[: SAMPLE_WIDTH * count]


def hum(seconds: float, *, level_dbfs: float, sample_rate: int = CARRIER_RATE) -> bytes:
    """Mains hum: 60 Hz with its 2nd and 3rd harmonics (at half and a third the amplitude),
    `level_dbfs` rms in all."""
    weights = (1.0, 0.5, 1 / 3)
    peak = 32_768 * 10 ** (level_dbfs / 20) * math.sqrt(2 / sum(w * w for w in weights))
    step = [2 * math.pi * HUM_HZ * (k + 1) / sample_rate for k in range(len(weights))]
    return pcm_of(
        round(peak * sum(w * math.sin(s * n) for w, s in zip(weights, step, strict=True)))
        for n in range(round(seconds * sample_rate))
    )


def telephone_line(pcm: bytes, *, sample_rate: int = CARRIER_RATE) -> bytes:
    """`pcm` as a phone network carries it: band-passed to 300-3,400 Hz (two second-order
    Butterworth sections each side) and through G.711 mu-law (8 bits a sample)."""
    x = [float(s) for s in samples_of(pcm)]
    low, high = TELEPHONE_BAND_HZ
    for kind, corner in (("high", low), ("high", low), ("low", high), ("low", high)):
        x = _biquad(x, kind, corner, sample_rate)
    return pcm_of(_mulaw_round_trip(v) for v in x)


def _biquad(x: list[float], kind: str, corner_hz: float, sample_rate: int) -> list[float]:
    """A second-order Butterworth high- or low-pass (the RBJ cookbook's, Q = 1/sqrt(2))."""
    w0 = 2 * math.pi * corner_hz / sample_rate
    alpha = math.sin(w0) / math.sqrt(2)
    cos = math.cos(w0)
    if kind == "low":
        b = ((1 - cos) / 2, 1 - cos, (1 - cos) / 2)
    else:
        b = ((1 + cos) / 2, -(1 + cos), (1 + cos) / 2)
    a0, a1, a2 = 1 + alpha, -2 * cos, 1 - alpha
    b0, b1, b2 = (v / a0 for v in b)
    a1, a2 = a1 / a0, a2 / a0
    out: list[float] = []
    x1 = x2 = y1 = y2 = 0.0
    for v in x:
        y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        x2, x1, y2, y1 = x1, v, y1, y
        out.append(y)
    return out


def _mulaw_round_trip(sample: float, mu: float = 255.0) -> int:
    """One sample through mu-law companding quantized to 8 bits, and back."""
    v = max(-1.0, min(1.0, sample / 32_768))
    code = round(math.copysign(math.log1p(mu * abs(v)) / math.log1p(mu), v) * 127)
    return round(math.copysign(math.expm1(abs(code) / 127 * math.log1p(mu)) / mu, code) * 32_767)


def _ms(pcm: bytes) -> int:
    return len(pcm) * 1000 // (SAMPLE_WIDTH * CARRIER_RATE)


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: AmdCase
    decision: AmdDecision | None
    ready: ReadyForMessage | None
    beeps_ms: tuple[tuple[int, int], ...]
    heard: str = ""  # the last transcript handed to the detector (synthetic speech, no PHI)
    transcriptions: int = 0

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
    *,
    transcriber: GreetingTranscriber | None = None,
    stt_latency_ms: int = STT_LATENCY_MS,
) -> CaseResult:
    """Run the detector over the case's audio, frame by frame; with a `transcriber`, with the
    greeting's words (see the module docstring)."""
    detector = AnsweringMachineDetector(
        config or AmdConfig(frame_ms=vad.frame_ms), words=transcriber is not None
    )
    frame_bytes = SAMPLE_WIDTH * CARRIER_RATE * vad.frame_ms // 1000
    pcm = rendered.pcm
    due: tuple[int, str, int] | None = None  # (hand back at, text, until_ms)
    heard = ""
    transcriptions = 0
    for start in range(0, len(pcm) - frame_bytes + 1, frame_bytes):
        if due is not None and detector.now_ms >= due[0]:
            detector.hear(due[1], until_ms=due[2])
            heard, due = due[1], None
        frame = pcm[start : start + frame_bytes]
        for event in detector.observe(frame, speech=vad.is_speech(frame)):
            if isinstance(event, TranscribeGreeting) and transcriber is not None:
                text = transcriber(greeting_audio(pcm, event))
                transcriptions += 1
                due = (event.until_ms + stt_latency_ms, text, event.until_ms)
        if detector.done:
            break
    return CaseResult(
        rendered.case, detector.decision, detector.ready, rendered.beeps_ms, heard, transcriptions
    )


def greeting_audio(pcm: bytes, request: TranscribeGreeting) -> bytes:
    """The stretch of the call's 8 kHz audio a request names, at 16 kHz (as the pipeline
    resamples what it hands its speech-to-text)."""
    start = SAMPLE_WIDTH * (request.from_ms * CARRIER_RATE // 1000)
    end = SAMPLE_WIDTH * (request.until_ms * CARRIER_RATE // 1000)
    return resample(pcm[start:end], CARRIER_RATE, STT_RATE)


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
    *,
    transcriber: GreetingTranscriber | None = None,
    stt_latency_ms: int = STT_LATENCY_MS,
) -> AmdReport:
    """Render every case with `voice` and run it with a fresh VAD from `vad_factory` (and the
    greeting's words from `transcriber`, if given)."""
    results = tuple(
        run_case(
            render(case, voice),
            vad_factory(),
            config,
            transcriber=transcriber,
            stt_latency_ms=stt_latency_ms,
        )
        for case in cases
    )
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
    asked = sum(r.transcriptions for r in report.results)
    if asked:
        by_words = [r.decision for r in report.results if r.decision and r.decision.cue]
        lines.append(
            f"  greeting transcriptions: {asked} ({asked / len(report.results):.1f} a case); "
            f"decided by words: {sum(d.verdict is AmdVerdict.MACHINE for d in by_words)} "
            f"machines, {sum(d.verdict is AmdVerdict.HUMAN for d in by_words)} people"
        )
    hard = sum(r.case.hard for r in report.wrong)
    if report.wrong:
        lines.append(f"  wrong: {len(report.wrong)}, of which {hard} marked hard in their note")
    if show_wrong:
        for r in report.wrong:
            got = r.decision
            lines.append(
                f"  WRONG{' (hard)' if r.case.hard else ''} {r.case.id}: expected "
                f"{r.case.expect.value}, got "
                f"{got.verdict.value if got else 'none'} ({got.reason.value if got else '-'} "
                f"at {got.at_ms if got else '-'} ms, greeting {got.greeting_ms if got else '-'} ms"
                f"{', cue ' + repr(got.cue) if got and got.cue else ''})"
                + (f" heard {r.heard!r}" if r.heard else "")
            )
    return "\n".join(lines)
