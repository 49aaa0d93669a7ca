"""Live latency over a real SIP call: the agent (local engines) against Debian's baresip on
loopback, a scripted 20-turn conversation.

    .venv/bin/python benchmarks/bench_sip.py [--turns 20] [--gap 6] [--beam 5]

baresip auto-answers and plays the callee's side (utterances spoken by Piper's deeper variant,
each followed by `--gap` seconds of silence for the agent's reply); Ringfence dials it through
its SIP stack (`services/line_check.py`: SIP over UDP, G.711 µ-law RTP in 20 ms packets) with
the speech pipeline attached. Calls are placed until `--turns` callee turns were answered.

Reported (p50 / p95, ms): per turn, voice to voice (end of the callee's speech, as the VAD
places it, to the agent's first audio handed to the RTP sender, which sends it at the next
20 ms tick) and its stages (VAD end-pointing, waiting for the worker, speech-to-text, policy,
first TTS chunk); per call, answer to the first agent RTP packet (the opening is synthesized
while the INVITE is out: baresip answers at once, so this includes what a ringing phone would
hide). Figures only, nothing asserted; the machine is shared: rerun for stable numbers.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_speech import CalleeVoice, line, print_stages
from ringfence.adapters.speech import PiperTts, WhisperStt, fresh_vad
from ringfence.adapters.telephony.sip.dialog import SipAccount
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.services.line_check import LineTarget, line_check_session, place_line_check
from ringfence.speech.audio import CARRIER_RATE, silence
from ringfence.speech.contracts import SpeechEngines
from ringfence.speech.result import TurnLatency

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.sip_peers import baresip

UTTERANCES = (
    "Hello?",
    "Sorry, who is this?",
    "Which office did you say?",
    "Can you repeat that?",
    "Hold on one second.",
    "Okay, I'm back. What was that?",
    "Is this a recorded line?",
    "Who am I speaking with?",
    "Sorry, could you say that once more?",
    "What is this about?",
    "I didn't catch that.",
    "Could you speak up a little?",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--gap", type=float, default=6.0, help="seconds after each utterance")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("baresip") is None:
        sys.exit("baresip is not installed (apt-get install baresip-core)")

    began = time.perf_counter()
    stt = WhisperStt.bundled(beam_size=args.beam, cpu_threads=args.threads)
    stt.warm_up()
    tts = PiperTts.bundled()
    callee = CalleeVoice(PiperTts.bundled(sample_rate=None))
    prompt = b"".join(callee.say(text) + silence(args.gap, CARRIER_RATE) for text in UTTERANCES)
    prompt = silence(0.5, CARRIER_RATE) + prompt + silence(5.0, CARRIER_RATE)
    print(
        f"engines loaded in {time.perf_counter() - began:.1f} s; the callee's side lasts "
        f"{len(prompt) / 2 / CARRIER_RATE:.0f} s a call ({len(UTTERANCES)} utterances)"
    )

    turns: list[TurnLatency] = []
    answers: list[float] = []
    calls = 0
    with tempfile.TemporaryDirectory() as scratch:
        while len(turns) < args.turns:
            calls += 1
            with baresip(Path(scratch) / f"call-{calls}", prompt, user="bench") as peer:
                result = place_line_check(
                    LineTarget(
                        trunk_host="127.0.0.1",
                        trunk_port=peer.port,
                        to_uri=peer.uri,
                        caller_id="+12125550100",
                        bind_host="127.0.0.1",
                        account=SipAccount(domain="127.0.0.1", display_name="Glow"),
                        max_call_s=len(prompt) / 2 / CARRIER_RATE + 10,
                    ),
                    line_check_session("Glow Aesthetics", "+13055550123"),
                    engines=SpeechEngines(vad=fresh_vad(), stt=stt, tts=tts),
                    policy=ScriptedPolicy(),
                    max_callee_turns=40,
                )
            call, pipeline = result.call, result.pipeline
            if pipeline is None:
                sys.exit(f"call {calls} was not answered: {call.reason}")
            if call.first_audio_after_answer_ms is not None:
                answers.append(call.first_audio_after_answer_ms)
            got = list(pipeline.latencies)
            print(
                f"  call {calls}: {len(got)} turns, {call.sent_packets} RTP packets sent, "
                f"{call.received_packets} received, ended by {call.hung_up_by} "
                f"({pipeline.conversation.ended_by.value})"
            )
            for t in got:
                print(
                    f"    heard {t.heard!r:<45.45} v2v {t.voice_to_voice_ms:5.0f} ms (stt "
                    f"{t.stt_ms:.0f}, policy {t.policy_ms:.1f}, tts {t.tts_first_chunk_ms:.0f})"
                )
            turns += got
            if not got:
                sys.exit("no turn was answered: check the engines and baresip's audio")
    turns = turns[: args.turns]
    early = sum(t.early_stt for t in turns)
    print(f"\n{len(turns)} turns over {calls} SIP calls ({early} transcribed in the pause)")
    print_stages(turns)
    print(line("answer -> first RTP audio", answers))
    p50 = statistics.median(t.voice_to_voice_ms for t in turns)
    print(f"  voice to voice p50 {p50:.0f} ms (goal < 800 ms); answer to audio goal < 1000 ms")


if __name__ == "__main__":
    main()
