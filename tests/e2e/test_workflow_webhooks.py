"""The send-webhook step end to end: outbox row, signed delivery, retries with back-off."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.workflows import WebhookDelivery
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.services.workflows.webhooks import RETRY_AFTER, deliver_due
from tests.conftest import Tenant
from tests.e2e.workflow_practice import WorkflowPractice

SECRET = "s3cret-s3cret-s3cret"
URL = "https://crm.example.test/hooks/ringfence"


@pytest.fixture
def wp(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> WorkflowPractice:
    return WorkflowPractice(client, container, clock, tenant)


def _enroll_one(wp: WorkflowPractice) -> int:
    wp.workflow(
        {
            "trigger": {"kind": "custom", "event_name": "lead"},
            "audience": {"require_crm_form_consent": False},
            "steps": [{"type": "send_webhook", "url": URL, "secret": SECRET}],
        }
    )
    contact = wp.practice.add_contact("+12125550130")
    wp.post("/events", {"event_id": "e-1", "type": "custom", "name": "lead", "contact_id": contact})
    wp.runner.run_due()
    return contact


def _deliveries(wp: WorkflowPractice) -> list[WebhookDelivery]:
    with wp.container.uow() as uow:
        rows = list(uow.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        for row in rows:
            uow.session.expunge(row)
        return rows


def test_webhook_is_signed_retried_with_back_off_then_delivered(wp: WorkflowPractice) -> None:
    contact = _enroll_one(wp)
    received: list[httpx.Request] = []
    answers = iter([503, 200])

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(next(answers))

    with httpx.Client(transport=httpx.MockTransport(receiver)) as client:
        first = deliver_due(wp.container.session_factory, wp.clock, client)
        assert (first.delivered, first.retrying) == (0, 1)
        [row] = _deliveries(wp)
        assert (row.status.value, row.last_error) == ("pending", "HTTP 503")
        assert row.next_attempt_at == wp.clock.now() + RETRY_AFTER[0]
        # Not due yet: nothing is sent.
        assert deliver_due(wp.container.session_factory, wp.clock, client).delivered == 0
        wp.clock.advance(RETRY_AFTER[0])
        assert deliver_due(wp.container.session_factory, wp.clock, client).delivered == 1

    [row] = _deliveries(wp)
    assert (row.status.value, row.attempts) == ("delivered", 2)
    request = received[-1]
    body = request.content
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert request.headers["X-Ringfence-Signature"] == expected
    payload = json.loads(body)
    assert payload["contact_id"] == contact
    assert payload["type"] == "workflow.webhook"


def test_a_receiver_that_never_answers_is_given_up_after_the_last_retry(
    wp: WorkflowPractice,
) -> None:
    _enroll_one(wp)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with httpx.Client(transport=httpx.MockTransport(down)) as client:
        for delay in (*RETRY_AFTER, timedelta(0)):
            deliver_due(wp.container.session_factory, wp.clock, client)
            wp.clock.advance(delay)
    [row] = _deliveries(wp)
    assert row.status.value == "failed"
    assert row.attempts == len(RETRY_AFTER) + 1
    assert row.last_error is not None
    assert "ConnectError" in row.last_error
