"""The SIP carrier as the worker builds it from the settings: a number whose carrier is sip
dials through the configured trunk (SIPp here), with the configured ring timeout's floor, and a
worker without a trunk or without speech engines refuses SIP dials, saying what is missing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from ringfence.adapters.db.orm import CarrierKind
from ringfence.adapters.telephony.base import TelephonyError
from ringfence.adapters.telephony.router import CarrierRouter, UnavailableCarrier
from ringfence.adapters.telephony.sip.carrier import SipCarrier
from ringfence.bootstrap import Container
from ringfence.bootstrap.carriers import make_carrier, make_sip_carrier
from ringfence.clock import VirtualClock
from ringfence.config import Settings
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.vocabulary import CallOutcome, CallStatus
from ringfence.services.dispatch import (
    Dispatcher,
)
from ringfence.speech.contracts import SpeechEngineUnavailable
from tests.integration.dispatch.practice import WINDOW_OPENS, Practice, make_practice
from tests.sip_peers import final_response, sipp


@pytest.fixture
def practice(container: Container, clock: VirtualClock) -> Practice:
    clock.set(WINDOW_OPENS)
    practice = make_practice(container)
    practice.use_carrier(CarrierKind.SIP)
    return practice


@pytest.fixture
def closing(container: Container) -> Iterator[Container]:
    yield container
    held = container.shared.sip_carrier
    if isinstance(held, SipCarrier):
        held.close()


def test_a_sip_number_dials_through_the_configured_trunk(
    closing: Container, practice: Practice, tmp_path: Path
) -> None:
    container = closing
    [job_id] = practice.enqueue(practice.add_contact("+12125550188"))
    with sipp(tmp_path, final_response("486 Busy Here")) as peer:
        container.settings.sip_trunk_host = "127.0.0.1"
        container.settings.sip_trunk_port = peer.port
        container.settings.sip_bind_host = "127.0.0.1"
        container.settings.speech_engines = "fake"
        carrier = make_carrier(container)
        assert isinstance(carrier, CarrierRouter)
        assert make_sip_carrier(container) is make_sip_carrier(container)  # one per process
        dispatcher = Dispatcher(
            session_factory=container.session_factory,
            carrier=carrier,
            clock=container.clock,
            config=DispatchConfig(carrier_cps=10, carrier_burst=10, max_concurrent_calls=5),
        )
        assert dispatcher.tick().dialed == 1
        deadline = time.monotonic() + 20
        while practice.job(job_id).status is not CallStatus.COMPLETED:
            assert time.monotonic() < deadline, "the job never completed"
            time.sleep(0.1)
            dispatcher.tick()
        assert peer.wait() == 0
    job = practice.job(job_id)
    assert job.outcome is CallOutcome.BUSY
    assert job.carrier_reason == "busy (SIP 486 Busy Here)"


def test_without_a_trunk_sip_dials_are_refused_saying_what_to_set(container: Container) -> None:
    carrier = make_sip_carrier(container)
    assert isinstance(carrier, UnavailableCarrier)
    assert "RINGFENCE_SIP_TRUNK_HOST" in carrier.reason


def test_without_speech_engines_no_sip_call_is_placed(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(choice: str) -> object:
        raise SpeechEngineUnavailable("speech_engines=local needs faster-whisper")

    monkeypatch.setattr("ringfence.bootstrap.carriers.engines_of", missing)
    container.settings.sip_trunk_host = "127.0.0.1"
    carrier = make_sip_carrier(container)
    assert isinstance(carrier, UnavailableCarrier)
    assert "speech engines" in carrier.reason
    with pytest.raises(TelephonyError, match="sip carrier unavailable"):
        carrier.dial(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("seconds", [0, 14.9, 121])
def test_the_ring_timeout_setting_keeps_within_15_to_120_seconds(seconds: float) -> None:
    with pytest.raises(ValidationError, match="sip_ring_timeout"):
        Settings(sip_ring_timeout=seconds)
