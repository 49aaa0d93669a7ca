"""Concurrent live calls per core (issue 20, item 2): N callers ring the practice at once over
SIP on loopback, each talking to its own agent (shared engine instances: one Whisper model,
one Piper voice, a worker thread per call), and the run finds the largest N whose callers
hear the agent answer within 1 s at p95 with no gap in the agent's audio.

    .venv/bin/python benchmarks/bench_sip_concurrency.py [--max-calls 6] [--turns 3] [--gap 6]

Each caller is a UDP socket pair playing a SIP trunk (tests/sip_trunk.py): it sends its
INVITE, then real-time RTP (20 ms G.711 packets, paced by the wall clock) carrying Piper's
deeper voice saying a few lines with `--gap` seconds of silence after each, and listens to
the agent's RTP. Measured at the caller, as a person would hear it:
- voice to voice: the end of each of its lines to the first packet of the agent's voice
  after it (end-pointing, transcription, policy, synthesis, the 20 ms tick and the network);
- underruns: gaps of more than 60 ms between the agent's packets (the agent's stream is
  continuous, silence between turns, so a gap is a late sender loop);
- CPU: this process's CPU seconds (the carrier, the pipelines and the callers; the callers'
  share is small) per second of call, per call.
N goes 1, 2, 3... up to `--max-calls` (every level is printed: the trend is the figure).
SQLite in a temporary folder. Figures only, nothing asserted; the machine is shared: rerun for
stable numbers.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_sip_inbound import STRANGER, practice_in
from bench_speech import CalleeVoice
from ringfence.adapters.speech import PiperTts, WhisperStt, fresh_vad
from ringfence.adapters.telephony import g711
from ringfence.adapters.telephony.media import rms
from ringfence.adapters.telephony.sip.carrier import SipCarrier, SipOptions
from ringfence.adapters.telephony.sip.rtp import RtpError, RtpPacket, parse_rtp
from ringfence.bootstrap.carriers import inbound_live_calls, sip_answerer
from ringfence.services.live_media import warm_up_understanding
from ringfence.speech.audio import CARRIER_RATE, silence
from ringfence.speech.contracts import SpeechEngines

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.sip_trunk import CALLER, Trunk

LINES = ("What are your hours?", "Where are you located?", "Do you have parking there?")
FRAME_BYTES = 320  # 20 ms of PCM16 at 8 kHz
VOICED_RMS = 300.0
UNDERRUN_S = 0.06


@dataclass
class CallerLog:
    line_ends: list[float] = field(default_factory=list)  # monotonic, end of each line sent
    voiced: list[float] = field(default_factory=list)  # arrival of the agent's voiced packets
    arrivals: list[float] = field(default_factory=list)
    answered: bool = False


def caller_audio(voice: CalleeVoice, gap_s: float, turns: int) -> tuple[bytes, list[int]]:
    """The caller's side: the greeting's silence, then each line and a gap; where each line
    ends (byte offsets)."""
    audio = bytearray(silence(7.0, CARRIER_RATE))
    ends = []
    for text in LINES[:turns]:
        audio += voice.say(text)
        ends.append(len(audio))
        audio += silence(gap_s, CARRIER_RATE)
    return bytes(audio), ends


def one_caller(
    to: tuple[str, int], number: str, audio: bytes, ends: list[int], log: CallerLog
) -> None:
    trunk = Trunk()
    try:
        invite = trunk.invite(to, call_id=f"conc-{secrets.token_hex(4)}", caller=number)
        ok = trunk.response(200)
        trunk.request("ACK", invite, to, to_header=ok.header("To") or "", cseq="1 ACK")
        log.answered = True
        stop = threading.Event()

        def listen() -> None:
            trunk.rtp.settimeout(0.5)
            while not stop.is_set():
                try:
                    data, _ = trunk.rtp.recvfrom(2048)
                except TimeoutError:
                    continue
                except OSError:
                    return
                now = time.monotonic()
                try:
                    packet = parse_rtp(data)
                except RtpError:
                    continue
                log.arrivals.append(now)
                decode = g711.alaw_to_pcm16 if packet.payload_type == 8 else g711.mulaw_to_pcm16
                if rms(decode(packet.payload)) > VOICED_RMS:
                    log.voiced.append(now)

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        agent_rtp = _agent_rtp(ok.body)
        began = time.monotonic()
        pending = list(ends)
        for n, offset in enumerate(range(0, len(audio), FRAME_BYTES)):
            frame = audio[offset : offset + FRAME_BYTES].ljust(FRAME_BYTES, b"\0")
            packet = RtpPacket(8, n, n * 160, 0xBE7C, g711.pcm16_to_alaw(frame))
            trunk.rtp.sendto(packet.render(), agent_rtp)
            if pending and offset + FRAME_BYTES >= pending[0]:
                log.line_ends.append(time.monotonic())
                pending.pop(0)
            time.sleep(max(0.0, began + (n + 1) * 0.02 - time.monotonic()))
        stop.set()
        listener.join(2)
        trunk.request("BYE", invite, to, to_header=ok.header("To") or "", cseq="2 BYE")
    finally:
        trunk.close()


def _agent_rtp(sdp: bytes) -> tuple[str, int]:
    host, port = "127.0.0.1", 0
    for line in sdp.decode().splitlines():
        if line.startswith("c=IN IP4 "):
            host = line.split()[-1]
        elif line.startswith("m=audio "):
            port = int(line.split()[1])
    return host, port


def voice_to_voice(log: CallerLog) -> list[float]:
    """For each line the caller finished, the wait until the agent's voice came back."""
    waits = []
    for end in log.line_ends:
        after = [t for t in log.voiced if t > end]
        if after:
            waits.append((after[0] - end) * 1000)
    return waits


def underruns(log: CallerLog) -> int:
    gaps = zip(log.arrivals, log.arrivals[1:], strict=False)
    return sum(1 for a, b in gaps if b - a > UNDERRUN_S)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def run_level(
    n: int, engines: SpeechEngines, audio: bytes, ends: list[int]
) -> tuple[list[float], int, float, float]:
    """N calls at once: (voice-to-voice waits, underruns, CPU s per call-second, call-seconds)."""
    with tempfile.TemporaryDirectory() as folder:
        container, sessions = practice_in(
            Path(folder), lambda: SpeechEngines(vad=fresh_vad(), stt=engines.stt, tts=engines.tts)
        )
        trunk_stand_in = Trunk()  # the carrier's trunk: INVITEs come from 127.0.0.1
        carrier = SipCarrier(
            container.session_factory,
            container.clock,
            SipOptions(
                trunk_host="127.0.0.1", trunk_port=trunk_stand_in.port, bind_host="127.0.0.1"
            ),
            answer=sip_answerer(inbound_live_calls(container, sessions)),
        )
        logs = [CallerLog() for _ in range(n)]
        numbers = [CALLER] + [f"{STRANGER[:-2]}{i:02d}" for i in range(1, n)]
        cpu, wall = time.process_time(), time.monotonic()
        callers = [
            threading.Thread(
                target=one_caller, args=(carrier.local_address, numbers[i], audio, ends, logs[i])
            )
            for i in range(n)
        ]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        carrier.close(timeout_s=10)
        trunk_stand_in.close()
        container.close()
    waits = [w for log in logs for w in voice_to_voice(log)]
    call_seconds = wall * sum(log.answered for log in logs)
    return waits, sum(underruns(log) for log in logs), cpu / max(call_seconds, 1e-9), call_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--max-calls", type=int, default=6)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--gap", type=float, default=6.0)
    args = parser.parse_args()
    warm_up_understanding()
    stt, tts = WhisperStt.bundled(), PiperTts.bundled()
    stt.warm_up()
    engines = SpeechEngines(vad=fresh_vad(), stt=stt, tts=tts)
    audio, ends = caller_audio(
        CalleeVoice(PiperTts.bundled(sample_rate=None)), args.gap, args.turns
    )
    print(f"each call: {len(audio) / 2 / CARRIER_RATE:.0f} s, {len(ends)} caller lines")
    print(f"{'calls':>5} {'v2v p50':>9} {'v2v p95':>9} {'underruns':>10} {'CPU s / call-s':>15}")
    best = 0
    for n in range(1, args.max_calls + 1):
        waits, gaps, cpu_per_call, _ = run_level(n, engines, audio, ends)
        p50, p95 = pct(waits, 0.5), pct(waits, 0.95)
        answered = len(waits)
        print(
            f"{n:>5} {p50:>7.0f}ms {p95:>7.0f}ms {gaps:>10} {cpu_per_call:>15.2f}"
            f"   ({answered} of {n * len(ends)} lines answered)"
        )
        if answered == n * len(ends) and p95 <= 1000 and not gaps and best == n - 1:
            best = n
    cores = len(os.sched_getaffinity(0))
    print(
        f"largest N with p95 voice to voice <= 1 s and no underrun: {best} "
        f"on {cores} cores ({best / cores:.1f} per core)"
    )


if __name__ == "__main__":
    main()
