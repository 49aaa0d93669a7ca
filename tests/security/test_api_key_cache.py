"""Keys verified a moment ago are trusted without the database (issue 20, item 4): a revoked or
expired key is still refused at once in this process, and a key's last use is still written,
at most once a minute."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from ringfence.adapters.db.orm import ApiKey
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.services import api_keys
from ringfence.services.api_key_cache import VERIFIED_FOR, VerifiedKey, VerifiedKeys
from ringfence.services.unit_of_work import TenantScope
from tests.conftest import START, Tenant

ACCOUNT = "/api/v1/account"


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def key_statements(container: Container) -> Iterator[list[str]]:
    """Every SQL statement that reads or writes the API keys, as the database receives it."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if "api_keys" in statement:
            seen.append(statement)

    event.listen(container.engine, "before_cursor_execute", note)
    yield seen
    event.remove(container.engine, "before_cursor_execute", note)


def _last_used(container: Container, plaintext: str) -> datetime | None:
    with container.uow() as uow:
        stamp = uow.session.scalar(
            select(ApiKey.last_used_at).where(ApiKey.key_hash == api_keys.hash_key(plaintext))
        )
    return stamp


def _key_id(container: Container, plaintext: str) -> int:
    with container.uow() as uow:
        key_id = uow.session.scalar(
            select(ApiKey.id).where(ApiKey.key_hash == api_keys.hash_key(plaintext))
        )
    assert key_id is not None
    return key_id


def test_a_key_verified_a_moment_ago_is_not_looked_up_again(
    client: TestClient, tenant: Tenant, clock: VirtualClock, key_statements: list[str]
) -> None:
    assert client.get(ACCOUNT, headers=tenant.headers).status_code == 200
    looked_up = len(key_statements)
    assert looked_up >= 1
    clock.advance(VERIFIED_FOR - timedelta(seconds=1))
    assert client.get(ACCOUNT, headers=tenant.headers).status_code == 200
    assert len(key_statements) == looked_up  # remembered: no statement about keys
    clock.advance(timedelta(seconds=2))
    assert client.get(ACCOUNT, headers=tenant.headers).status_code == 200
    assert len(key_statements) > looked_up  # past the window: asked the database again


def test_a_revoked_key_is_refused_at_once_though_just_verified(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    made = client.post("/api/v1/api-keys", json={"name": "CRM sync"}, headers=tenant.headers)
    crm = made.json()
    assert client.get(ACCOUNT, headers=_auth(crm["api_key"])).status_code == 200  # remembered
    # Revoked outside the API (as the CLI and the staff pages do), in this process.
    with container.uow() as uow:
        api_keys.revoke_key(
            uow=uow,
            scope=TenantScope(account_id=tenant.account_id, actor="test"),
            key_id=crm["id"],
        )
    assert client.get(ACCOUNT, headers=_auth(crm["api_key"])).status_code == 401
    assert client.get(ACCOUNT, headers=tenant.headers).status_code == 200  # the others still work


def test_a_rotated_key_is_refused_at_once_though_just_verified(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    assert client.get(ACCOUNT, headers=tenant.headers).status_code == 200  # remembered
    with container.uow() as uow:
        _new, plaintext = api_keys.rotate_key(
            uow=uow,
            scope=TenantScope(account_id=tenant.account_id, actor="test"),
            key_id=_key_id(container, tenant.api_key),
        )
    assert client.get(ACCOUNT, headers=tenant.headers).status_code == 401
    assert client.get(ACCOUNT, headers=_auth(plaintext)).status_code == 200


def test_a_key_that_expires_while_remembered_is_refused(
    client: TestClient, tenant: Tenant, clock: VirtualClock
) -> None:
    made = client.post(
        "/api/v1/api-keys", json={"name": "temp", "expires_in_days": 1}, headers=tenant.headers
    )
    temp = made.json()["api_key"]
    clock.advance(timedelta(days=1) - timedelta(seconds=5))
    assert client.get(ACCOUNT, headers=_auth(temp)).status_code == 200  # remembered
    clock.advance(timedelta(seconds=5))
    assert client.get(ACCOUNT, headers=_auth(temp)).status_code == 401


def test_last_use_is_still_written_at_most_once_a_minute(
    client: TestClient, container: Container, tenant: Tenant, clock: VirtualClock
) -> None:
    def used_after(seconds: int) -> datetime | None:
        clock.advance(timedelta(seconds=seconds))
        assert client.get(ACCOUNT, headers=tenant.headers).status_code == 200
        stamp = _last_used(container, tenant.api_key)
        return None if stamp is None else stamp.replace(tzinfo=START.tzinfo)

    assert used_after(0) == START  # first use: written
    assert used_after(20) == START  # remembered, not written
    assert used_after(25) == START  # verified again at 45 s, a minute has not passed
    assert used_after(35) == START + timedelta(seconds=80)  # verified again, written


def test_a_guessing_address_waits_even_with_a_remembered_key(
    client: TestClient, tenant: Tenant
) -> None:
    assert client.get(ACCOUNT, headers=tenant.headers).status_code == 200  # remembered
    for n in range(20):  # AUTH_FAILURES allows 20 a minute
        assert client.get(ACCOUNT, headers=_auth(f"rf_guess{n}")).status_code == 401
    assert client.get(ACCOUNT, headers=tenant.headers).status_code == 429


def _verified(at: datetime, *, expires_at: datetime | None = None) -> VerifiedKey:
    return VerifiedKey(key_id=1, account_id=1, name="k", expires_at=expires_at, verified_at=at)


def test_the_memory_trusts_only_fresh_live_keys() -> None:
    keys = VerifiedKeys()
    keys.remember("h", _verified(START, expires_at=START + timedelta(seconds=10)), generation=0)
    assert keys.get("h", now=START + timedelta(seconds=9)) is not None
    assert keys.get("h", now=START + timedelta(seconds=10)) is None  # expired
    assert keys.get("h", now=START - timedelta(seconds=1)) is None  # a clock that went back
    keys.remember("g", _verified(START), generation=0)
    assert keys.get("g", now=START + VERIFIED_FOR - timedelta(microseconds=1)) is not None
    assert keys.get("g", now=START + VERIFIED_FOR) is None  # stale: ask the database


def test_a_verification_that_began_before_a_revocation_is_not_remembered() -> None:
    keys = VerifiedKeys()
    began = keys.generation
    keys.forget_all()  # a revocation while the key was being read
    keys.remember("h", _verified(START), generation=began)
    assert keys.get("h", now=START) is None
    keys.remember("h", _verified(START), generation=keys.generation)
    assert keys.get("h", now=START) is not None
    keys.forget_all()
    assert keys.get("h", now=START) is None
