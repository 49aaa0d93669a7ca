"""Answering-machine detection: accuracy and decision time on the greeting evaluation set.

    .venv/bin/python benchmarks/bench_amd.py [--voices babble,piper,espeak] [--vads ...]

Every case of tests/data/amd/greetings.jsonl (people saying hello, voicemail greetings long
and short with and without beeps, silence, hiss, a modem tone) is rendered with each voice
that is installed and run through the detector with each VAD:
- voices: `babble` (speech-like synthetic sound, always there), `piper` (the local neural
  voice, varied in pitch and pace per case; the speech extra), `espeak` (espeak-ng, when on
  PATH: a voice the detector was never tuned on);
- VADs: `gated` (WebRTC VAD behind the noise floor: what live calls use), `webrtc` (bare),
  `energy` (the pure fallback).
Prints accuracy (exact, and on "machine or not"), median decision time after the answer, how
long after the beep the message starts, and every case it got wrong. Figures only.
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from ringfence.speech.amd_eval import (
    Voice,
    VoiceStyle,
    babble_voice,
    evaluate,
    format_report,
    load_cases,
)
from ringfence.speech.audio import CARRIER_RATE
from ringfence.speech.contracts import VoiceActivityDetector
from ringfence.speech.engines import EnergyVad, WebRtcVad, piper_installed, webrtcvad_installed
from ringfence.speech.engines.energy import NoiseGatedVad

CASES = Path(__file__).resolve().parents[1] / "tests" / "data" / "amd" / "greetings.jsonl"


def piper_voice() -> Voice:
    from ringfence.adapters.speech.piper import PiperTextToSpeech
    from ringfence.speech.engines.piper import resample_np

    base = PiperTextToSpeech.bundled()

    def say(text: str, style: VoiceStyle) -> bytes:
        audio = base.variant(length_scale=style.pace, pitch=style.pitch).synthesize(text)
        return resample_np(audio.pcm, audio.sample_rate, CARRIER_RATE)

    return say


def espeak_voice() -> Voice:
    from ringfence.adapters.speech.espeak import EspeakTextToSpeech
    from ringfence.speech.engines.piper import resample_np

    def say(text: str, style: VoiceStyle) -> bytes:
        engine = EspeakTextToSpeech(
            words_per_minute=round(170 / style.pace), pitch=round(50 * style.pitch)
        )
        audio = engine.synthesize(text)
        return resample_np(audio.pcm, audio.sample_rate, CARRIER_RATE)

    return say


def voices(names: list[str]) -> dict[str, Voice]:
    found: dict[str, Voice] = {}
    for name in names:
        if name == "babble":
            found[name] = babble_voice
        elif name == "piper" and piper_installed():
            found[name] = piper_voice()
        elif name == "espeak" and shutil.which("espeak-ng"):
            found[name] = espeak_voice()
        else:
            print(f"(voice {name}: not installed, skipped)")
    return found


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
    args = parser.parse_args()
    cases = load_cases(args.cases)
    print(
        f"{len(cases)} cases from {args.cases.name}: "
        + ", ".join(
            f"{v}: {sum(c.expect.value == v for c in cases)}"
            for v in ("human", "machine", "unknown")
        )
    )
    for voice_name, voice in voices(args.voices.split(",")).items():
        for vad_name, vad in vads(args.vads.split(",")).items():
            began = time.perf_counter()
            report = evaluate(cases, voice, vad)
            print(format_report(f"{voice_name} voice, {vad_name} VAD", report))
            print(f"  ({time.perf_counter() - began:.1f} s to render and run)")


if __name__ == "__main__":
    main()
