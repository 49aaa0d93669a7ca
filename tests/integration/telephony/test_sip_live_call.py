"""A real SIP call end to end on loopback, with the real speech engines: the dispatcher dials
through the SIP carrier into an auto-answering baresip, which plays the callee's prompt (Piper
saying "Hello?" then "Please stop calling me.") and records what it hears. The callee says it
once the agent's opening is over, or over the opening (barge-in).

Asserted: the agent really spoke (baresip's recording, transcribed by Whisper, names the
practice), the agent really listened (the stored transcript holds the callee's words), and
the opt-out took effect as in the sandbox (the call ended, the contact opted out, a
revocation on record), with the call's outcome, duration and encrypted recording stored.

Piper's voice differs from run to run (its noise), and Whisper tiny.en mishears about one
rendition of the callee's line in 300 on a phone line ("Place dot call on me."), whatever the
pipeline does; the callee here says it clearly: a rendition Whisper hears as "stop calling"
however the pipeline cuts it (`spoken_lines.clearly`).
"""

from __future__ import annotations

import time
import wave
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import select

from ringfence.adapters.db.calls import CallTranscript
from ringfence.adapters.db.carriers import CarrierCall
from ringfence.adapters.db.orm import ConsentRecord, Contact
from ringfence.adapters.recording_store import (
    read_recording_bytes,
)
from ringfence.adapters.speech import PiperTts, WhisperStt, fresh_vad
from ringfence.adapters.telephony.sip.carrier import SipCarrier, SipOptions
from ringfence.adapters.telephony.sip.dialog import SipAccount
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.vocabulary import CallOutcome, CallStatus, ConsentKind
from ringfence.services.dispatch import (
    Dispatcher,
)
from ringfence.services.live_media import LiveMediaSessions, warm_up_understanding
from ringfence.speech.audio import CARRIER_RATE, STT_RATE, resample, silence
from ringfence.speech.contracts import SpeechEngines
from tests.integration.dispatch.practice import WINDOW_OPENS, Practice, make_practice
from tests.sip_peers import baresip
from tests.spoken_lines import clearly, say, words_of


def call_until_completed(
    container: Container,
    clock: VirtualClock,
    practice: Practice,
    job_id: int,
    callee_port: int,
    sessions: LiveMediaSessions,
    *,
    timeout_s: float = 60,
) -> None:
    """The dispatcher dials job `job_id` through the SIP carrier into the peer listening on
    `callee_port`, and ticks until the job is completed."""
    carrier = SipCarrier(
        container.session_factory,
        clock,
        SipOptions(
            trunk_host="127.0.0.1",
            trunk_port=callee_port,
            bind_host="127.0.0.1",
            account=SipAccount(domain="127.0.0.1", display_name="Glow"),
        ),
        prepare=sessions.prepare,
        live=container.live_calls,
    )
    try:
        dispatcher = Dispatcher(
            session_factory=container.session_factory,
            carrier=carrier,
            clock=clock,
            config=DispatchConfig(carrier_cps=10, carrier_burst=10, max_concurrent_calls=5),
        )
        assert dispatcher.tick().dialed == 1
        deadline = time.monotonic() + timeout_s
        while practice.job(job_id).status is not CallStatus.COMPLETED:
            assert time.monotonic() < deadline, "the call never ended"
            time.sleep(0.5)
            dispatcher.tick()
    finally:
        carrier.close()


@pytest.mark.parametrize(
    "over_the_opening",
    [
        pytest.param(False, id="after-the-opening"),
        pytest.param(True, id="over-the-opening"),
    ],
)
def test_a_sip_call_speaks_listens_and_applies_the_callees_opt_out(
    container: Container,
    clock: VirtualClock,
    piper_tts: PiperTts,
    whisper_stt: WhisperStt,
    tmp_path: Path,
    over_the_opening: bool,
) -> None:
    clock.set(WINDOW_OPENS)
    practice = make_practice(container)
    phone = "+12125550147"
    contact_id = practice.add_contact(phone)
    [job_id] = practice.enqueue(contact_id)
    container.settings.recordings_dir = tmp_path / "recordings"

    # The opening ("Hi, this is the AI assistant for Glow. ... Am I speaking with Pat?")
    # plays from the answer for about 6.5 s.
    prompt = b"".join(
        [
            silence(1.0, CARRIER_RATE),
            say(piper_tts, "Hello?"),
            silence(3.0 if over_the_opening else 9.0, CARRIER_RATE),
            clearly(piper_tts, whisper_stt, "Please stop calling me.", "stop calling me"),
            silence(25.0, CARRIER_RATE),  # baresip ends the call when its prompt ends
        ]
    )
    # What a worker does at start-up (the engines' warm-up): not in the call's preparation.
    warm_up_understanding()
    sessions = LiveMediaSessions(
        container.session_factory,
        engines=lambda: SpeechEngines(vad=fresh_vad(), stt=whisper_stt, tts=piper_tts),
        policy_for=lambda _name: ScriptedPolicy(),
        results=container.live_calls,
        store_dir=container.settings.recordings_dir,
        cipher=container.phi_cipher,
    )
    with baresip(tmp_path, prompt, user=phone) as callee:
        call_until_completed(container, clock, practice, job_id, callee.port, sessions)
        heard = callee.heard()

    job = practice.job(job_id)
    assert job.outcome is CallOutcome.CONNECTED
    assert job.duration_seconds is not None
    assert 5 <= job.duration_seconds <= 40
    with container.uow() as uow:
        contact = uow.session.get(Contact, contact_id)
        assert contact is not None
        stored = uow.session.scalars(
            select(CallTranscript.turns).where(CallTranscript.job_id == job_id)
        ).all()
        assert contact.dnd_voice is True, (practice.events(job_id), stored)
        assert contact.opted_out_at is not None
        revocation = uow.session.scalars(
            select(ConsentRecord).where(
                ConsentRecord.contact_id == contact_id,
                ConsentRecord.kind == ConsentKind.REVOCATION,
            )
        ).one()
        assert revocation is not None
        transcript = uow.session.scalars(
            select(CallTranscript).where(CallTranscript.job_id == job_id)
        ).one()
        turns = list(transcript.turns)
        recording_path = transcript.recording_path
        sip = uow.session.scalars(select(CarrierCall)).one()
        assert (sip.carrier, sip.status, sip.details) == ("sip", "connected", {"sip_status": 200})
        answered_at, ended_at = sip.answered_at, sip.ended_at

    # The agent listened: the callee's words are in the stored transcript.
    callee_said = " ".join(words_of(t["text"]) for t in turns if t["speaker"] == "callee")
    assert "stop calling me" in callee_said, turns
    assert turns[-1]["speaker"] == "agent"
    assert "won't receive any more calls" in turns[-1]["text"]
    opening, opt_out = turns[0], [t for t in turns if t["speaker"] == "callee"][-1]
    assert opening["speaker"] == "agent"
    if over_the_opening:  # the callee talked over it: the opening stopped there
        assert opt_out["start"] < opening["end"] < opt_out["end"], turns
    else:
        assert opening["end"] < opt_out["start"], turns

    # The agent spoke: what baresip heard names the practice.
    heard_text = whisper_stt.transcribe(
        resample(heard, CARRIER_RATE, STT_RATE), vocabulary=["Glow"]
    ).text
    assert "glow" in words_of(heard_text), heard_text

    # Both legs recorded, encrypted at rest, the transcript's offsets inside it.
    assert recording_path is not None
    recordings = container.settings.recordings_dir
    assert not (recordings / recording_path).read_bytes().startswith(b"RIFF")
    wav = read_recording_bytes(recordings, recording_path, cipher=container.phi_cipher)
    assert wav is not None
    with wave.open(BytesIO(wav)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
    assert turns[-1]["end"] <= seconds + 0.05
    # The recording spans the answered call; the job's duration runs from the dial, so it
    # also holds the agent's preparation (the opening synthesized before the INVITE).
    assert answered_at is not None
    assert ended_at is not None
    assert seconds == pytest.approx((ended_at - answered_at).total_seconds(), abs=1.0)
    assert seconds <= job.duration_seconds
