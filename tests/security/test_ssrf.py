"""Webhooks cannot be aimed at the server's own network (finding 2, Medium: blind SSRF).

Before: the webhook URL was checked against `^https?://` only, so loopback, the metadata
address, private ranges, decimal IPs, `[::1]` and `user:pass@` URLs were saved and then POSTed
to at every event. Now such URLs are a 422 naming the field when the workflow is saved, and
every delivery goes through the guarded transport: a name that resolves to a private address
is refused at send time (DNS rebinding included), the reason recorded on the delivery."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.workflows import WebhookDelivery
from ringfence.adapters.http.guarded import GuardedTransport, OutboundRefused
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.outbound_urls import Address, literal_address
from ringfence.services.workflows.webhooks import deliver_due
from tests.conftest import Tenant
from tests.e2e.workflow_practice import WorkflowPractice
from tests.unit.domain.test_outbound_urls import REFUSED

SECRET = "s3cret-s3cret-s3cret"


@pytest.fixture
def wp(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> WorkflowPractice:
    return WorkflowPractice(client, container, clock, tenant)


def _definition(url: str) -> dict[str, object]:
    return {
        "trigger": {"kind": "custom", "event_name": "lead"},
        "audience": {"require_crm_form_consent": False},
        "steps": [{"type": "send_webhook", "url": url, "secret": SECRET}],
    }


@pytest.mark.parametrize("url", [u for u in REFUSED if u.startswith("http")], ids=lambda u: u[:40])
def test_a_webhook_to_a_local_or_private_address_is_refused_when_saved(
    wp: WorkflowPractice, url: str
) -> None:
    response = wp.client.post(
        "/api/v1/workflows",
        json={"location_id": wp.tenant.location_id, "name": "Leak", "definition": _definition(url)},
        headers=wp.tenant.headers,
    )
    assert response.status_code == 422, url
    assert "url" in [str(part) for part in response.json()["detail"][0]["loc"]]


class Resolver:
    """DNS as the test says: each name to its addresses, in turn (a rebinding name answers
    differently each time it is asked)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[Address]:
        self.asked.append(host)
        found = self.answers[host].pop(0) if len(self.answers[host]) > 1 else self.answers[host][0]
        return [a for a in (literal_address(x) for x in found) if a is not None]


def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery(
    wp: WorkflowPractice,
) -> None:
    wp.workflow(_definition("https://crm.attacker.example/hook"))
    contact = wp.practice.add_contact("+12125550130")
    wp.post("/events", {"event_id": "e-1", "type": "custom", "name": "lead", "contact_id": contact})
    wp.runner.run_due()
    sent: list[httpx.Request] = []
    resolver = Resolver({"crm.attacker.example": [["169.254.169.254"]]})
    transport = GuardedTransport(
        httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200)), resolver=resolver
    )
    with httpx.Client(transport=transport, follow_redirects=False) as guarded:
        report = deliver_due(wp.container.session_factory, wp.clock, guarded)
    assert report.delivered == 0
    assert sent == []
    with wp.container.uow() as uow:
        [row] = uow.session.scalars(select(WebhookDelivery)).all()
        assert row.last_error is not None
        assert row.last_error.startswith("refused: crm.attacker.example resolves to")
        assert "169.254.169.254" in row.last_error


def test_the_checked_address_is_the_one_connected_to_and_redirects_are_not_followed() -> None:
    sent: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(302, headers={"Location": "http://127.0.0.1/admin"})

    # Public when checked, loopback if asked again: only one lookup is ever made.
    resolver = Resolver({"crm.example.com": [["93.184.215.14"], ["127.0.0.1"]]})
    transport = GuardedTransport(httpx.MockTransport(receiver), resolver=resolver)
    with httpx.Client(transport=transport, follow_redirects=False) as guarded:
        response = guarded.post("https://crm.example.com/hook", content=b"{}")
    assert response.status_code == 302  # the answer, not followed
    [request] = sent
    assert request.url.host == "93.184.215.14"
    assert request.headers["Host"] == "crm.example.com"
    assert request.extensions["sni_hostname"] == "crm.example.com"
    assert resolver.asked == ["crm.example.com"]


@pytest.mark.parametrize(
    ("answers", "allowed", "why"),
    [
        ({"mixed.example.com": [["93.184.215.14", "10.0.0.1"]]}, (), "10.0.0.1"),
        ({"v6.example.com": [["::ffff:127.0.0.1"]]}, (), "::ffff:"),
        ({"crm.example.com": [["93.184.215.14"]]}, ("hooks.example.com",), "allowed hosts"),
    ],
)
def test_any_private_answer_or_a_host_off_the_allow_list_is_refused(
    answers: dict[str, list[list[str]]], allowed: tuple[str, ...], why: str
) -> None:
    [host] = answers
    transport = GuardedTransport(
        httpx.MockTransport(lambda r: httpx.Response(200)),
        resolver=Resolver(answers),
        allowed_hosts=allowed,
    )
    with httpx.Client(transport=transport) as guarded, pytest.raises(OutboundRefused, match=why):
        guarded.post(f"https://{host}/hook", content=b"{}")
