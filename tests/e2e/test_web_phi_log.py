"""Settings → PHI access & retention over HTTP: reads through the API, the staff drawer and a
share link show who opened which call's recording or transcript; filters narrow, pages follow
the cursor, another account's reads never show; the retention policy and the last purge read
as the account's own facts."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.services.phi_retention import purge_expired
from tests.conftest import Tenant
from tests.dashboard_calls import PRACTICE_LINE, CallBook, answer
from tests.e2e.web_client import csrf_token, shared_call_refs, sign_in
from tests.factories import add_voice_agent
from tests.phi_calls import recorded_call, use_store

TODAY = date(2026, 11, 26)
PHI = "/app/settings/phi"
OUTBOUND = "/app/voice-ai/dashboards/outbound"
INBOUND = "/app/voice-ai/dashboards/inbound"


@pytest.fixture
def store(container: Container, tmp_path: Path) -> Path:
    use_store(container, tmp_path)
    return tmp_path


def _rows(page_html: str) -> list[tuple[str, ...]]:
    """(who, what, where) of each access-log row, in page order, as text."""
    body = page_html.split('id="phi-access"', 1)[1] if 'id="phi-access"' in page_html else ""
    rows = re.findall(
        r'<tr data-entry="\d+">\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td>(.*?)</td>\s*'
        r"<td>([^<]*)</td>",
        body,
        re.S,
    )
    return [
        tuple(html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in row) for row in rows
    ]


def _phi(client: TestClient, query: str = "") -> str:
    page = client.get(f"{PHI}{query}")
    assert page.status_code == 200, page.text
    return page.text


def test_api_reads_show_with_the_key_and_a_link_to_the_call(
    client: TestClient, container: Container, tenant: Tenant, store: Path
) -> None:
    job = recorded_call(CallBook(container, tenant), store, day=TODAY)
    assert client.get(f"/api/v1/call-jobs/{job}/transcript", headers=tenant.headers).is_success
    assert client.get(f"/api/v1/call-jobs/{job}/recording", headers=tenant.headers).is_success
    sign_in(client, tenant)

    page = _phi(client)
    assert "<h1>PHI access and retention</h1>" in page
    assert 'href="/app/settings/phi" aria-current="page"' in page
    assert _rows(page) == [
        ("The API, with key “test”", f"Recording of call #{job}", "Through the API"),
        ("The API, with key “test”", f"Transcript of call #{job}", "Through the API"),
    ]
    assert f'<a href="{OUTBOUND}/calls/{job}">call #{job}</a>' in page
    assert "2026-11-26 10:00 EST" in page

    # Opening the call from the log is itself a read, by the signed-in staff member.
    assert client.get(f"{OUTBOUND}/calls/{job}").status_code == 200
    assert _rows(_phi(client))[0] == (
        "Signed-in staff (key “test”)",
        f"Transcript of call #{job}",
        "Staff dashboard (a call's details)",
    )


def test_a_share_links_reads_show_with_its_label(
    client: TestClient, container: Container, tenant: Tenant, store: Path
) -> None:
    add_voice_agent(container, tenant)
    job = recorded_call(CallBook(container, tenant), store, day=TODAY)
    sign_in(client, tenant)
    shares = f"{OUTBOUND}/shares"
    made = client.post(
        shares,
        data={
            "csrf_token": csrf_token(client.get(shares)),
            "location_id": str(tenant.location_id),
            "label": "Lobby TV",
            "expires_in_days": "7",
            "include_phi": "true",
        },
        follow_redirects=True,
    )
    path = re.findall(r"http://testserver(/share/dashboard/[A-Za-z0-9._-]+)", made.text)[0]
    anonymous = TestClient(client.app)
    [ref] = shared_call_refs(anonymous.get(path).text, path)
    assert anonymous.get(f"{path}/calls/{ref}/recording").status_code == 200

    page = _phi(client)
    assert _rows(page) == [
        (
            "Share link “Lobby TV”",
            f"Recording of call #{job}",
            "A read-only share link made with recordings and transcripts",
        )
    ]
    actor = re.search(r'<option value="(share_link:\d+)">Share link “Lobby TV”</option>', page)
    assert actor is not None


def test_filters_by_who_and_dates_and_pages_newest_first(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant, store: Path
) -> None:
    add_voice_agent(container, tenant)
    job = recorded_call(CallBook(container, tenant), store, day=TODAY)
    client.get(f"/api/v1/call-jobs/{job}/transcript", headers=tenant.headers)  # 26 Nov
    clock.advance(timedelta(days=2))
    sign_in(client, tenant)
    client.get(f"{OUTBOUND}/calls/{job}/recording")  # 28 Nov, staff
    client.get(f"/api/v1/call-jobs/{job}/recording", headers=tenant.headers)  # 28 Nov, API

    assert [r[1] for r in _rows(_phi(client))] == [
        f"Recording of call #{job}",
        f"Recording of call #{job}",
        f"Transcript of call #{job}",
    ]
    by_api = _rows(_phi(client, "?actor=api_key:test"))
    assert [r[0] for r in by_api] == ["The API, with key “test”"] * 2
    staff = _phi(client, "?actor=web:api_key:test")
    assert [r[0] for r in _rows(staff)] == ["Signed-in staff (key “test”)"]
    assert '<option value="web:api_key:test" selected>' in staff
    assert len(_rows(_phi(client, "?from=2026-11-27"))) == 2
    assert [r[1] for r in _rows(_phi(client, "?to=2026-11-26"))] == [f"Transcript of call #{job}"]
    assert "matches these filters" in _phi(client, "?to=2026-11-25")

    first = _phi(client, "?limit=2")
    assert len(_rows(first)) == 2
    older = re.search(r'<a href="([^"]+)" rel="next">Older entries</a>', first)
    assert older is not None
    second = _phi(client, html.unescape(older.group(1)).removeprefix(PHI))
    assert [r[1] for r in _rows(second)] == [f"Transcript of call #{job}"]
    assert 'rel="next"' not in second

    wrong = client.get(f"{PHI}?to=yesterday")
    assert wrong.status_code == 422
    assert "To is not a date" in wrong.text


def test_another_accounts_reads_never_show(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant, store: Path
) -> None:
    theirs = recorded_call(CallBook(container, other_tenant), store, day=TODAY)
    client.get(f"/api/v1/call-jobs/{theirs}/transcript", headers=other_tenant.headers)
    # Our key on their call: refused, and nothing logged for either account.
    assert client.get(f"/api/v1/call-jobs/{theirs}/transcript", headers=tenant.headers).is_error
    sign_in(client, tenant)

    page = _phi(client)
    assert _rows(page) == []
    assert f"call #{theirs}" not in page
    assert "No one has opened a recording or transcript yet." in page
    assert _rows(_phi(client, "?actor=api_key:test")) == []


def test_the_retention_policy_and_the_last_purge(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant, store: Path
) -> None:
    sign_in(client, tenant)
    policy = _phi(client)
    assert "Kept for good: nothing is removed until a policy of 30, 90 or 365 days" in policy
    assert "None yet: nothing of this account's has been removed." in policy
    assert "Not recorded: a pass that finds nothing to remove leaves no trace." in policy

    add_voice_agent(container, tenant)
    client.patch("/api/v1/account", json={"phi_retention_days": 30}, headers=tenant.headers)
    job = recorded_call(CallBook(container, tenant), store, day=TODAY - timedelta(days=40))
    assert purge_expired(container.session_factory, clock, store_dir=store).recordings == 1

    page = _phi(client)
    assert "Kept for 30 days after the call ended, then removed." in page
    assert (
        "2026-11-26 10:00 EST: 1 recording and 1 transcript removed under the 30-day policy."
        in page
    )
    assert "1 recording, 1 transcript" in page
    assert _rows(page) == []  # the purge read nothing
    assert f"call #{job}" not in page


def test_an_inbound_calls_reads_link_to_the_inbound_dashboard(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant)
    CallBook(container, tenant).number(PRACTICE_LINE)
    job = answer(container, "+12125550177", "What are your hours?")
    sign_in(client, tenant)
    assert client.get(f"{INBOUND}/calls/{job}").status_code == 200  # a read, logged
    page = _phi(client)
    assert f'<a href="{INBOUND}/calls/{job}">call #{job}</a>' in page
    assert f"{OUTBOUND}/calls/{job}" not in page
