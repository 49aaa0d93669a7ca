"""`ringfence call-test`: one real SIP call to baresip on loopback, its report, its refusals."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.config import Settings
from ringfence.entrypoints.cli import app
from ringfence.services.line_check import (
    LineTarget,
    PhoneNumberTarget,
    line_check_session,
    place_line_check,
)
from ringfence.services.live_media import engines_of
from ringfence.speech.audio import CARRIER_RATE, silence
from tests.sip_peers import baresip
from tests.telephony_audio import speech_like

runner = CliRunner()


def test_call_test_places_a_sip_call_and_reports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RINGFENCE_SIP_TRUNK_HOST", raising=False)
    prompt = silence(0.5, CARRIER_RATE) + speech_like(1.0) + silence(10.0, CARRIER_RATE)
    with baresip(tmp_path, prompt, user="line") as callee:
        result = runner.invoke(
            app,
            [
                "call-test",
                "--carrier",
                "sip",
                "--to",
                callee.uri,
                "--engines",
                "fake",
                "--practice",
                "Glow",
                "--max-seconds",
                "3",
                "--json",
            ],
        )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["answered"] is True
    assert report["sip_status"] == 200
    assert report["hung_up_by"] == "limit"  # --max-seconds
    assert report["packets_sent"] > 100
    assert report["packets_received"] > 100
    assert report["answer_to_first_audio_ms"] is not None
    agent_lines = [line["text"] for line in report["transcript"] if line["speaker"] == "agent"]
    assert agent_lines
    assert "Glow" in agent_lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "+12125550100"], "is not a SIP URI"),
        (["--to", "sip:200@pbx.example.com", "--carrier", "twilio"], "only sip is line-tested"),
        (["--to", "sip:200@pbx.example.com", "--trunk", "pbx:99999"], "port must be a number"),
    ],
)
def test_call_test_refuses_what_it_must_not_dial(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["call-test", "--engines", "fake", *args])
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.fixture
def trunk() -> Iterator[socket.socket]:
    """A fake SIP trunk on loopback: a UDP socket that records whether anything reached it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.3)
        yield sock


@pytest.mark.parametrize(
    "user",
    [
        "+12125550147",
        "2125550147",
        "1-212-555-0147",
        "(212)%20555-0147",
        "%2B12125550147",
        "912125550147",
    ],
)
def test_call_test_never_dials_a_phone_number(user: str, trunk: socket.socket) -> None:
    """A phone number has consent, a calling window and throttles: only a workflow (through
    the pre-dial compliance gate) may call it, never the line test."""
    port = trunk.getsockname()[1]
    for target in (f"sip:{user}@127.0.0.1:{port}", f"sip:{user}@trunk"):
        result = runner.invoke(
            app,
            [
                *("call-test", "--carrier", "sip", "--to", target),
                *("--trunk", f"127.0.0.1:{port}", "--engines", "fake", "--ring-timeout", "5"),
            ],
        )
        assert result.exit_code == 2, result.output
        assert "phone number" in result.stderr
        assert "workflow" in result.stderr
        assert "compliance gate" in result.stderr
        assert "Calling" not in result.stdout
    with pytest.raises(TimeoutError):
        trunk.recv(65535)  # no INVITE (nor anything else) reached the trunk


def test_call_test_refuses_a_tel_uri(trunk: socket.socket) -> None:
    port = trunk.getsockname()[1]
    result = runner.invoke(
        app,
        [
            *("call-test", "--to", "tel:+1-212-555-0147"),
            *("--trunk", f"127.0.0.1:{port}", "--engines", "fake"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "phone number" in result.stderr
    with pytest.raises(TimeoutError):
        trunk.recv(65535)


def test_the_line_test_service_refuses_a_phone_number_too(trunk: socket.socket) -> None:
    """Not only the command: `place_line_check` itself checks before opening an endpoint."""
    port = trunk.getsockname()[1]
    target = LineTarget("127.0.0.1", port, f"sip:+12125550147@127.0.0.1:{port}", "ringfence")
    with pytest.raises(PhoneNumberTarget, match="compliance gate"):
        place_line_check(
            target,
            line_check_session("Glow", "+12125550100"),
            engines=engines_of(Settings(), "fake")(),
            policy=ScriptedPolicy(),
        )
    with pytest.raises(TimeoutError):
        trunk.recv(65535)
