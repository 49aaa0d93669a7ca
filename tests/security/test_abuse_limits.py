"""Strangers cannot repeat at will (findings 3 and 6, Medium/Low): key guessing and sign-in
attempts are limited per address, public forms per address and per number, and a form filled
by automation (its honeypot filled, or sent faster than a person can) records nothing.

Before: 100 form submissions in a second were all accepted, each starting the form's
workflows; API keys and sign-in could be tried without end."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ringfence.adapters.db.orm import ConsentRecord, Contact
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.entrypoints.rate_limits import AUTH_FAILURES, FORM_PER_IP, FORM_PER_NUMBER
from tests.conftest import Tenant
from tests.e2e.test_kyc import GOOD_TEXT, _form
from tests.e2e.web_client import csrf_token

_SHOWN = re.compile(r'name="shown" value="([^"]+)"')


def _per_minute(rule: str) -> int:
    return int(next(part for part in rule.split(";") if part.endswith("minute")).split("/")[0])


def _count(container: Container, model: type) -> int:
    with container.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _shown(client: TestClient, form_id: int) -> str:
    match = _SHOWN.search(client.get(f"/f/{form_id}").text)
    assert match is not None
    return match.group(1)


def test_guessing_api_keys_is_stopped_per_address(client: TestClient, tenant: Tenant) -> None:
    allowed = _per_minute(AUTH_FAILURES)
    for n in range(allowed):
        guess = client.get("/api/v1/account", headers={"Authorization": f"Bearer rf_guess{n}"})
        assert guess.status_code == 401
    blocked = client.get("/api/v1/account", headers={"Authorization": "Bearer rf_guess"})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    # The guessing address waits even with a good key; the limit never counted successes.
    assert client.get("/api/v1/account", headers=tenant.headers).status_code == 429


def test_signing_in_is_limited_per_address(client: TestClient, tenant: Tenant) -> None:
    for _ in range(_per_minute(AUTH_FAILURES)):
        form = client.get("/login")
        wrong = client.post("/login", data={"api_key": "rf_nope", "csrf_token": csrf_token(form)})
        assert wrong.status_code == 401
    form = client.get("/login")
    blocked = client.post(
        "/login", data={"api_key": tenant.api_key, "csrf_token": csrf_token(form)}
    )
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert "Retry-After" in blocked.headers


def test_a_filled_honeypot_is_thanked_and_dropped(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    form_id = _form(client, tenant, GOOD_TEXT)
    bot = TestClient(client.app)
    data = {
        "shown": _shown(bot, form_id),
        "first_name": "Ana",
        "phone": "(212) 555-0147",
        "consent": "yes",
        "website": "https://spam.example",
    }
    answer = bot.post(f"/f/{form_id}", data=data)
    assert answer.status_code == 200
    assert "Thank you" in answer.text
    assert _count(container, Contact) == 0
    assert _count(container, ConsentRecord) == 0


def test_a_form_sent_faster_than_a_person_can_is_refused(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> None:
    container.settings.public_form_min_fill_seconds = 2.0
    form_id = _form(client, tenant, GOOD_TEXT)
    person = TestClient(client.app)
    data = {"first_name": "Ana", "phone": "(212) 555-0147", "consent": "yes"}
    shown = _shown(person, form_id)
    quick = person.post(f"/f/{form_id}", data=data | {"shown": shown})
    assert quick.status_code == 422
    assert _count(container, Contact) == 0
    clock.advance(timedelta(seconds=3))
    calm = person.post(f"/f/{form_id}", data=data | {"shown": shown})
    assert calm.status_code == 200, calm.text
    assert _count(container, Contact) == 1


def test_public_forms_are_limited_per_address_and_per_number(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    form_id = _form(client, tenant, GOOD_TEXT)
    flood = TestClient(client.app)
    shown = _shown(flood, form_id)
    per_number = int(FORM_PER_NUMBER.split("/")[0])
    answers = [
        flood.post(
            f"/f/{form_id}",
            data={"shown": shown, "first_name": "Ana", "phone": "(212) 555-0147"},
        ).status_code
        for _ in range(per_number + 1)
    ]
    assert answers == [200] * per_number + [429]
    others = [
        flood.post(
            f"/f/{form_id}",
            data={"shown": shown, "first_name": "Bo", "phone": f"(212) 555-01{50 + n}"},
        ).status_code
        for n in range(_per_minute(FORM_PER_IP))
    ]
    # Every attempt counts against the address (the refused one too): its limit is reached.
    assert others[-1] == 429
    assert answers.count(200) + others.count(200) == _per_minute(FORM_PER_IP) - 1
    assert _count(container, Contact) == answers.count(200) // per_number + others.count(200)
