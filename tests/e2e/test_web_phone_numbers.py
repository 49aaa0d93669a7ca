"""Settings → Phone numbers over HTTP: the list with its answer rates and uses, adding a
number (US only, unique within the account), changing its label, removing it."""

from __future__ import annotations

import re
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.orm import PhoneNumber, VoiceAgent
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import CallOutcome, CallType
from tests.conftest import Tenant
from tests.dashboard_calls import CallBook
from tests.e2e.web_client import csrf_token, sign_in
from tests.e2e.workflow_practice import confirmation_definition
from tests.factories import add_voice_agent

NUMBERS = "/app/phone-numbers"
TODAY = date(2026, 11, 26)  # the virtual clock's day in New York


def _row(html: str, number_id: int) -> str:
    found = re.search(rf'<tr data-number="{number_id}">(.*?)</tr>', html, re.S)
    assert found is not None, f"no row for number {number_id}"
    return found.group(1)


def _numbers(container: Container, account_id: int) -> list[tuple[str, str]]:
    with container.uow() as uow:
        return [
            (row.e164, row.label)
            for row in uow.session.scalars(
                select(PhoneNumber)
                .where(PhoneNumber.account_id == account_id)
                .order_by(PhoneNumber.id)
            )
        ]


def test_the_list_shows_each_number_with_its_answer_rate_and_what_uses_it(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    book = CallBook(container, tenant)
    main = book.number("+12125550100")
    quiet = book.number("+12125550142")
    book.call(CallOutcome.CONNECTED, day=TODAY, duration=40)
    book.call(CallOutcome.VOICEMAIL, day=TODAY - timedelta(days=3), duration=20)
    book.call(CallOutcome.NO_ANSWER, day=TODAY - timedelta(days=29))
    # Neither counts: a call before the 30 days, and a test call.
    book.call(CallOutcome.NO_ANSWER, day=TODAY - timedelta(days=30))
    book.call(CallOutcome.NO_ANSWER, day=TODAY, call_type=CallType.TEST)
    agent_id = add_voice_agent(container, tenant, name="Front desk", callback_number=None)
    created = client.post(
        "/api/v1/workflows",
        json={
            "name": "Botox confirmations",
            "location_id": tenant.location_id,
            "definition": confirmation_definition(agent_id, quiet),
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text

    sign_in(client, tenant)
    page = client.get(NUMBERS)
    assert page.status_code == 200
    assert "<h1>Phone numbers</h1>" in page.text
    assert 'href="/app/phone-numbers" aria-current="page"' in page.text
    assert "Glow Aesthetics main" in page.text
    first = _row(page.text, main)
    assert "(212) 555-0100" in first
    assert "67%" in first
    assert "2 of 3" in first
    assert "<td>3</td>" in first
    assert "Sandbox" in first
    assert "Callback number of agent Front desk (the location&#39;s first number)" in first
    second = _row(page.text, quiet)
    assert "No calls yet" in second
    assert "<td>0</td>" in second
    assert "Dialed from by workflow “Botox confirmations” (agent Front desk)" in second


def test_add_a_number_in_any_us_spelling_and_refuse_a_foreign_or_repeated_one(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    # The same number in another account is none of this one's business: no conflict.
    CallBook(container, other_tenant).number("+12125550177")
    sign_in(client, tenant)
    page = client.get(NUMBERS)
    token = csrf_token(page)
    form = {"csrf_token": token, "location_id": str(tenant.location_id), "label": "Main line"}

    added = client.post(NUMBERS, data={**form, "number": "(212) 555-0177"})
    assert added.status_code == 200  # followed the redirect
    assert "(212) 555-0177 added as a caller ID." in added.text
    assert "Rival Derm" not in added.text
    assert _numbers(container, tenant.account_id) == [("+12125550177", "Main line")]

    foreign = client.post(NUMBERS, data={**form, "number": "+44 20 7946 0958", "label": "UK"})
    assert foreign.status_code == 422
    assert "Phone number: Only US phone numbers can be used as caller IDs" in foreign.text
    assert 'value="+44 20 7946 0958"' in foreign.text  # kept as typed
    assert 'value="UK"' in foreign.text

    nonsense = client.post(NUMBERS, data={**form, "number": "12345"})
    assert nonsense.status_code == 422
    assert "Phone number: That is not a valid US phone number" in nonsense.text

    again = client.post(NUMBERS, data={**form, "number": "212.555.0177"})
    assert again.status_code == 422
    assert "(212) 555-0177 is already one of this account&#39;s caller IDs." in again.text
    assert "e164" not in again.text

    long_label = client.post(NUMBERS, data={**form, "number": "2125550178", "label": "x" * 101})
    assert long_label.status_code == 422
    assert "Label: Keep the label to 100 characters or fewer." in long_label.text

    elsewhere = client.post(
        NUMBERS, data={**form, "number": "2125550178", "location_id": str(other_tenant.location_id)}
    )
    assert elsewhere.status_code == 422
    assert "Location: Choose one of this account&#39;s locations." in elsewhere.text
    assert _numbers(container, tenant.account_id) == [("+12125550177", "Main line")]
    assert _numbers(container, other_tenant.account_id) == [("+12125550177", "")]


def test_edit_the_label_and_remove_a_number(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    number_id = CallBook(container, tenant).number("+12125550100")
    sign_in(client, tenant)
    edit = client.get(f"{NUMBERS}/{number_id}/edit")
    assert edit.status_code == 200
    assert "<h1>Edit (212) 555-0100</h1>" in edit.text
    saved = client.post(
        f"{NUMBERS}/{number_id}/edit",
        data={"csrf_token": csrf_token(edit), "label": "  Upper East Side  "},
    )
    assert "(212) 555-0100 labelled “Upper East Side”." in saved.text
    assert "Upper East Side" in _row(saved.text, number_id)
    too_long = client.post(
        f"{NUMBERS}/{number_id}/edit", data={"csrf_token": csrf_token(edit), "label": "y" * 120}
    )
    assert too_long.status_code == 422
    assert "Label: Keep the label to 100 characters or fewer." in too_long.text
    assert _numbers(container, tenant.account_id) == [("+12125550100", "Upper East Side")]

    agent_id = add_voice_agent(container, tenant, name="Front desk", callback_number="+12125550100")
    confirm = client.get(f"{NUMBERS}/{number_id}/remove")
    assert confirm.status_code == 200
    # The agent's callback number: the service refuses, so the page says why, with no button.
    assert "(212) 555-0100 cannot be removed" in confirm.text
    assert "Callback number of agent Front desk" in confirm.text
    assert "Remove (212) 555-0100</button>" not in confirm.text
    with container.uow() as uow:
        agent = uow.session.get(VoiceAgent, agent_id)
        assert agent is not None
        agent.callback_number = "+12125550111"
        uow.commit()
    confirm = client.get(f"{NUMBERS}/{number_id}/remove")
    assert "Nothing uses this number" in confirm.text
    removed = client.post(f"{NUMBERS}/{number_id}/remove", data={"csrf_token": csrf_token(edit)})
    assert "(212) 555-0100 removed from this account&#39;s caller IDs." in removed.text
    assert "No phone numbers at this location yet" in removed.text
    assert _numbers(container, tenant.account_id) == []


def test_another_accounts_number_is_not_found_and_every_change_needs_the_csrf_token(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = CallBook(container, other_tenant).number("+13105550100")
    sign_in(client, tenant)
    token = csrf_token(client.get(NUMBERS))
    for path in (
        f"{NUMBERS}/{theirs}/edit",
        f"{NUMBERS}/{theirs}/remove",
        f"{NUMBERS}/999999/edit",
    ):
        missing = client.get(path)
        assert missing.status_code == 404
        assert "That phone number does not exist in this account." in missing.text
    relabel = client.post(f"{NUMBERS}/{theirs}/edit", data={"csrf_token": token, "label": "Mine"})
    assert relabel.status_code == 404
    remove = client.post(f"{NUMBERS}/{theirs}/remove", data={"csrf_token": token})
    assert remove.status_code == 404
    assert _numbers(container, other_tenant.account_id) == [("+13105550100", "")]

    no_token = client.post(
        NUMBERS, data={"location_id": str(tenant.location_id), "number": "2125550100"}
    )
    assert no_token.status_code == 403
    assert _numbers(container, tenant.account_id) == []


def test_the_spam_flag_hint_is_the_dashboards_rotate_rule(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    book = CallBook(container, tenant)
    flagged = book.number("+12125550100")
    healthy = book.number("+12125550142")
    new = book.number("+12125550143")
    for i in range(12):  # 4 of 12 refused by the carrier: a third fails
        outcome = CallOutcome.FAILED if i < 4 else CallOutcome.CONNECTED
        book.call(outcome, day=TODAY, caller_id="+12125550100", duration=30)
    for i in range(12):  # 1 of 12: what any list has
        outcome = CallOutcome.FAILED if i < 1 else CallOutcome.NO_ANSWER
        book.call(outcome, day=TODAY, caller_id="+12125550142")
    for _ in range(3):  # failing, but too few calls to say
        book.call(CallOutcome.FAILED, day=TODAY, caller_id="+12125550143")
    add_voice_agent(container, tenant, name="Front desk")  # the outbound tab needs an agent

    sign_in(client, tenant)
    page = client.get(NUMBERS).text
    assert "Likely flagged as spam or blocked: 33% of calls failed" in _row(page, flagged)
    assert "Consider rotating to a different outbound number" in _row(page, flagged)
    assert "No sign of spam flagging (8% of calls failed)" in _row(page, healthy)
    assert "Too few calls to judge (100% of calls failed)" in _row(page, new)
    # The dashboard's Caller IDs panel flags the same number, and only it.
    dashboard = client.get("/app/voice-ai/dashboards/outbound", params={"range": "30d"}).text
    assert dashboard.count("High failure rate: possibly spam-flagged or blocked") == 1
