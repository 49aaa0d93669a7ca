"""Ring to greeting on an inbound SIP call (issue 19's goal: < 1 s): a UDP socket on loopback
plays the trunk and calls a practice number; Ringfence routes the call, puts it on record,
prepares the agent's greeting and answers.

    .venv/bin/python benchmarks/bench_sip_inbound.py [--calls 10] [--turns 20] [--gap 6]

Measured per call, from the INVITE sent: the 200 OK received (ring to answer: routing, the
record written, the greeting synthesized while the caller hears ringing) and the first RTP
packet carrying voice (ring to greeting audio). Side by side in one run: the agent's real
voice (Piper) and a fake voice that plays a tone at once (the cost of everything but the
synthesis), for a recognised caller (a contact with an appointment: the greeting's context is
read) and a stranger.

Then voice to voice on inbound calls, as `bench_sip.py` measures it on calls we place: baresip
calls the practice line as the patient and says `bench_sip.UTTERANCES` (Piper's deeper
variant, `--gap` seconds after each); each callee turn's end of speech to the agent's first
audio, stage by stage (p50 / p95), until `--turns` turns were answered. SQLite in a temporary
folder. Figures only, nothing asserted; the machine is shared: rerun for stable numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench_sip import UTTERANCES
from bench_speech import CalleeVoice, print_stages
from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.migrate import upgrade
from ringfence.adapters.db.orm import (
    Account,
    Appointment,
    Contact,
    Location,
    PhoneNumber,
    VoiceAgent,
)
from ringfence.adapters.speech import PiperTts, WhisperStt, fresh_vad
from ringfence.adapters.speech.fakes import ScriptedStt, ToneTts
from ringfence.adapters.telephony import g711
from ringfence.adapters.telephony.media import rms
from ringfence.adapters.telephony.sip.carrier import SipCarrier, SipOptions
from ringfence.adapters.telephony.sip.message import SipResponse
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.session import AgentSession
from ringfence.bootstrap import Container, bootstrap
from ringfence.bootstrap.carriers import inbound_live_calls, sip_answerer
from ringfence.clock import SystemClock
from ringfence.config import Settings
from ringfence.domain.vocabulary import (
    AppointmentStatus,
    CallDirection,
    CallStatus,
    ContactSource,
    KycStatus,
)
from ringfence.services.inbound_live import InboundLiveCalls
from ringfence.services.live_media import LiveMediaSessions, warm_up_understanding
from ringfence.speech.audio import CARRIER_RATE, silence
from ringfence.speech.contracts import SpeechEngines
from ringfence.speech.pipeline import VoicePipeline
from ringfence.speech.result import TurnLatency

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.sip_peers import baresip, free_udp_port
from tests.sip_trunk import CALLER, LINE, Trunk

STRANGER = "+13055550111"


def practice(container: Container) -> None:
    with container.uow() as uow:
        now = datetime.now(UTC)
        account = Account(
            name="Glow", kyc_status=KycStatus.APPROVED, created_at=now, updated_at=now
        )
        uow.session.add(account)
        uow.session.flush()
        location = Location(
            account_id=account.id,
            name="Main",
            time_zone="America/New_York",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(location)
        uow.session.flush()
        at = {"account_id": account.id, "location_id": location.id}
        contact = Contact(
            **at,
            first_name="Maria",
            last_name="Lopez",
            phone_e164=CALLER,
            source=ContactSource.MANUAL,
            created_at=now,
            updated_at=now,
        )
        uow.session.add_all(
            [
                VoiceAgent(**at, name="Desk", practice_name="Glow", created_at=now, updated_at=now),
                PhoneNumber(**at, e164=LINE, created_at=now, updated_at=now),
                contact,
            ]
        )
        uow.session.flush()
        uow.session.add(
            Appointment(
                **at,
                contact_id=contact.id,
                starts_at=now + timedelta(days=2),
                service="Botox touch-up",
                status=AppointmentStatus.SCHEDULED,
                created_at=now,
                updated_at=now,
            )
        )
        uow.commit()


def one_call(trunk: Trunk, to: tuple[str, int], n: int, caller: str) -> tuple[float, float]:
    """(ring to answer, ring to greeting audio) in ms for one call, then hang up."""
    sent = time.perf_counter()
    invite = trunk.invite(to, call_id=f"bench-{n}", caller=caller)
    ok = trunk.response(200)
    answered = time.perf_counter()
    trunk.request("ACK", invite, to, to_header=ok.header("To") or "", cseq="1 ACK")
    while True:
        packet, _ = trunk.rtp.recvfrom(2048)
        payload = packet[12:]
        decode = g711.alaw_to_pcm16 if packet[1] & 0x7F == 8 else g711.mulaw_to_pcm16
        if rms(decode(payload)) > 200:
            break
    voiced = time.perf_counter()
    trunk.request("BYE", invite, to, to_header=ok.header("To") or "", cseq="2 BYE")
    while not isinstance(reply := trunk.receive(), SipResponse) or reply.cseq[1] != "BYE":
        pass
    while True:  # the call's RTP stops; drain what is left
        try:
            trunk.rtp.settimeout(0.3)
            trunk.rtp.recvfrom(2048)
        except TimeoutError:
            break
    trunk.rtp.settimeout(5.0)
    return (answered - sent) * 1000, (voiced - sent) * 1000


def practice_in(
    folder: Path, engines: Callable[[], SpeechEngines]
) -> tuple[Container, LiveMediaSessions]:
    """A migrated SQLite database with the practice, and live sessions on `engines`."""
    container = bootstrap(
        Settings(
            database_url=f"sqlite:///{folder / 'bench.db'}",
            recordings_dir=folder / "recordings",
        ),
        clock=SystemClock(),
    )
    upgrade(container.engine)
    practice(container)
    sessions = LiveMediaSessions(
        container.session_factory,
        engines=engines,
        policy_for=lambda _name: ScriptedPolicy(),
        results=container.live_calls,
        store_dir=container.settings.recordings_dir,
        cipher=container.phi_cipher,
    )
    return container, sessions


def run(
    folder: Path, engines: Callable[[], SpeechEngines], calls: int, caller: str
) -> tuple[list[float], list[float]]:
    container, sessions = practice_in(folder, engines)
    trunk = Trunk()
    carrier = SipCarrier(
        container.session_factory,
        container.clock,
        SipOptions(trunk_host=trunk.host, trunk_port=trunk.port, bind_host="127.0.0.1"),
        answer=sip_answerer(inbound_live_calls(container, sessions)),
    )
    answers, greetings = [], []
    try:
        for n in range(calls):
            answer_ms, greeting_ms = one_call(trunk, carrier.local_address, n, caller)
            answers.append(answer_ms)
            greetings.append(greeting_ms)
    finally:
        carrier.close()
        trunk.close()
        container.close()
    return answers, greetings


def conversations(
    folder: Path, engines: Callable[[], SpeechEngines], prompt: bytes, turns: int
) -> list[TurnLatency]:
    """baresip calls the practice line as the patient, saying `prompt`, until `turns` callee
    turns were answered: each turn's latencies."""
    container, sessions = practice_in(folder, engines)
    pipelines: list[VoicePipeline] = []

    def keeping(agent: AgentSession, *, stream_opening: bool) -> VoicePipeline:
        pipeline = sessions.pipeline_for(agent, stream_opening=stream_opening)
        pipelines.append(pipeline)
        return pipeline

    inbound = InboundLiveCalls(
        container.uow,
        pipeline_for=keeping,
        store_dir=container.settings.recordings_dir,
        cipher=container.phi_cipher,
        max_concurrent_calls=5,
    )
    got: list[TurnLatency] = []
    calls = 0
    caller_port = free_udp_port()
    carrier = SipCarrier(
        container.session_factory,
        container.clock,
        SipOptions(trunk_host="127.0.0.1", trunk_port=caller_port, bind_host="127.0.0.1"),
        answer=sip_answerer(inbound),
    )
    try:
        host, port = carrier.local_address
        while len(got) < turns:
            calls += 1
            with baresip(
                folder / f"call-{calls}",
                prompt,
                user=CALLER,
                dial=f"sip:{LINE}@{host}:{port}",
                port=caller_port,
            ):
                deadline = time.monotonic() + len(prompt) / 2 / CARRIER_RATE + 30
                while answered(container) < calls and time.monotonic() < deadline:
                    time.sleep(0.5)
            latencies = list(pipelines[-1].result().latencies) if pipelines else []
            print(f"  call {calls}: {len(latencies)} turns answered")
            if not latencies:
                sys.exit("no turn was answered: check the engines and baresip's audio")
            got += latencies
    finally:
        carrier.close()
        container.close()
    return got[:turns]


def answered(container: Container) -> int:
    """Inbound calls over and on record."""
    with container.uow() as uow:
        return int(
            uow.session.scalar(
                select(func.count())
                .select_from(CallJob)
                .where(
                    CallJob.direction == CallDirection.INBOUND,
                    CallJob.status == CallStatus.COMPLETED,
                )
            )
            or 0
        )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--turns", type=int, default=20, help="0: skip the conversations")
    parser.add_argument("--gap", type=float, default=6.0, help="seconds after each utterance")
    args = parser.parse_args()
    warm_up_understanding()
    piper, whisper = PiperTts.bundled(), WhisperStt.bundled()
    piper.synthesize_stream("warm up")  # the voice loaded before the first call
    voices: dict[str, Callable[[], SpeechEngines]] = {
        "Piper": lambda: SpeechEngines(vad=fresh_vad(), stt=whisper, tts=piper),
        "tone (fake)": lambda: SpeechEngines(vad=fresh_vad(), stt=ScriptedStt([]), tts=ToneTts()),
    }
    print(f"{args.calls} calls each; ms from the INVITE: p50 / p95")
    print(f"{'voice':<16} {'caller':<11} {'ring to answer':>17} {'ring to greeting':>19}")
    medians: dict[tuple[str, str], float] = {}
    for voice, engines in voices.items():
        for who, number in (("recognised", CALLER), ("stranger", STRANGER)):
            with tempfile.TemporaryDirectory() as folder:
                answers, greetings = run(Path(folder), engines, args.calls, number)
            medians[(voice, who)] = statistics.median(greetings)
            print(
                f"{voice:<16} {who:<11} {pct(answers, 0.5):>8.0f} / {pct(answers, 0.95):<6.0f}"
                f" {pct(greetings, 0.5):>9.0f} / {pct(greetings, 0.95):<6.0f}"
            )
    for who in ("recognised", "stranger"):
        real, fake = medians[("Piper", who)], medians[("tone (fake)", who)]
        print(f"{who}: the greeting's synthesis is {1 - fake / real:.0%} of ring to greeting")

    if args.turns <= 0:
        return
    callee = CalleeVoice(PiperTts.bundled(sample_rate=None))
    prompt = b"".join(callee.say(text) + silence(args.gap, CARRIER_RATE) for text in UTTERANCES)
    prompt = silence(6.0, CARRIER_RATE) + prompt + silence(5.0, CARRIER_RATE)
    print(f"\nvoice to voice on inbound calls (baresip calls in; {args.turns} turns)")
    with tempfile.TemporaryDirectory() as folder:
        turns = conversations(Path(folder), voices["Piper"], prompt, args.turns)
    print_stages(turns)


if __name__ == "__main__":
    main()
