"""Webhook deliveries are bounded in time and size (finding 2, issue item 2: "size and time
limits").

Before: `httpx.Timeout(10, connect=5)` bounds each read, not the request, so a receiver that
drips its answer a byte at a time held the worker as long as it liked; and nothing bounded
the body sent. Now one request has an overall deadline (`DeadlineTransport`), and a body over
`MAX_BODY_BYTES` is never sent. The drip server below is on loopback, which the guard refuses:
the deadline lives in the guard's inner transport, tested here on its own, and the delivery's
row is pointed at the server directly (as a DNS answer the guard accepted would be)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.workflows import WebhookDelivery
from ringfence.adapters.http.guarded import (
    DEADLINE_SECONDS,
    MAX_BODY_BYTES,
    DeadlineTransport,
    GuardedTransport,
    OutboundRefused,
    guarded_client,
)
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.services.workflows.webhooks import deliver_due
from tests.conftest import Tenant
from tests.e2e.workflow_practice import WorkflowPractice
from tests.security.test_ssrf import Resolver

# The server's answer takes DRIP_BYTES x DRIP_EVERY (3 s) in all, each byte well inside the
# per-read timeout; the deadline under test is far shorter.
DRIP_BYTES = 60
DRIP_EVERY = 0.05
DEADLINE = 0.5


@pytest.fixture
def drip_server() -> Iterator[str]:
    """An HTTP server on loopback that answers 200, one header byte at a time."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
                    for _ in range(DRIP_BYTES):
                        if stop.is_set():
                            return
                        conn.sendall(b"x")
                        time.sleep(DRIP_EVERY)
                    conn.sendall(b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    continue  # the client gave up: what the deadline is for

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    host, port = listener.getsockname()[:2]
    yield f"http://{host}:{port}/hook"
    stop.set()
    listener.close()
    thread.join(timeout=10)


@pytest.fixture
def wp(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> WorkflowPractice:
    return WorkflowPractice(client, container, clock, tenant)


def _queued_delivery(wp: WorkflowPractice) -> int:
    wp.workflow(
        {
            "trigger": {"kind": "custom", "event_name": "lead"},
            "audience": {"require_crm_form_consent": False},
            "steps": [
                {"type": "send_webhook", "url": "https://crm.example.com/h", "secret": "s" * 20}
            ],
        }
    )
    contact = wp.practice.add_contact("+12125550130")
    wp.post("/events", {"event_id": "e-1", "type": "custom", "name": "lead", "contact_id": contact})
    wp.runner.run_due()
    with wp.container.uow() as uow:
        [row] = uow.session.scalars(select(WebhookDelivery)).all()
        return row.id


def _set(wp: WorkflowPractice, delivery_id: int, **values: str) -> None:
    with wp.container.uow() as uow:
        row = uow.session.get(WebhookDelivery, delivery_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        uow.commit()


def _row(wp: WorkflowPractice, delivery_id: int) -> WebhookDelivery:
    with wp.container.uow() as uow:
        row = uow.session.get(WebhookDelivery, delivery_id)
        assert row is not None
        uow.session.expunge(row)
        return row


def test_a_server_that_drips_its_answer_is_cut_off_at_the_deadline(drip_server: str) -> None:
    with (
        httpx.Client(transport=DeadlineTransport(DEADLINE)) as client,
        pytest.raises(httpx.TimeoutException),
        client.stream("POST", drip_server, content=b"{}", timeout=10) as response,
    ):
        # Without the deadline the answer arrives (3 s, every byte within the read timeout).
        pytest.fail(f"the dripped answer arrived: HTTP {response.status_code}")


def test_a_delivery_to_a_dripping_server_fails_as_a_timeout_and_is_retried(
    wp: WorkflowPractice, drip_server: str
) -> None:
    delivery_id = _queued_delivery(wp)
    _set(wp, delivery_id, url=drip_server)
    with httpx.Client(transport=DeadlineTransport(DEADLINE)) as client:
        report = deliver_due(wp.container.session_factory, wp.clock, client)
    assert (report.delivered, report.retrying) == (0, 1)
    row = _row(wp, delivery_id)
    assert row.last_error is not None
    assert row.last_error.startswith("timed out")
    assert row.response_status is None


def test_the_guarded_client_has_the_deadline_by_default() -> None:
    assert 0 < DEADLINE_SECONDS <= 30
    with guarded_client() as client:
        transport = client._transport  # what the worker's client is built of
        assert isinstance(transport, GuardedTransport)
        assert isinstance(transport._inner, DeadlineTransport)
        assert transport._inner.deadline_s == DEADLINE_SECONDS


def test_a_body_over_the_limit_is_never_sent_and_not_retried(wp: WorkflowPractice) -> None:
    delivery_id = _queued_delivery(wp)
    _set(wp, delivery_id, body='{"pad": "' + "x" * MAX_BODY_BYTES + '"}')
    sent: list[httpx.Request] = []
    with httpx.Client(
        transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200))
    ) as client:
        report = deliver_due(wp.container.session_factory, wp.clock, client)
    assert sent == []
    assert report.failed == 1
    row = _row(wp, delivery_id)
    assert row.status.value == "failed"
    assert row.next_attempt_at is None
    assert row.last_error is not None
    assert str(MAX_BODY_BYTES) in row.last_error


def test_the_guard_refuses_a_body_over_the_limit() -> None:
    sent: list[httpx.Request] = []
    transport = GuardedTransport(
        httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200)),
        resolver=Resolver({"crm.example.com": [["93.184.215.14"]]}),
    )
    with httpx.Client(transport=transport) as client:
        assert client.post("https://crm.example.com/h", content=b"x" * MAX_BODY_BYTES).is_success
        with pytest.raises(OutboundRefused, match="limit"):
            client.post("https://crm.example.com/h", content=b"x" * (MAX_BODY_BYTES + 1))
    assert len(sent) == 1
