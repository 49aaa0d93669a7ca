"""A caller rings the practice over SIP on loopback (issue 19): baresip places the call TO
Ringfence's SIP carrier, from a patient's number to the practice line, and plays the caller's
side (Piper) while recording what it hears.

Asserted, with the real speech engines: the agent answered with its greeting (baresip's
recording, transcribed, thanks the caller for calling the practice); "can I move my
appointment to Friday" (and "yes, this is Maria" when the agent checks who is calling) becomes
the reschedule task; "please stop calling me" suppresses the number for the whole practice and
cancels the outbound call queued to it. Each call is one inbound call record, completed, with
its transcript and encrypted recording.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ringfence.adapters.db.calls import CallJob, CallTranscript
from ringfence.adapters.db.orm import Appointment, Task
from ringfence.adapters.recording_store import read_recording_bytes
from ringfence.adapters.speech import PiperTts, WhisperStt, fresh_vad
from ringfence.adapters.telephony.sip.carrier import SipCarrier, SipOptions
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.bootstrap import Container
from ringfence.bootstrap.carriers import sip_answerer
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import (
    AppointmentStatus,
    CallDirection,
    CallOutcome,
    CallStatus,
)
from ringfence.services.inbound_live import InboundLiveCalls
from ringfence.services.live_media import LiveMediaSessions, warm_up_understanding
from ringfence.services.suppression import suppression_of
from ringfence.speech.audio import CARRIER_RATE, STT_RATE, resample, silence
from ringfence.speech.contracts import SpeechEngines
from tests.integration.dispatch.practice import BEFORE_WINDOW, Practice, make_practice
from tests.sip_peers import baresip, free_sip_port
from tests.spoken_lines import clearly, words_of

LINE = "+12125550199"  # make_practice's number: the practice line patients call
PATIENT = "+12125550147"


def _inbound_job(container: Container) -> CallJob | None:
    with container.uow() as uow:
        job = uow.session.scalars(
            select(CallJob).where(CallJob.direction == CallDirection.INBOUND)
        ).one_or_none()
        if job is not None:
            uow.session.expunge(job)
        return job


def _take_the_call(
    container: Container,
    clock: VirtualClock,
    tmp_path: Path,
    piper: PiperTts,
    whisper: WhisperStt,
    prompt: bytes,
) -> tuple[CallJob, bytes]:
    """baresip calls the practice line as the patient, says `prompt`, and hangs up when it
    ends; the call's record once completed, and what baresip heard."""
    warm_up_understanding()  # what a worker does at start-up
    container.settings.recordings_dir = tmp_path / "recordings"
    sessions = LiveMediaSessions(
        container.session_factory,
        engines=lambda: SpeechEngines(vad=fresh_vad(), stt=whisper, tts=piper),
        policy_for=lambda _name: ScriptedPolicy(),
        results=container.live_calls,
        store_dir=container.settings.recordings_dir,
        cipher=container.phi_cipher,
    )
    inbound = InboundLiveCalls(
        container.uow,
        pipeline_for=sessions.pipeline_for,
        store_dir=container.settings.recordings_dir,
        cipher=container.phi_cipher,
        max_concurrent_calls=5,
    )
    caller_port = free_sip_port()
    carrier = SipCarrier(
        container.session_factory,
        clock,
        SipOptions(trunk_host="127.0.0.1", trunk_port=caller_port, bind_host="127.0.0.1"),
        answer=sip_answerer(inbound),
    )
    try:
        host, port = carrier.local_address
        dial = f"sip:{LINE}@{host}:{port}"
        with baresip(tmp_path, prompt, user=PATIENT, dial=dial, port=caller_port) as caller:
            deadline = time.monotonic() + 90
            while True:
                job = _inbound_job(container)
                if job is not None and job.status is CallStatus.COMPLETED:
                    break
                assert time.monotonic() < deadline, f"the call never ended ({job})"
                time.sleep(0.5)
            heard = caller.heard()
    finally:
        carrier.close()
    return job, heard


def _turns(container: Container, job_id: int) -> tuple[list[dict[str, object]], str | None]:
    with container.uow() as uow:
        transcript = uow.session.scalars(
            select(CallTranscript).where(CallTranscript.job_id == job_id)
        ).one()
        return list(transcript.turns), transcript.recording_path


def _with_appointment(container: Container, practice: Practice) -> int:
    maria = practice.add_contact(PATIENT, first_name="Maria")
    with container.uow() as uow:
        now = uow.clock.now()
        uow.session.add(
            Appointment(
                account_id=practice.account_id,
                location_id=practice.location_id,
                contact_id=maria,
                starts_at=now + timedelta(days=2),
                service="Botox touch-up",
                status=AppointmentStatus.SCHEDULED,
                created_at=now,
                updated_at=now,
            )
        )
        uow.commit()
    return maria


def test_a_caller_moves_her_appointment_over_sip(
    container: Container,
    clock: VirtualClock,
    piper_tts: PiperTts,
    whisper_stt: WhisperStt,
    tmp_path: Path,
) -> None:
    clock.set(BEFORE_WINDOW)
    practice = make_practice(container)
    maria = _with_appointment(container, practice)
    prompt = b"".join(
        [
            silence(9.0, CARRIER_RATE),  # the greeting plays
            clearly(piper_tts, whisper_stt, "Can I move my appointment to Friday?", "friday"),
            silence(7.0, CARRIER_RATE),  # "... Am I speaking with Maria?"
            clearly(piper_tts, whisper_stt, "Yes, this is Maria.", "yes"),
            silence(10.0, CARRIER_RATE),  # her appointment, and the request taken down
        ]
    )
    job, heard = _take_the_call(container, clock, tmp_path, piper_tts, whisper_stt, prompt)

    assert (job.outcome, job.contact_id, job.phone_e164) == (CallOutcome.CONNECTED, maria, PATIENT)
    assert job.dialed_at is None
    assert job.duration_seconds is not None
    assert job.duration_seconds > 10
    turns, recording = _turns(container, job.id)
    callee_said = " ".join(words_of(str(t["text"])) for t in turns if t["speaker"] == "callee")
    assert "friday" in callee_said, turns
    with container.uow() as uow:
        tasks = uow.session.scalars(select(Task).where(Task.contact_id == maria)).all()
        assert any(t.title == "Reschedule appointment" and "Friday" in t.body for t in tasks), [
            (t.title, t.body) for t in tasks
        ]

    # The agent answered with its greeting: what the caller heard thanks them for calling.
    greeting = whisper_stt.transcribe(
        resample(heard[: 8 * CARRIER_RATE * 2], CARRIER_RATE, STT_RATE), vocabulary=["Glow"]
    ).text
    assert "calling" in words_of(greeting), greeting
    assert "glow" in words_of(greeting), greeting

    # Both legs recorded, encrypted at rest.
    assert recording is not None
    recordings = container.settings.recordings_dir
    assert not (recordings / recording).read_bytes().startswith(b"RIFF")
    assert read_recording_bytes(recordings, recording, cipher=container.phi_cipher)


def test_stop_calling_me_over_sip_suppresses_the_number_and_cancels_outbound_calls(
    container: Container,
    clock: VirtualClock,
    piper_tts: PiperTts,
    whisper_stt: WhisperStt,
    tmp_path: Path,
) -> None:
    clock.set(BEFORE_WINDOW)
    practice = make_practice(container)
    maria = practice.add_contact(PATIENT, first_name="Maria")
    [queued] = practice.enqueue(maria)
    prompt = b"".join(
        [
            silence(9.0, CARRIER_RATE),
            clearly(piper_tts, whisper_stt, "Please stop calling me.", "stop calling me"),
            silence(10.0, CARRIER_RATE),
        ]
    )
    job, _heard = _take_the_call(container, clock, tmp_path, piper_tts, whisper_stt, prompt)

    # The whole transcript as one string: pytest shortens an object's repr, not a string.
    assert job.produced == ["opted_out"], json.dumps(_turns(container, job.id))
    assert practice.job(queued).status is CallStatus.CANCELED
    with container.uow() as uow:
        assert suppression_of(uow.session, practice.account_id, PATIENT) is not None
    turns, _ = _turns(container, job.id)
    assert turns[-1]["speaker"] == "agent"
    assert "won't receive any more calls" in str(turns[-1]["text"])


@pytest.fixture(autouse=True)
def _no_leftover_calls(container: Container) -> None:
    """Each test starts with no inbound call on record (they find theirs by direction)."""
    assert _inbound_job(container) is None
