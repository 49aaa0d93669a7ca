"""A full run, logged at DEBUG everywhere, names no patient (finding 6, item 6's grep).

One practice goes through what a day touches: caller ID, agent, a patient with an appointment,
a search by name and number, a duplicate (PostgreSQL's duplicate-key DETAIL names values), a
refused control character, a queued call dialed and held by the agent on the sandbox carrier,
its transcript read back, the dashboard, its drawer and the CSV export. Every record any logger
emits on the way (SQLAlchemy's statements included: `hide_parameters` must keep the values out)
is formatted through the handler filters `serve` and `worker` install, and the result is
searched for the patient's names, number (every spelling) and appointment's service.

Plant the bug this guards against (log a contact's name in the dispatcher, drop
`hide_parameters`, or drop the scrubber) and the test fails naming the line.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.log_safety import install_log_safety
from tests.conftest import Tenant
from tests.e2e.sandbox_practice import dial_when_the_window_opens, practice_over_api
from tests.e2e.web_client import sign_in
from tests.integration.dispatch.practice import WINDOW_OPENS

PHONE = "+12125550164"
FIRST, LAST = "Quillon", "Vantasser"  # names no template, code or fixture contains
SERVICE = "Sculptraxine"


@pytest.fixture
def everything_logged() -> Iterator[io.StringIO]:
    """Every logger at DEBUG into one stream, through the production filters."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    root.handlers = [handler]
    root.setLevel(logging.DEBUG)
    # SQLAlchemy logs statements at INFO on its own logger: with parameters, unless hidden.
    engine_log = logging.getLogger("sqlalchemy.engine")
    saved_engine_level = engine_log.level
    engine_log.setLevel(logging.INFO)
    # The test client's own request lines are the caller's log, not the server's.
    client_logs = [logging.getLogger(name) for name in ("httpx", "httpx2")]
    saved_client_levels = [log.level for log in client_logs]
    for log in client_logs:
        log.setLevel(logging.WARNING)
    install_log_safety(root)
    try:
        yield stream
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        engine_log.setLevel(saved_engine_level)
        for log, level in zip(client_logs, saved_client_levels, strict=True):
            log.setLevel(level)


def _spellings(phone: str) -> list[str]:
    national = phone[2:]
    return [
        phone,
        national,
        f"({national[:3]}) {national[3:6]}-{national[6:]}",
        f"{national[:3]}-{national[3:6]}-{national[6:]}",
        "%2B" + phone[1:],
    ]


def test_a_full_run_logs_no_name_number_or_service(
    client: TestClient,
    container: Container,
    clock: VirtualClock,
    tenant: Tenant,
    everything_logged: io.StringIO,
) -> None:
    h = tenant.headers
    clock.set(WINDOW_OPENS - timedelta(days=1))
    practice = practice_over_api(client, container, tenant)
    contact = practice.add_contact(PHONE, first_name=FIRST, last_name=LAST)
    booked = client.post(
        "/api/v1/appointments",
        json={"contact_id": contact, "starts_at": "2026-11-28T19:00:00Z", "service": SERVICE},
        headers=h,
    )
    assert booked.status_code == 201, booked.text
    # Searches by name and number, a duplicate, a control character: each a chance to log.
    assert client.get("/api/v1/contacts", params={"q": LAST}, headers=h).status_code == 200
    assert client.get("/api/v1/contacts", params={"phone": PHONE}, headers=h).status_code == 200
    twice = client.post(
        "/api/v1/phone-numbers",
        json={"location_id": tenant.location_id, "e164": "+12125550199"},
        headers=h,
    )
    assert twice.status_code == 409
    nul = client.get("/api/v1/contacts", params={"q": f"{LAST}\x00"}, headers=h)
    assert nul.status_code == 422

    [job_id] = practice.enqueue(contact)
    dial_when_the_window_opens(container, clock)
    job = client.get(f"/api/v1/call-jobs/{job_id}", headers=h).json()
    assert job["status"] == "completed", job
    transcript = client.get(f"/api/v1/call-jobs/{job_id}/transcript", headers=h).json()
    said = " ".join(turn["text"] for turn in transcript["turns"])
    assert FIRST in said  # the agent asked for the patient by name: PHI was in play

    assert sign_in(client, tenant).status_code == 303
    outbound = "/app/voice-ai/dashboards/outbound"
    assert FIRST in client.get(outbound, params={"range": "30d"}).text
    assert client.get(f"{outbound}/calls/{job_id}").status_code == 200
    export = client.get(f"{outbound}/export.csv", params={"range": "30d"})
    assert LAST in export.text

    log = everything_logged.getvalue()
    assert "SQL parameters hidden" in log  # the statements were logged, their values not
    assert "dispatch" in log.lower() or "call_jobs" in log  # the run really was logged
    leaks = [
        (needle, line)
        for line in log.splitlines()
        for needle in (FIRST, LAST, SERVICE, *_spellings(PHONE))
        if needle.lower() in line.lower()
    ]
    assert leaks == [], leaks[:5]
