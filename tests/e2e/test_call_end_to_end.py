"""One outbound sandbox call end to end: queued job -> dial -> conversation -> transcript,
recording, outcome and triggered actions, read back over the API."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ringfence.adapters.speech import default_voices
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.services.recordings import (
    render_pending,
)
from ringfence.speech.contracts import SpeechEngineUnavailable
from tests.conftest import Tenant
from tests.e2e.sandbox_practice import dial_when_the_window_opens, practice_over_api
from tests.integration.dispatch.practice import WINDOW_OPENS


def test_queued_job_to_transcript_recording_outcome_and_actions(
    client: TestClient,
    container: Container,
    clock: VirtualClock,
    tenant: Tenant,
    tmp_path: Path,
) -> None:
    try:
        agent_voice, callee_voice = default_voices()
    except SpeechEngineUnavailable as exc:
        pytest.skip(f"no speech engine installed: {exc}")
    h = tenant.headers
    container.settings.recordings_dir = tmp_path
    clock.set(WINDOW_OPENS - timedelta(days=1))
    practice = practice_over_api(client, container, tenant)
    contact = practice.add_contact("+12125550110", first_name="Jane")  # persona: confirms
    client.post(
        "/api/v1/appointments",
        json={
            "contact_id": contact,
            "starts_at": "2026-11-28T19:00:00Z",
            "service": "Botox touch-up",
        },
        headers=h,
    )
    [job_id] = practice.enqueue(contact)

    dial_when_the_window_opens(container, clock)
    assert (
        render_pending(
            container.session_factory,
            store_dir=tmp_path,
            agent_voice=agent_voice,
            callee_voice=callee_voice,
        )
        == 1
    )

    job = client.get(f"/api/v1/call-jobs/{job_id}", headers=h).json()
    assert (job["status"], job["outcome"]) == ("completed", "connected")
    transcript = client.get(f"/api/v1/call-jobs/{job_id}/transcript", headers=h).json()
    assert transcript["turns"][0]["speaker"] == "agent"
    assert "Glow" in transcript["turns"][0]["text"]
    assert transcript["sentiment"] in ("positive", "neutral")
    assert transcript["has_recording"] is True
    assert transcript["recording_seconds"] == pytest.approx(transcript["turns"][-1]["end"], abs=2)
    audio = client.get(f"/api/v1/call-jobs/{job_id}/recording", headers=h)
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF"
    appointment = client.get(f"/api/v1/appointments?contact_id={contact}", headers=h).json()
    assert appointment["items"][0]["status"] == "confirmed"
    tags = client.get(f"/api/v1/contacts/{contact}", headers=h).json()["tags"]
    assert "Appointment Confirmed" in tags
