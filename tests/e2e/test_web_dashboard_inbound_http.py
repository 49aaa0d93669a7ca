"""The Inbound tab over plain HTTP: the empty state and what makes calls arrive, the tiles and
call log of answered calls, the filters, the drawer (its PHI read logged), the CSV export
(formulas neutralised as the outbound one's) and the live fragment; and the two directions
never mixing."""

from __future__ import annotations

import csv
import io
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.phi import PhiAccess
from ringfence.bootstrap import Container
from ringfence.domain.phi import PhiAccessVia, PhiKind
from ringfence.domain.vocabulary import CallOutcome
from tests.conftest import Tenant
from tests.dashboard_calls import PRACTICE_LINE, CallBook, answer
from tests.e2e.web_client import sign_in
from tests.factories import add_voice_agent

DASHBOARDS = "/app/voice-ai/dashboards"
INBOUND = f"{DASHBOARDS}/inbound"
OUTBOUND = f"{DASHBOARDS}/outbound"
KNOWN = "+12125550142"
TODAY = date(2026, 11, 26)  # the virtual clock's day in New York


def _rows(html: str) -> int:
    return html.count('<tr data-job="')


def test_with_no_inbound_call_the_tab_says_what_makes_calls_arrive(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    for path in (DASHBOARDS, INBOUND):
        page = client.get(path)
        assert page.status_code == 200
        assert "No inbound calls yet" in page.text
        assert "no Voice AI agent to answer calls" in page.text
        assert "no practice phone number" in page.text
        assert 'aria-current="page">Inbound</a>' in page.text
    add_voice_agent(container, tenant)
    CallBook(container, tenant).number(PRACTICE_LINE)
    ready = client.get(INBOUND).text
    assert "No inbound calls yet" in ready
    assert "routed to Ringfence" in ready
    assert "no Voice AI agent" not in ready

    answer(container, "+12125550177", "Hello?")
    first = client.get(INBOUND).text
    assert "No inbound calls yet" not in first
    assert _rows(first) == 1


def test_tiles_log_filters_drawer_and_csv_of_answered_calls(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant)
    book = CallBook(container, tenant)
    line = book.number(PRACTICE_LINE)
    other_line = book.number("+12125550188")
    book.patient("=HYPERLINK(1)", "Lopez", KNOWN)
    move = answer(container, KNOWN, "Can I move my appointment to Friday?")
    stranger = answer(container, "+12125550177", "Hello, who is this?")
    stop = answer(container, "+12125550166", "Stop calling me.", line="+12125550188")
    outbound = book.call(CallOutcome.CONNECTED, day=TODAY, duration=30)
    sign_in(client, tenant)

    page = client.get(INBOUND).text
    assert _rows(page) == 3
    for job in (move, stranger, stop):
        assert f'<tr data-job="{job}"' in page
    assert f'<tr data-job="{outbound}"' not in page
    assert 'id="tile-attempted"' in page
    assert "Calls Answered" in page
    assert "Opt-out applied" in page  # "stop calling me" is an action, as outbound counts it
    assert "Practice lines" in page
    assert "Stopped before dialing" not in page

    # The line filter (the practice number called) and the status filter.
    only_line = client.get(f"{INBOUND}?number={line}").text
    assert _rows(only_line) == 2
    assert f'<tr data-job="{stop}"' not in only_line
    assert _rows(client.get(f"{INBOUND}?number={other_line}").text) == 1
    assert _rows(client.get(f"{INBOUND}?status=connected").text) == 3
    assert _rows(client.get(f"{INBOUND}?status=failed").text) == 0
    # The Outbound tab stays outbound, whatever the query says.
    out = client.get(f"{OUTBOUND}?direction=inbound").text
    assert _rows(out) == 1
    assert f'<tr data-job="{outbound}"' in out
    assert "Stopped before dialing" in out
    # The live fragment is the same region.
    live = client.get(f"{INBOUND}/live")
    assert live.status_code == 200
    assert _rows(live.text) == 3
    assert "<html" not in live.text

    # The drawer: the transcript, its read logged as outbound drawers' are.
    drawer = client.get(f"{INBOUND}/calls/{move}", headers={"HX-Request": "true"})
    assert drawer.status_code == 200
    assert "Can I move my appointment to Friday?" in drawer.text
    assert "Practice line called" in drawer.text
    assert client.get(f"{INBOUND}/calls/{move}/recording").status_code == 404  # none rendered
    with container.uow() as uow:
        reads = uow.session.execute(select(PhiAccess.job_id, PhiAccess.what, PhiAccess.via)).all()
    assert (move, PhiKind.TRANSCRIPT, PhiAccessVia.WEB) in reads

    # The CSV: the filtered rows, free text defused exactly as the outbound export does.
    export = client.get(f"{INBOUND}/export.csv?number={line}")
    assert export.status_code == 200
    assert "inbound-calls-live-" in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:4] == ["Call ID", "Date/Time", "Time Zone", "Call Status"]
    by_id = {int(row[0]): row for row in rows[1:]}
    assert set(by_id) == {move, stranger}
    contact = rows[0].index("Contact")
    assert by_id[move][contact] == "'=HYPERLINK(1) Lopez"
    assert by_id[move][rows[0].index("Caller ID")] == PRACTICE_LINE
    assert by_id[move][rows[0].index("Call Status")] == "Connected"
    assert "Can I move" not in export.text  # no transcript text in the file
    bad = client.get(f"{INBOUND}/export.csv?range=fortnight")
    assert bad.status_code == 422
    # The outbound export has none of them.
    outbound_csv = client.get(f"{OUTBOUND}/export.csv").text
    assert {int(row[0]) for row in list(csv.reader(io.StringIO(outbound_csv)))[1:]} == {outbound}
