"""A webhook's delivery shows in the workflow's run log (finding 2, issue item 2: "delivery
failures visible in the workflow's run log").

Before: a failed delivery (refused address, timeout, non-2xx, connection error, retries
exhausted) was written to `webhook_deliveries.last_error` and a metric only; the enrollment's
steps (the API's `GET /workflow-enrollments/{id}` and the runs page) said "webhook N queued"
for ever, with the whole URL, query string included. Now each webhook step carries its
delivery's outcome, read from the delivery row: delivered with the HTTP status, or failed with
the reason in words and whether it will be retried; the URL shows as its host only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ringfence.adapters.http.guarded import GuardedTransport
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.services.workflows.webhooks import RETRY_AFTER, deliver_due
from tests.conftest import Tenant
from tests.e2e.web_client import sign_in
from tests.e2e.workflow_practice import WorkflowPractice
from tests.security.test_ssrf import Resolver

SECRET = "s3cret-s3cret-s3cret"
TOKEN = "tok3n-in-the-query"
URL = f"https://crm.example.com/hooks/ringfence?token={TOKEN}"


@pytest.fixture
def wp(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> WorkflowPractice:
    return WorkflowPractice(client, container, clock, tenant)


def _workflow(wp: WorkflowPractice) -> int:
    return wp.workflow(
        {
            "trigger": {"kind": "custom", "event_name": "lead"},
            "audience": {"require_crm_form_consent": False},
            "steps": [{"type": "send_webhook", "url": URL, "secret": SECRET}],
        }
    )


def _enroll(wp: WorkflowPractice, workflow_id: int, n: int) -> int:
    contact = wp.practice.add_contact(f"+1212555013{n}")
    wp.post(
        "/events", {"event_id": f"e-{n}", "type": "custom", "name": "lead", "contact_id": contact}
    )
    wp.runner.run_due()
    [enrollment] = wp.get(f"/workflows/{workflow_id}/enrollments?contact_id={contact}")["items"]
    return int(enrollment["id"])


def _webhook_step(wp: WorkflowPractice, enrollment_id: int) -> dict[str, Any]:
    steps = wp.get(f"/workflow-enrollments/{enrollment_id}")["steps"]
    [step] = [s for s in steps if s["step_type"] == "send_webhook"]
    return dict(step)


def _deliver(wp: WorkflowPractice, answer: Any) -> None:
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        deliver_due(wp.container.session_factory, wp.clock, client)


def test_a_non_2xx_then_a_delivery_show_in_the_api_and_on_the_runs_page(
    wp: WorkflowPractice,
) -> None:
    workflow_id = _workflow(wp)
    enrollment_id = _enroll(wp, workflow_id, 0)
    queued = _webhook_step(wp, enrollment_id)
    assert queued["delivery"]["status"] == "pending"
    assert queued["delivery"]["attempts"] == 0

    _deliver(wp, lambda request: httpx.Response(503))
    step = _webhook_step(wp, enrollment_id)
    delivery = step["delivery"]
    assert (delivery["status"], delivery["http_status"], delivery["error"]) == (
        "pending",
        503,
        "HTTP 503",
    )
    assert delivery["will_retry"] is True
    assert delivery["host"] == "crm.example.com"
    assert "HTTP 503" in delivery["summary"]
    assert "will retry" in delivery["summary"]
    assert TOKEN not in str(step)

    assert sign_in(wp.client, wp.tenant).status_code == 303
    page = wp.client.get(f"/app/workflows/{workflow_id}/runs")
    assert page.status_code == 200
    assert "Retrying" in page.text
    assert "HTTP 503" in page.text
    assert "crm.example.com" in page.text
    assert TOKEN not in page.text

    wp.clock.advance(RETRY_AFTER[0])
    _deliver(wp, lambda request: httpx.Response(204))
    delivery = _webhook_step(wp, enrollment_id)["delivery"]
    assert (delivery["status"], delivery["http_status"], delivery["error"]) == (
        "delivered",
        204,
        None,
    )
    assert delivery["will_retry"] is False
    page = wp.client.get(f"/app/workflows/{workflow_id}/runs")
    assert "Delivered" in page.text
    assert "HTTP 204" in page.text


def test_a_refused_address_and_exhausted_retries_say_why_and_that_it_is_over(
    wp: WorkflowPractice,
) -> None:
    workflow_id = _workflow(wp)
    refused_id = _enroll(wp, workflow_id, 1)
    resolver = Resolver({"crm.example.com": [["169.254.169.254"]]})
    transport = GuardedTransport(
        httpx.MockTransport(lambda r: httpx.Response(200)), resolver=resolver
    )
    with httpx.Client(transport=transport) as guarded:
        deliver_due(wp.container.session_factory, wp.clock, guarded)
    refused = _webhook_step(wp, refused_id)["delivery"]
    assert refused["error"].startswith("refused: crm.example.com resolves to 169.254.169.254")
    assert refused["will_retry"] is True  # DNS may be fixed

    # Every retry fails to connect: given up after the last, and said so.
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    for delay in (*RETRY_AFTER, timedelta(0)):
        wp.clock.advance(delay)
        _deliver(wp, down)
    step = _webhook_step(wp, refused_id)
    failed = step["delivery"]
    assert (failed["status"], failed["will_retry"], failed["http_status"]) == (
        "failed",
        False,
        None,
    )
    assert failed["error"] == "connection failed (ConnectError)"
    assert "not retried" in failed["summary"]
    assert TOKEN not in str(step)

    assert sign_in(wp.client, wp.tenant).status_code == 303
    page = wp.client.get(f"/app/workflows/{workflow_id}/runs")
    assert "Failed" in page.text
    assert "connection failed (ConnectError)" in page.text
    assert TOKEN not in page.text


def test_the_runs_page_is_the_accounts_own(
    wp: WorkflowPractice, client: TestClient, other_tenant: Tenant
) -> None:
    workflow_id = _workflow(wp)
    _enroll(wp, workflow_id, 2)
    assert sign_in(client, other_tenant).status_code == 303
    page = client.get(f"/app/workflows/{workflow_id}/runs")
    assert page.status_code == 404
    assert "crm.example.com" not in page.text
