"""The demo practice says so on every staff page; no other practice's pages do."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from ringfence.adapters.db.orm import Account
from ringfence.bootstrap import Container
from ringfence.services.demo import DEMO_SLUG
from tests.conftest import Tenant
from tests.e2e.web_client import sign_in

BANNER = 'id="demo-banner"'
PAGES = ("/app/contacts", "/app/voice-ai", "/app/settings/phi", "/app/security")


def _make_demo(container: Container, tenant: Tenant) -> None:
    with container.uow() as uow:
        uow.session.execute(
            update(Account).where(Account.id == tenant.account_id).values(slug=DEMO_SLUG)
        )
        uow.commit()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_of_the_demo_practice_shows_the_banner(
    client: TestClient, container: Container, tenant: Tenant, path: str
) -> None:
    _make_demo(container, tenant)
    sign_in(client, tenant)
    page = client.get(path)
    assert page.status_code == 200, page.text
    assert page.text.count(BANNER) == 1
    assert 'role="note"' in page.text
    assert "the patients, calls and history here are generated" in page.text
    assert "No real phone is ever called." in page.text


@pytest.mark.parametrize("path", PAGES)
def test_another_practice_has_no_banner(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant, path: str
) -> None:
    _make_demo(container, other_tenant)  # a demo exists, but it is not this viewer's account
    sign_in(client, tenant)
    page = client.get(path)
    assert page.status_code == 200, page.text
    assert BANNER not in page.text
    assert "Demo practice" not in page.text


def test_the_sign_in_page_has_no_banner(client: TestClient) -> None:
    assert BANNER not in client.get("/login").text
