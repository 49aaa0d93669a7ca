"""A contact's call history: each call opens in its own dashboard's drawer (an answered
incoming call in the inbound one's), and a call with a recording says so with a link to the
drawer, where the recording plays and its read is logged (the page embeds no audio)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from ringfence.adapters.db.calls import CallJob, CallTranscript
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import (
    CallDirection,
    CallOutcome,
    CallPurpose,
    CallStatus,
    CallType,
)
from tests.conftest import Tenant
from tests.e2e.test_web_contacts import AVA, _consent, _contact, _enqueue
from tests.e2e.web_client import sign_in

DASHBOARDS = "/app/voice-ai/dashboards"


def _answered_call(container: Container, t: Tenant, contact_id: int, *, recorded: bool) -> int:
    """An incoming call the practice's line answered, with its transcript (and recording)."""
    with container.uow() as uow:
        now = uow.clock.now() - timedelta(hours=1)
        job = CallJob(
            account_id=t.account_id,
            location_id=t.location_id,
            contact_id=contact_id,
            action_name="Incoming call",
            purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
            call_type=CallType.LIVE,
            direction=CallDirection.INBOUND,
            status=CallStatus.COMPLETED,
            outcome=CallOutcome.CONNECTED,
            evaluations=0,
            phone_e164=AVA,
            duration_seconds=42,
            ended_at=now + timedelta(seconds=42),
            created_at=now,
            updated_at=now,
        )
        uow.session.add(job)
        uow.session.flush()
        uow.session.add(
            CallTranscript(
                account_id=t.account_id,
                job_id=job.id,
                turns=[{"speaker": "agent", "text": "Glow Aesthetics.", "start": 0.5, "end": 1.5}],
                recording_path=f"{t.account_id}/{job.id}.wav.enc" if recorded else None,
                recording_seconds=42.0 if recorded else None,
                created_at=now,
            )
        )
        job_id = job.id
        uow.commit()
    return job_id


def _row(page: str, job_id: int) -> str:
    calls = page.split('id="contact-calls"')[1]
    return calls.split(f'<tr data-job="{job_id}"')[1].split("</tr>")[0]


def test_calls_link_to_their_own_dashboards_drawer_with_the_recording(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    ava = _contact(client, tenant, "Ava", AVA)
    _consent(client, tenant, ava)
    placed = _enqueue(container, tenant, ava)
    recorded = _answered_call(container, tenant, ava, recorded=True)
    unrecorded = _answered_call(container, tenant, ava, recorded=False)
    sign_in(client, tenant)
    page = client.get(f"/app/contacts/{ava}").text
    assert '<th scope="col">Recording</th>' in page
    assert "<audio" not in page  # played in the drawer only, where the read is logged

    where = f"?location={tenant.location_id}"
    outbound = _row(page, placed)
    assert 'data-direction="outbound"' in outbound
    assert f'href="{DASHBOARDS}/outbound/calls/{placed}{where}"' in outbound
    assert "No recording" in outbound
    assert "Play recording" not in outbound

    inbound = _row(page, recorded)
    assert 'data-direction="inbound"' in inbound
    assert "(incoming call)" in inbound
    assert "not dialed" not in inbound
    drawer = f"{DASHBOARDS}/inbound/calls/{recorded}{where}"
    assert f'href="{drawer}"' in inbound
    assert f'href="{drawer}#recording-player" class="call-recording">Play recording' in inbound
    assert "/outbound/" not in inbound
    opened = client.get(drawer)
    assert opened.status_code == 200
    assert 'id="recording-player"' in opened.text  # the link lands on a player

    quiet = _row(page, unrecorded)
    assert f'href="{DASHBOARDS}/inbound/calls/{unrecorded}{where}"' in quiet
    assert "Play recording" not in quiet
    assert "No recording" in quiet
