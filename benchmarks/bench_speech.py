"""Speech pipeline latency with the real local engines: STT, TTS first chunk, voice to voice.

    .venv/bin/python benchmarks/bench_speech.py [--turns 20] [--fast] [--beam 5]

1. Speech-to-text: callee utterances spoken by Piper (a deeper, slower variant of the voice),
   band-limited to the phone's 8 kHz and brought back to 16 kHz, transcribed by Whisper
   tiny.en (int8, CPU) primed with the call's names as the pipeline does: p50/p95 and the
   word error rate against what was said.
2. Text-to-speech: the agent's replies through Piper, time to the first sentence's audio.
3. Voice to voice: scripted outbound calls through `VoicePipeline` on loopback (no carrier):
   the callee (a sandbox persona, spoken by Piper) says "Hello?", hears the opening, answers;
   each turn's stages are measured until `--turns` turns are in. Frames are fed at wall speed
   (one 20 ms frame every 20 ms) with the work on the pipeline's worker thread, as on a live
   call. `--fast` runs the work inline and feeds frames as fast as they are processed: quicker,
   but a reply is handed out only once all its sentences are made, so its voice to voice
   overstates multi-sentence replies.
Figures only: nothing here asserts a time. The machine is shared: rerun for stable numbers.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Iterable

from ringfence.adapters.speech import NoiseGatedVad, PiperTts, WebRtcVad, WhisperStt
from ringfence.adapters.speech.resampling import resample_np
from ringfence.adapters.telephony.media import StreamStart
from ringfence.agent.callee import SimulatedCallee
from ringfence.agent.policies.base import Speaker
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import AgentProfile, CallContext, CallDirection
from ringfence.agent.session import AgentSession
from ringfence.agent.text import clauses
from ringfence.domain.vocabulary import CallPurpose
from ringfence.speech.audio import CARRIER_RATE, STT_RATE, resample, silence
from ringfence.speech.opening import prepare_opening
from ringfence.speech.pipeline import VoicePipeline
from ringfence.speech.result import TurnLatency
from ringfence.speech.runner import InlineRunner, Runner, ThreadRunner

PROFILE = AgentProfile(practice_name="Glow Aesthetics", callback_number="+13055550123")
CONTEXT = CallContext(
    CallDirection.OUTBOUND,
    CallPurpose.APPOINTMENT_CONFIRMATION,
    "Jane",
    "Botox touch-up",
    "Friday at 2 PM",
)
PERSONAS = ("confirms", "reschedules", "asks_if_robot", "call_back_later", "not_interested")
UTTERANCES = (
    "Yes, this is Jane.",
    "Yes, I'll be there.",
    "I can't make it then. Could we do Thursday at 3 pm instead?",
    "Wait, am I talking to a real person?",
    "Is it normal that I still have some bruising from my last filler?",
    "Sorry, this is a bad time. Can you call me back tomorrow afternoon?",
    "No thanks, I'm not interested.",
    "Please take me off your list.",
)
FRAME = 2 * CARRIER_RATE * 20 // 1000


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(name: str, samples: Iterable[float]) -> str:
    values = list(samples)
    if not values:
        return f"  {name:<28} (none)"
    return (
        f"  {name:<28} p50 {pct(values, 0.5):7.0f} ms   p95 {pct(values, 0.95):7.0f} ms"
        f"   (n={len(values)})"
    )


def print_stages(turns: list[TurnLatency]) -> None:
    """Each turn's stages, p50/p95 (shared with bench_sip.py)."""
    print(line("VAD end-pointing", (t.endpointing_ms for t in turns)))
    print(line("waiting for the worker", (t.queue_ms for t in turns)))
    print(line("speech-to-text", (t.stt_ms for t in turns)))
    print(line("policy (runtime)", (t.policy_ms for t in turns)))
    print(line("text-to-speech first chunk", (t.tts_first_chunk_ms for t in turns)))
    print(line("voice to voice", (t.voice_to_voice_ms for t in turns)))


def word_errors(said: str, heard: str) -> tuple[int, int]:
    a = " ".join(clauses(said)).split()
    b = " ".join(clauses(heard)).split()
    row = list(range(len(b) + 1))
    for i, word in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, other in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (word != other))
    return row[-1], len(a)


class CalleeVoice:
    """The callee: the Piper model, deeper and slower, band-limited to the phone."""

    def __init__(self, base: PiperTts) -> None:
        self._voice = base.variant(length_scale=1.1, pitch=0.89)
        self._cache: dict[str, bytes] = {}

    def say(self, text: str) -> bytes:
        if text not in self._cache:
            audio = self._voice.synthesize(text)
            self._cache[text] = resample_np(audio.pcm, audio.sample_rate, CARRIER_RATE)
        return self._cache[text]


def bench_stt(stt: WhisperStt, callee: CalleeVoice) -> None:
    times: list[float] = []
    errors = words = 0
    for text in UTTERANCES:
        pcm16k = resample(callee.say(text), CARRIER_RATE, STT_RATE)
        began = time.perf_counter()
        heard = stt.transcribe(pcm16k, vocabulary=(PROFILE.practice_name, "Jane"))
        times.append((time.perf_counter() - began) * 1000)
        e, n = word_errors(text, heard.text)
        errors, words = errors + e, words + n
        print(f"    said {text!r}\n    heard {heard.text!r} (confidence {heard.confidence:.2f})")
    print(line("speech-to-text", times), f"  WER {errors / words:.1%} over {words} words")


def bench_tts(tts: PiperTts) -> None:
    firsts: list[float] = []
    replies = [
        "Thanks, Jane. I'm calling to confirm your Botox touch-up on Friday at 2 PM. "
        "Will you be able to make it?",
        "Wonderful, you're all set. We look forward to seeing you. Goodbye!",
        "No problem. What day and time would work better for you?",
        "I'm an AI assistant for Glow Aesthetics. Am I speaking with Jane?",
        "Understood. You won't receive any more calls from Glow Aesthetics. Goodbye.",
        "Of course. We'll call you back tomorrow afternoon. Goodbye!",
    ]
    for text in replies * 2:
        began = time.perf_counter()
        stream = tts.synthesize_stream(text)
        next(stream)
        firsts.append((time.perf_counter() - began) * 1000)
        for _ in stream:
            pass
    print(line("text-to-speech first chunk", firsts))


def run_call(
    persona: str,
    seed: int,
    *,
    engines: tuple[WhisperStt, PiperTts],
    callee_voice: CalleeVoice,
    realtime: bool,
) -> tuple[list[TurnLatency], float, float]:
    stt, tts = engines
    session = AgentSession(PROFILE, CONTEXT)
    opening = prepare_opening(session, tts=tts, policy=ScriptedPolicy())
    runner: Runner = ThreadRunner() if realtime else InlineRunner()
    pipeline = VoicePipeline(
        opening, vad=NoiseGatedVad(WebRtcVad()), stt=stt, tts=tts, runner=runner
    )
    callee = SimulatedCallee(persona, first_name="Jane", seed=seed)
    clock = {"next": time.perf_counter()}

    def send(pcm: bytes) -> None:
        for at in range(0, len(pcm), FRAME):
            if realtime:
                clock["next"] += 0.02
                time.sleep(max(0.0, clock["next"] - time.perf_counter()))
            pipeline.on_audio(pcm[at : at + FRAME], pipeline.now_ms / 1000)

    def quiet(seconds: float) -> None:
        send(silence(seconds, CARRIER_RATE))

    pipeline.on_start(StreamStart(f"bench-{seed}", "CA-bench", "MZ-bench"))
    answer_ms = pipeline.result().answer_to_first_audio_ms
    quiet(0.3)
    send(callee_voice.say("Hello?"))
    while not pipeline.hangup_due:
        while pipeline.agent_speaking:
            quiet(0.1)
        quiet(0.4)
        history = opening.runtime.history
        if opening.runtime.ended or not history or history[-1].speaker is not Speaker.AGENT:
            break
        reply = callee.reply(history[-1].text)
        if reply is None:
            break
        send(callee_voice.say(reply))
        for _ in range(150):  # up to 15 s of line time for the agent to answer
            quiet(0.1)
            if pipeline.agent_speaking or pipeline.hangup_due:
                break
    pipeline.on_stop()
    result = pipeline.result()
    return list(result.latencies), answer_ms, opening.synthesis_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    began = time.perf_counter()
    stt = WhisperStt.bundled(beam_size=args.beam, cpu_threads=args.threads)
    stt.warm_up()
    tts = PiperTts.bundled()
    callee_voice = CalleeVoice(PiperTts.bundled(sample_rate=None))
    print(
        f"engines loaded in {time.perf_counter() - began:.1f} s: {stt.name} (beam "
        f"{args.beam}, {args.threads} threads), {tts.name}, webrtcvad + noise gate"
    )

    print("\n1. speech-to-text on telephone-band speech")
    bench_stt(stt, callee_voice)
    print("\n2. text-to-speech")
    bench_tts(tts)

    mode = "inline, as fast as processed" if args.fast else "real time, worker thread"
    print(f"\n3. voice to voice over scripted calls ({mode})")
    latencies: list[TurnLatency] = []
    answers: list[float] = []
    openings: list[float] = []
    calls = 0
    for seed, persona in enumerate(itertools.cycle(PERSONAS)):
        if len(latencies) >= args.turns:
            break
        got, answer_ms, opening_ms = run_call(
            persona,
            seed,
            engines=(stt, tts),
            callee_voice=callee_voice,
            realtime=not args.fast,
        )
        calls += 1
        answers.append(answer_ms)
        openings.append(opening_ms)
        latencies += got
        for t in got:
            print(
                f"    {persona:<16} heard {t.heard!r:<60.60} v2v {t.voice_to_voice_ms:5.0f} ms"
                f" (stt {t.stt_ms:.0f}, policy {t.policy_ms:.1f}, tts {t.tts_first_chunk_ms:.0f})"
            )
    latencies = latencies[: args.turns]
    early = sum(t.early_stt for t in latencies)
    print(f"  {len(latencies)} turns over {calls} calls ({early} transcribed in the pause)")
    print_stages(latencies)
    print(line("answer -> first agent audio", answers))
    print(line("opening synthesis (pre-dial)", openings))
    mean = statistics.fmean(t.voice_to_voice_ms for t in latencies) if latencies else 0.0
    print(f"  mean voice to voice {mean:.0f} ms (goal: p50 < 800 ms)")


if __name__ == "__main__":
    main()
