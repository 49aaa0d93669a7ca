"""The outbound dashboard over plain HTTP: the tab rule, filters in the URL, the drawer,
the CSV export and the live fragment."""

from __future__ import annotations

import csv
import io
from datetime import date, time, timedelta

from fastapi.testclient import TestClient

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import CallOutcome, CallStatus, CallType
from tests.conftest import Tenant
from tests.dashboard_calls import CallBook
from tests.e2e.web_client import sign_in
from tests.factories import add_voice_agent

TODAY = date(2026, 11, 26)
OUTBOUND = "/app/voice-ai/dashboards/outbound"


def test_the_outbound_tab_appears_only_with_an_outbound_agent_and_a_logged_call(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    page = client.get(OUTBOUND)
    assert "not available yet" in page.text
    assert "No Voice AI agent at this location is configured" in page.text
    assert "No outbound call has been logged yet" in page.text
    assert (
        f'href="{OUTBOUND}"'
        not in client.get("/app/voice-ai/dashboards")
        .text.split('aria-label="Call direction"')[1]
        .split("</nav>")[0]
    )

    add_voice_agent(container, tenant)
    page = client.get(OUTBOUND)
    assert "No Voice AI agent" not in page.text
    assert "No outbound call has been logged yet" in page.text

    CallBook(container, tenant).call(CallOutcome.CONNECTED, day=TODAY, duration=30)
    page = client.get(OUTBOUND)
    assert 'id="tile-attempted"' in page.text
    tabs = client.get("/app/voice-ai/dashboards").text
    assert f'<a href="{OUTBOUND}"' in tabs
    # The landing is the Inbound tab: no inbound call yet, and it says so.
    assert "No inbound calls yet" in tabs


def test_filters_live_in_the_url_and_a_bad_one_is_named(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    book.call(CallOutcome.CONNECTED, day=TODAY, duration=30)
    book.call(CallOutcome.FAILED, day=TODAY)
    book.call(CallOutcome.CONNECTED, day=TODAY, call_type=CallType.TEST)
    sign_in(client, tenant)

    page = client.get(f"{OUTBOUND}?status=failed")
    assert page.text.count('<tr data-job="') == 1
    assert "Failed</span>" in page.text
    test = client.get(f"{OUTBOUND}?type=test")
    assert "Test calls never count in live metrics" in test.text
    bad = client.get(f"{OUTBOUND}?range=fortnight")
    assert bad.status_code == 200
    assert "Filter <code>range</code>" in bad.text


def test_the_drawer_the_csv_and_the_live_fragment(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    job = book.call(
        CallOutcome.CONNECTED,
        day=TODAY,
        duration=30,
        sentiment="positive",
        actions=("tag_applied",),
        turns=[{"speaker": "callee", "text": "Yes, see you then.", "start": 1.0, "end": 2.0}],
    )
    book.call(CallOutcome.VOICEMAIL, day=TODAY, duration=20)
    sign_in(client, tenant)

    drawer = client.get(f"{OUTBOUND}/calls/{job}", headers={"HX-Request": "true"})
    assert "Yes, see you then." in drawer.text
    assert "Tag applied" in drawer.text
    assert "<html" not in drawer.text  # a fragment for the drawer
    assert client.get(f"{OUTBOUND}/calls/999999").status_code == 404

    export = client.get(f"{OUTBOUND}/export.csv?status=connected")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["Call ID"], r["Call Status"]) for r in rows] == [(str(job), "Connected")]
    assert client.get(f"{OUTBOUND}/export.csv?status=maybe").status_code == 422

    live = client.get(f"{OUTBOUND}/live")
    assert 'id="tile-attempted"' in live.text
    assert "<html" not in live.text


def test_a_deferred_call_now_due_says_it_waits_for_pacing(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> None:
    """Deferred as outside the window; once its time has come it waits only for a dialing
    slot, and the page says that (with the earlier reason kept as history)."""
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    book.call(CallOutcome.CONNECTED, day=TODAY, duration=30)
    book.call(
        None,
        day=TODAY,
        at=time(8),
        status=CallStatus.DEFERRED,
        reason_code="outside_window",
        next_attempt_at=clock.now() - timedelta(minutes=1),
    )
    failed = book.call(
        None, day=TODAY, at=time(9), status=CallStatus.FAILED, reason_code="dnd_voice"
    )
    sign_in(client, tenant)
    row = client.get(OUTBOUND).text.split('id="pre-dial-table"')[1].split("</tbody>")[0]
    assert "Due now: waiting for a dialing slot (calls are paced)." in row
    assert "Deferred earlier: <code>outside_window</code>" in row
    assert "Now, in the queue" in row

    # The same calls in their own CSV (the call log's export holds placed calls only).
    export = client.get(f"{OUTBOUND}/export-stopped.csv")
    assert export.headers["content-type"].startswith("text/csv")
    assert "stopped-before-dialing-live-" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["Outcome"], r["Reason Code"]) for r in rows] == [
        ("Failed before dialing", "dnd_voice"),
        ("Deferred (due now)", "outside_window"),
    ]
    assert rows[0]["Call ID"] == str(failed)
    assert rows[1]["Next Attempt"] != ""
    assert client.get(f"{OUTBOUND}/export-stopped.csv?status=maybe").status_code == 422
