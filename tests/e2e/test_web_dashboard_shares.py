"""Read-only share links over HTTP: made from a filtered view, opened without signing in,
unable to change anything, PHI-free unless chosen, refused once revoked or expired."""

from __future__ import annotations

import re
from datetime import date, timedelta

from fastapi.testclient import TestClient

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import CallOutcome
from tests.conftest import Tenant
from tests.dashboard_calls import CallBook
from tests.e2e.web_client import csrf_token, shared_call_refs, sign_in
from tests.factories import add_voice_agent

TODAY = date(2026, 11, 26)
SHARES = "/app/voice-ai/dashboards/outbound/shares"
_URL = re.compile(r"http://testserver(/share/dashboard/[A-Za-z0-9._-]+)")


def _make_link(client: TestClient, tenant: Tenant, *, filters: str, phi: bool = False) -> str:
    form = client.get(f"{SHARES}?{filters}")
    data = {
        "csrf_token": csrf_token(form),
        "location_id": str(tenant.location_id),
        "filters": filters,
        "label": "Owners' review",
        "expires_in_days": "7",
    }
    if phi:
        data["include_phi"] = "true"
    made = client.post(SHARES, data=data, follow_redirects=True)
    assert made.status_code == 200
    found = _URL.findall(made.text)
    assert found, made.text
    return found[0]  # the flash with the new link comes first


def _practice(container: Container, tenant: Tenant) -> tuple[int, int]:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    connected = book.call(
        CallOutcome.CONNECTED,
        day=TODAY,
        duration=40,
        name="Dana Patient",
        turns=[{"speaker": "callee", "text": "My filler hurts.", "start": 1.0, "end": 2.0}],
    )
    failed = book.call(CallOutcome.FAILED, day=TODAY, name="Evan Patient")
    return connected, failed


def test_a_share_link_shows_the_filtered_view_read_only_and_without_phi(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    connected, _failed = _practice(container, tenant)
    sign_in(client, tenant)
    path = _make_link(client, tenant, filters="status=connected")

    anonymous = TestClient(client.app)
    shared = anonymous.get(path)
    assert shared.status_code == 200
    assert shared.text.count('<tr data-job="') == 1  # only the connected call
    assert "<form" not in shared.text
    assert "Dana Patient" not in shared.text
    assert "Evan Patient" not in shared.text
    assert "My filler hurts." not in shared.text
    # Changing the filters in the URL changes nothing; no drawer, no recording, no writes.
    assert anonymous.get(f"{path}?status=failed").text.count('<tr data-job="') == 1
    assert anonymous.get(f"{path}/calls/{connected}").status_code == 404
    assert anonymous.get(f"{path}/calls/{connected}/recording").status_code == 404
    assert anonymous.post(path).status_code == 405
    assert anonymous.get("/app/voice-ai/dashboards/outbound").status_code == 200  # the login page
    assert "Sign in" in anonymous.get("/app/voice-ai/dashboards/outbound").text


def test_phi_is_shown_only_when_the_creator_includes_it(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    connected, _failed = _practice(container, tenant)
    sign_in(client, tenant)
    path = _make_link(client, tenant, filters="", phi=True)
    anonymous = TestClient(client.app)
    page = anonymous.get(path).text
    assert "Dana Patient" in page
    refs = shared_call_refs(page, path)
    assert len(refs) == 2
    assert str(connected) not in refs  # opaque references, not the calls' ids
    drawers = [anonymous.get(f"{path}/calls/{ref}").text for ref in refs]
    assert sum("My filler hurts." in drawer for drawer in drawers) == 1
    assert anonymous.get(f"{path}/calls/{connected}").status_code == 404  # ids open nothing


def test_revoked_and_expired_links_are_refused(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> None:
    _practice(container, tenant)
    sign_in(client, tenant)
    revoked = _make_link(client, tenant, filters="")
    kept = _make_link(client, tenant, filters="type=test")
    listing = client.get(SHARES)
    link_ids = re.findall(r'data-link="(\d+)"', listing.text)
    assert len(link_ids) == 2
    newest_first_second_is_revoked = link_ids[1]
    client.post(
        f"{SHARES}/{newest_first_second_is_revoked}/revoke",
        data={"csrf_token": csrf_token(listing)},
    )
    anonymous = TestClient(client.app)
    refused = anonymous.get(revoked)
    assert refused.status_code == 410
    assert 'data-reason="revoked"' in refused.text
    assert anonymous.get(kept).status_code == 200

    clock.advance(timedelta(days=7, seconds=1))
    expired = anonymous.get(kept)
    assert expired.status_code == 410
    assert 'data-reason="expired"' in expired.text
    tampered = anonymous.get(kept[:-2] + ("AA" if not kept.endswith("AA") else "BB"))
    assert tampered.status_code == 404
    assert 'data-reason="invalid"' in tampered.text


def test_making_a_link_needs_the_csrf_token(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    refused = client.post(SHARES, data={"location_id": str(tenant.location_id)})
    assert refused.status_code == 403
