"""The call log over HTTP: jobs with their compliance trail, cancel, and minutes used."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.pacing import DispatchConfig
from ringfence.services.dispatch import (
    Dispatcher,
)
from tests.conftest import Tenant
from tests.integration.dispatch.practice import WINDOW_OPENS, Practice


def _practice(container: Container, tenant: Tenant) -> Practice:
    practice = Practice(container, account_id=tenant.account_id, location_id=tenant.location_id)
    return practice


def test_call_log_trail_cancel_and_minutes(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> None:
    clock.set(WINDOW_OPENS - timedelta(days=1))
    practice = _practice(container, tenant)
    connected = practice.add_contact("+12125550100")
    no_consent = practice.add_contact("+12125550120", consent=False)
    later = practice.add_contact("+12125550111")
    clock.set(WINDOW_OPENS)
    dialed_id, failed_id, waiting_id = practice.enqueue(connected, no_consent, later)
    dispatcher = Dispatcher(
        session_factory=container.session_factory,
        carrier=SandboxCarrier(container.session_factory, clock),
        clock=clock,
        config=DispatchConfig(carrier_cps=5, carrier_burst=5),
    )
    dispatcher.tick()  # dials the first, fails the second; pacing keeps the third queued
    for _ in range(5):
        clock.advance(timedelta(seconds=50))
        dispatcher.tick()
        if (
            client.get(f"/api/v1/call-jobs/{waiting_id}", headers=tenant.headers).json()["status"]
            != "queued"
        ):
            break
    h = tenant.headers

    jobs = {j["id"]: j for j in client.get("/api/v1/call-jobs", headers=h).json()["items"]}
    assert jobs[failed_id]["status"] == "failed"
    assert jobs[failed_id]["reason_code"] == "no_opt_in"
    assert jobs[failed_id]["reason_text"]
    assert jobs[failed_id]["dialed_at"] is None

    detail = client.get(f"/api/v1/call-jobs/{dialed_id}", headers=h).json()
    assert detail["status"] == "completed"
    assert detail["outcome"] == "connected"
    assert [e["to_status"] for e in detail["events"]] == [
        "queued",
        "dialing",
        "ringing",
        "in_progress",
        "completed",
    ]
    assert detail["phone"] == "+12125550100"

    failed = client.get("/api/v1/call-jobs?status=failed", headers=h).json()["items"]
    assert [j["id"] for j in failed] == [failed_id]

    # The third call is in flight or done by now; a completed call cannot be canceled.
    refused = client.post(f"/api/v1/call-jobs/{dialed_id}/cancel", headers=h)
    assert refused.status_code == 409

    minutes = client.get("/api/v1/minutes", headers=h).json()
    assert len(minutes) == 1
    day = minutes[0]
    assert day["day"] == "2026-11-27"
    assert day["dials"] >= 1
    assert day["billable_seconds"] == detail["billable_seconds"] + (
        client.get(f"/api/v1/call-jobs/{waiting_id}", headers=h).json()["billable_seconds"] or 0
    )
    assert day["rejected_before_dial"] == 1


def test_pending_calls_can_be_canceled(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> None:
    clock.set(WINDOW_OPENS - timedelta(hours=2))
    practice = _practice(container, tenant)
    [job_id] = practice.enqueue(practice.add_contact("+12125550100"))
    canceled = client.post(f"/api/v1/call-jobs/{job_id}/cancel", headers=tenant.headers)
    assert canceled.status_code == 200
    body = canceled.json()
    assert body["status"] == "canceled"
    assert body["events"][-1]["reason_code"] == "canceled_by_user"
    again = client.post(f"/api/v1/call-jobs/{job_id}/cancel", headers=tenant.headers)
    assert again.status_code == 409
