"""The deployment's ringback reaches the answering-machine detector of its live calls.

`AmdConfig.ringback_hz` is off by default (US lines ring with 440 + 480 Hz, a tone AMD always
knows); a deployment whose lines ring at one frequency (425 Hz: most of Europe) turns it on
with `RINGFENCE_AMD_SINGLE_FREQUENCY_RINGBACK`. Without it, the first burst of such a ringback
is a beep-only voicemail and the message is left into a ringing line; with it, nobody is there.
"""

from __future__ import annotations

import pytest

from ringfence.adapters.telephony.media import StreamStart
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.session import AgentSession
from ringfence.bootstrap import Container
from ringfence.bootstrap.carriers import live_media_sessions
from ringfence.config import Settings
from ringfence.services.line_check import line_check_pipeline, line_check_session
from ringfence.services.live_media import engines_of
from ringfence.speech.amd import AmdReason, AmdVerdict
from ringfence.speech.amd_config import SINGLE_FREQUENCY_RINGBACK_HZ
from ringfence.speech.audio import CARRIER_RATE, silence
from ringfence.speech.pipeline import VoicePipeline
from ringfence.speech.synth import mix, noise
from tests.unit.agent.factories import outbound, profile
from tests.unit.speech.test_amd_tones import network

FRAME = 320  # bytes: 20 ms at 8 kHz


def test_the_setting_is_off_by_default() -> None:
    assert Settings().amd_single_frequency_ringback is False


@pytest.mark.parametrize("single_frequency", [False, True])
def test_a_425_hz_ringback_is_nobody_only_where_the_deployment_says_lines_ring_so(
    container: Container, single_frequency: bool
) -> None:
    container.settings.speech_engines = "fake"  # no model loads: the AMD is the same
    container.settings.amd_single_frequency_ringback = single_frequency
    sessions = live_media_sessions(container)
    assert sessions is not None
    config = sessions.amd_config(20)
    assert config.ringback_hz == (SINGLE_FREQUENCY_RINGBACK_HZ if single_frequency else (0, 0))

    pipeline = sessions.pipeline_for(AgentSession(profile(), outbound()))
    _hears_425_hz_ringback(pipeline, single_frequency)


@pytest.mark.parametrize("single_frequency", [False, True])
def test_a_line_test_hears_the_ringback_as_a_dispatched_call_would(single_frequency: bool) -> None:
    """`ringfence call-test` builds its own pipeline: with the same AMD as a live call."""
    pipeline = line_check_pipeline(
        line_check_session("Glow", "+12125550100"),
        engines=engines_of(Settings(), "fake")(),
        policy=ScriptedPolicy(),
        single_frequency_ringback=single_frequency,
    )
    _hears_425_hz_ringback(pipeline, single_frequency)


def _hears_425_hz_ringback(pipeline: VoicePipeline, single_frequency: bool) -> None:
    pipeline.on_start(StreamStart(call_key="job-1", call_sid="CA1", stream_sid="MZ1"))
    ringing = mix(
        silence(0.3, CARRIER_RATE) + network([425], 12.0, on=1.0, off=4.0),
        noise(12.3, level_dbfs=-55, seed=4),
    )
    for at in range(0, len(ringing), FRAME):
        pipeline.on_audio(ringing[at : at + FRAME], at / (2 * CARRIER_RATE))
    amd = pipeline.result().amd
    assert amd is not None
    if single_frequency:
        assert amd.verdict is AmdVerdict.UNKNOWN, amd
    else:  # the first burst, 0.8 s quiet after it, is a beep-only voicemail
        assert (amd.verdict, amd.reason) == (AmdVerdict.MACHINE, AmdReason.BEEP), amd
