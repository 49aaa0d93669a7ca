"""A whole SIP conversation ending in a warm transfer, with the real speech engines: the
dispatcher dials an auto-answering baresip (the callee, which obeys REFER as a phone does);
the callee says "Hello?", then, after the agent's opening, asks for someone at the front desk;
the agent says it is transferring them and REFERs the callee to the staff line (a second
baresip), which the callee's phone then calls. The call is logged as transferred.

The practice's staff line is a SIP address here (a PBX extension), reachable on loopback."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ringfence.adapters.db.calls import CallAction, CallTranscript
from ringfence.adapters.db.orm import VoiceAgent
from ringfence.adapters.speech import PiperTts, WhisperStt, fresh_vad
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.staff_hours import DAYS
from ringfence.domain.vocabulary import CallOutcome
from ringfence.services.live_media import LiveMediaSessions, warm_up_understanding
from ringfence.speech.audio import CARRIER_RATE, silence
from ringfence.speech.contracts import SpeechEngines
from tests.integration.dispatch.practice import WINDOW_OPENS, make_practice
from tests.integration.telephony.test_sip_live_call import call_until_completed
from tests.sip_peers import baresip
from tests.spoken_lines import clearly, say, words_of


def test_asking_for_the_front_desk_over_sip_transfers_the_call(
    container: Container,
    clock: VirtualClock,
    piper_tts: PiperTts,
    whisper_stt: WhisperStt,
    tmp_path: Path,
) -> None:
    clock.set(WINDOW_OPENS)
    practice = make_practice(container)
    phone = "+12125550148"
    contact_id = practice.add_contact(phone)
    [job_id] = practice.enqueue(contact_id)
    container.settings.recordings_dir = tmp_path / "recordings"
    prompt = b"".join(
        [
            silence(1.0, CARRIER_RATE),
            say(piper_tts, "Hello?"),
            silence(9.0, CARRIER_RATE),  # the opening (about 6.5 s) plays to its end
            clearly(
                piper_tts,
                whisper_stt,
                "Can I talk to someone at the front desk, please?",
                "front desk",
            ),
            silence(25.0, CARRIER_RATE),
        ]
    )
    warm_up_understanding()
    sessions = LiveMediaSessions(
        container.session_factory,
        engines=lambda: SpeechEngines(vad=fresh_vad(), stt=whisper_stt, tts=piper_tts),
        policy_for=lambda _name: ScriptedPolicy(),
        results=container.live_calls,
        store_dir=container.settings.recordings_dir,
        cipher=container.phi_cipher,
    )
    with (
        baresip(tmp_path / "staff", silence(10.0, CARRIER_RATE), user="staff") as staff,
        baresip(tmp_path / "callee", prompt, user=phone, transfers=True) as callee,
    ):
        with container.uow() as uow:
            agent = uow.session.get(VoiceAgent, practice.agent_id)
            assert agent is not None
            agent.transfer_number = staff.uri
            agent.staff_hours = {day: ["00:00-24:00"] for day in DAYS}
            uow.commit()
        call_until_completed(
            container, clock, practice, job_id, callee.port, sessions, timeout_s=90
        )
        staff_log = (staff.directory / "log.txt").read_text(errors="replace")

    assert practice.job(job_id).outcome is CallOutcome.CONNECTED
    with container.uow() as uow:
        turns = uow.session.scalars(
            select(CallTranscript.turns).where(CallTranscript.job_id == job_id)
        ).one()
        kinds = list(
            uow.session.scalars(select(CallAction.kind).where(CallAction.job_id == job_id))
        )
    callee_said = " ".join(words_of(t["text"]) for t in turns if t["speaker"] == "callee")
    assert "front desk" in callee_said, turns
    assert "transferring you" in turns[-1]["text"], turns
    assert "call_transferred" in kinds, (kinds, turns)
    # The staff line really rang and answered: the callee's phone called it.
    assert "answering call" in staff_log, staff_log
