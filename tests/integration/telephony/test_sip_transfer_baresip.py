"""A warm transfer between real SIP peers on loopback: the agent's call to an auto-answering
baresip (the callee, which obeys REFER as a phone does) ends with a REFER to a second baresip
(the staff line); the callee calls the staff line, reports its answer in a NOTIFY, and our
call ends with its BYE. A staff line that refuses the call is a failed transfer, told to the
session (staff then get a call-back task)."""

from __future__ import annotations

import time
from pathlib import Path

from ringfence.adapters.telephony.base import CallReport, DialRequest
from ringfence.adapters.telephony.media import (
    MediaAction,
    MediaSession,
    OutboundAudio,
    StreamStart,
    Transfer,
)
from ringfence.adapters.telephony.sip.carrier import SipCarrier, SipOptions
from ringfence.adapters.telephony.sip.dialog import SipAccount
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import CallOutcome
from ringfence.speech.audio import CARRIER_RATE, silence
from tests.sip_peers import baresip
from tests.telephony_audio import tone

CALLEE = "+12125550147"


class TransferringAgent:
    """Says a short line once the call is answered, then hands the callee to `to`."""

    def __init__(self, to: str) -> None:
        self.to = to
        self.failed: list[str] = []
        self.stopped = 0

    def on_start(self, start: StreamStart) -> list[MediaAction]:
        return [OutboundAudio(tone(0.6), mark="please-hold"), Transfer(self.to)]

    def on_audio(self, pcm16: bytes, at: float) -> list[MediaAction]:
        return []

    def on_mark(self, name: str) -> list[MediaAction]:
        return []

    def on_stop(self) -> None:
        self.stopped += 1

    def transfer_failed(self, why: str) -> None:
        self.failed.append(why)


def _call(container: Container, clock: VirtualClock, port: int, agent: MediaSession) -> CallReport:
    carrier = SipCarrier(
        container.session_factory,
        clock,
        SipOptions(
            trunk_host="127.0.0.1",
            trunk_port=port,
            bind_host="127.0.0.1",
            account=SipAccount(domain="127.0.0.1", display_name="Glow"),
        ),
        prepare=lambda _key: agent,
    )
    try:
        carrier.dial(
            DialRequest(
                idempotency_key="transfer-1",
                to_e164=CALLEE,
                from_e164="+16465550198",
                job_id=1,
                contact_id=7,
            )
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            reports = carrier.completed_reports()
            if reports:
                [report] = reports
                return report
            time.sleep(0.1)
        raise AssertionError("the call never ended")
    finally:
        carrier.close()


def test_the_callee_is_transferred_to_the_staff_line(
    container: Container, clock: VirtualClock, tmp_path: Path
) -> None:
    with (
        baresip(tmp_path / "staff", silence(8.0, CARRIER_RATE), user="staff") as staff,
        baresip(
            tmp_path / "callee", silence(30.0, CARRIER_RATE), user=CALLEE, transfers=True
        ) as callee,
    ):
        agent = TransferringAgent(staff.uri)
        report = _call(container, clock, callee.port, agent)
        staff_log = (staff.directory / "log.txt").read_text(errors="replace")

    assert report.outcome is CallOutcome.CONNECTED
    assert agent.failed == [], staff_log
    assert agent.stopped == 1
    # The staff line was really called, by the callee's phone, and answered.
    assert sorted((staff.directory / "snd").glob("*-dec.wav")), staff_log


def test_a_staff_line_that_refuses_is_a_failed_transfer(
    container: Container, clock: VirtualClock, tmp_path: Path
) -> None:
    with (
        baresip(tmp_path / "staff", silence(8.0, CARRIER_RATE), user="staff") as staff,
        baresip(
            tmp_path / "callee", silence(30.0, CARRIER_RATE), user=CALLEE, transfers=True
        ) as callee,
    ):
        # baresip answers 404 to a user it does not have: the staff line refuses the call.
        agent = TransferringAgent(f"sip:nobody@127.0.0.1:{staff.port}")
        report = _call(container, clock, callee.port, agent)

    assert report.outcome is CallOutcome.CONNECTED
    assert len(agent.failed) == 1
    assert agent.failed[0].startswith("the staff line answered 4"), agent.failed
