"""A practice set up over the API, and its queued calls dialed on the sandbox carrier: the
start and the middle of the end-to-end call tests."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.pacing import DispatchConfig
from ringfence.services.dispatch import Dispatcher
from tests.conftest import Tenant
from tests.integration.dispatch.practice import WINDOW_OPENS, Practice


def practice_over_api(client: TestClient, container: Container, tenant: Tenant) -> Practice:
    """The tenant's location with a caller ID and a voice agent ("Desk" of "Glow"), both made
    through the API as a practice would."""
    number = client.post(
        "/api/v1/phone-numbers",
        json={"location_id": tenant.location_id, "e164": "+12125550199"},
        headers=tenant.headers,
    ).json()
    agent = client.post(
        "/api/v1/voice-agents",
        json={"location_id": tenant.location_id, "name": "Desk", "practice_name": "Glow"},
        headers=tenant.headers,
    ).json()
    practice = Practice(container, account_id=tenant.account_id, location_id=tenant.location_id)
    practice.agent_id, practice.number_id = agent["id"], number["id"]
    return practice


def dial_when_the_window_opens(
    container: Container, clock: VirtualClock, *, minutes: int = 8
) -> None:
    """Tick the real dispatcher on the sandbox carrier once a minute from the window's
    opening, long enough for a queued call to be dialed, held by the agent and settled."""
    dispatcher = Dispatcher(
        session_factory=container.session_factory,
        carrier=SandboxCarrier(container.session_factory, clock),
        clock=clock,
        config=DispatchConfig(carrier_cps=5, carrier_burst=5),
    )
    clock.set(WINDOW_OPENS)
    for _ in range(minutes):
        dispatcher.tick()
        clock.advance(timedelta(minutes=1))
