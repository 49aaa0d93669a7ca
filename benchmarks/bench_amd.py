"""Answering-machine detection: accuracy and decision time on the greeting evaluation set.

    .venv/bin/python benchmarks/bench_amd.py [--voices babble,piper,espeak] [--vads ...]
        [--cases tests/data/amd/greetings.jsonl] [--no-words] [--stt-latency-ms 500]
        [--stt-cache FILE] [--summary-only]

Every case of the recipe file (by default the tuning set, tests/data/amd/greetings.jsonl:
people saying hello or answering a business line, in English and Spanish; voicemail greetings
long and short, with beeps of 400-2,500 Hz, two beeps or none; silence, hiss, hum, a modem
tone; clean, noisy and telephone-band lines; `tests/data/amd/greetings_more.jsonl` widens it
with 107 more: business and Spanish answers, two hellos, asides, long personal answers, boxes
without a beep, carrier, mailbox-full and IVR recordings, beeps across the band, two beeps;
`greetings_tones.jsonl` holds the network's call-progress tones, dead air and bare beeps) is
rendered with each voice that is installed and run through the detector with each VAD:
- voices: `babble` (speech-like synthetic sound, always there), `piper` (the local neural
  voice, varied in pitch and pace per case; the speech extra; its model draws random noise, so
  it is seeded: the same file renders the same audio), `espeak` (espeak-ng, when on PATH; a
  female variant for the higher-pitched cases, its Spanish voice for the Spanish ones);
- VADs: `gated` (WebRTC VAD behind the noise floor: what live calls use), `webrtc` (bare),
  `energy` (the pure fallback).
The detector hears the greeting's words as the pipeline does: each stretch of greeting it asks
for is transcribed by the pipeline's speech-to-text (Whisper tiny.en, `WhisperStt.bundled()`,
the speech extra) from the rendered audio, so ASR errors count, and handed back
`--stt-latency-ms` later on the audio's clock; babble has no words (it hears nothing).
`--no-words` runs timing and beeps alone (the detector before words). `--stt-cache FILE` keeps
transcripts by audio (SHA-256) between runs: the same audio gives the same text, and re-runs
take seconds, not minutes.
Prints accuracy (exact, and on "machine or not"), median decision time after the answer (all,
people, machines), how long after the beep the message starts, and every case it got wrong
(those marked hard in their note are tagged; `--summary-only` prints none: for the frozen
split), then a summary table. Figures only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from ringfence.adapters.speech import (
    EnergyVad,
    NoiseGatedVad,
    WebRtcVad,
    piper_installed,
    webrtcvad_installed,
    whisper_installed,
)
from ringfence.speech.amd import AmdVerdict
from ringfence.speech.amd_eval import (
    STT_LATENCY_MS,
    AmdReport,
    GreetingTranscriber,
    Voice,
    VoiceStyle,
    babble_voice,
    evaluate,
    format_report,
    load_cases,
    no_words,
)
from ringfence.speech.audio import CARRIER_RATE
from ringfence.speech.contracts import VoiceActivityDetector

CASES = Path(__file__).resolve().parents[1] / "tests" / "data" / "amd" / "greetings.jsonl"
PIPER_SEED = 1


def remembered(voice: Voice) -> Voice:
    """`voice`, each text and style spoken once: every VAD hears the same audio."""
    said: dict[tuple[str, VoiceStyle], bytes] = {}

    def say(text: str, style: VoiceStyle) -> bytes:
        if (text, style) not in said:
            said[text, style] = voice(text, style)
        return said[text, style]

    return say


def piper_voice(seed: int = PIPER_SEED) -> Voice:
    import onnxruntime  # type: ignore[import-untyped, import-not-found, unused-ignore]

    from ringfence.adapters.speech.piper import PiperTts
    from ringfence.adapters.speech.resampling import resample_np

    # Piper's model draws random noise (its durations and timbre vary from one run to the
    # next); seeded before the model loads, a run of the same cases renders the same audio.
    onnxruntime.set_seed(seed)
    base = PiperTts.bundled(sample_rate=None)  # the voice's own rate, resampled below

    def say(text: str, style: VoiceStyle) -> bytes:
        audio = base.variant(length_scale=style.pace, pitch=style.pitch).synthesize(text)
        return resample_np(audio.pcm, audio.sample_rate, CARRIER_RATE)

    return say


def espeak_voice() -> Voice:
    from ringfence.adapters.speech.espeak import EspeakTts
    from ringfence.adapters.speech.resampling import resample_np

    def say(text: str, style: VoiceStyle) -> bytes:
        engine = EspeakTts(
            voice=("es-419" if style.lang == "es" else "en-us")
            + ("+f3" if style.pitch >= 1.1 else ""),
            words_per_minute=round(170 / style.pace),
            pitch=round(50 * style.pitch),
        )
        audio = engine.synthesize(text)
        return resample_np(audio.pcm, audio.sample_rate, CARRIER_RATE)

    return say


def voices(names: list[str], *, piper_seed: int = PIPER_SEED) -> dict[str, Voice]:
    found: dict[str, Voice] = {}
    for name in names:
        if name == "babble":
            found[name] = babble_voice
        elif name == "piper" and piper_installed():
            found[name] = remembered(piper_voice(piper_seed))
        elif name == "espeak" and shutil.which("espeak-ng"):
            found[name] = remembered(espeak_voice())
        else:
            print(f"(voice {name}: not installed, skipped)")
    return found


class WhisperTranscriber:
    """The pipeline's speech-to-text for greetings (Whisper tiny.en, no vocabulary: the
    pipeline primes none for the greeting), remembering texts by audio, and the wall time of
    each transcription it really ran."""

    def __init__(self, cache: Path | None = None) -> None:
        from ringfence.adapters.speech import WhisperStt

        self._stt = WhisperStt.bundled()
        self._stt.warm_up()
        self._cache_path = cache
        self._texts: dict[str, str] = {}
        if cache is not None and cache.exists():
            self._texts = json.loads(cache.read_text(encoding="utf-8"))
        self.seconds: list[float] = []

    def __call__(self, pcm16_16k: bytes) -> str:
        key = f"{self._stt.name}:{hashlib.sha256(pcm16_16k).hexdigest()}"
        if key not in self._texts:
            began = time.perf_counter()
            self._texts[key] = self._stt.transcribe(pcm16_16k).text
            self.seconds.append(time.perf_counter() - began)
        return self._texts[key]

    def save(self) -> None:
        if self._cache_path is not None:
            self._cache_path.write_text(json.dumps(self._texts), encoding="utf-8")


def vads(names: list[str]) -> dict[str, Callable[[], VoiceActivityDetector]]:
    found: dict[str, Callable[[], VoiceActivityDetector]] = {}
    for name in names:
        if name == "energy":
            found[name] = EnergyVad
        elif name in ("webrtc", "gated") and webrtcvad_installed():
            found[name] = WebRtcVad if name == "webrtc" else lambda: NoiseGatedVad(WebRtcVad())
        else:
            print(f"(VAD {name}: not installed, skipped)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--voices", default="babble,piper,espeak")
    parser.add_argument("--vads", default="gated,webrtc,energy")
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument(
        "--piper-seed", type=int, default=PIPER_SEED, help="another draw of Piper's voices"
    )
    parser.add_argument(
        "--no-words", action="store_true", help="timing and beeps alone (no speech-to-text)"
    )
    parser.add_argument("--stt-latency-ms", type=int, default=STT_LATENCY_MS)
    parser.add_argument("--stt-cache", type=Path, default=None, help="transcripts kept by audio")
    parser.add_argument(
        "--summary-only", action="store_true", help="figures only, no case (the frozen split)"
    )
    args = parser.parse_args()
    cases = load_cases(args.cases)
    print(
        f"{len(cases)} cases from {args.cases.name}: "
        + ", ".join(
            f"{v}: {sum(c.expect.value == v for c in cases)}"
            for v in ("human", "machine", "unknown")
        )
    )
    whisper: WhisperTranscriber | None = None
    if not args.no_words:
        if not whisper_installed():
            raise SystemExit("words need faster-whisper (the speech extra); or pass --no-words")
        whisper = WhisperTranscriber(args.stt_cache)
    rows: list[str] = []
    for voice_name, voice in voices(args.voices.split(","), piper_seed=args.piper_seed).items():
        transcriber: GreetingTranscriber | None = None
        if whisper is not None:
            transcriber = no_words if voice_name == "babble" else whisper
        for vad_name, vad in vads(args.vads.split(",")).items():
            began = time.perf_counter()
            report = evaluate(
                cases,
                voice,
                vad,
                transcriber=transcriber,
                stt_latency_ms=args.stt_latency_ms,
            )
            print(
                format_report(
                    f"{voice_name} voice, {vad_name} VAD", report, show_wrong=not args.summary_only
                )
            )
            print(f"  ({time.perf_counter() - began:.1f} s to render and run)")
            rows.append(summary_row(f"{voice_name}, {vad_name}", report))
            if whisper is not None:
                whisper.save()
    if whisper is not None and whisper.seconds:
        ran = sorted(whisper.seconds)
        p95 = ran[int(0.95 * (len(ran) - 1))]
        print(
            f"Whisper tiny.en on greetings: {len(ran)} transcriptions run, median "
            f"{statistics.median(ran) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (wall time on "
            f"this machine; the evaluation assumes {args.stt_latency_ms} ms)"
        )
    print()
    print(
        "| Voice, VAD | Accuracy | Machine or not | Median decision (people / machines) "
        "| Spoke over a beep | Wrong (marked hard) |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


def summary_row(name: str, report: AmdReport) -> str:
    right = sum(r.correct for r in report.results)
    human = report.median_decision_ms_for(AmdVerdict.HUMAN) / 1000
    machine = report.median_decision_ms_for(AmdVerdict.MACHINE) / 1000
    hard = sum(r.case.hard for r in report.wrong)
    return (
        f"| {name} | {report.accuracy:.1%} ({right}/{len(report.results)}) "
        f"| {report.machine_accuracy:.1%} | {report.median_decision_ms / 1000:.2f} s "
        f"({human:.2f} / {machine:.2f}) | {report.spoke_over_beep} "
        f"| {len(report.wrong)} ({hard}) |"
    )


if __name__ == "__main__":
    main()
