"""`ringfence call-test`: one real SIP call to baresip on loopback, its report, its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringfence.entrypoints.cli import app
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
