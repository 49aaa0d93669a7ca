"""One API key cannot send requests without end (finding 6, issue item 3: rate limits "per key
and per IP on authentication").

Before: only failed key checks were counted, per client address; a valid key (a leaked one,
or a runaway integration) was served at any rate. Now every request with a valid key counts
against the key's own limit (`RINGFENCE_API_KEY_RATE_LIMIT`), whichever address sends it: over
it the answer is 429 with Retry-After, and the account's other keys are still served. The key
is named in the counts by its id, never by its secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from ringfence.bootstrap import Container, bootstrap
from ringfence.clock import VirtualClock
from ringfence.config import Settings
from ringfence.entrypoints.rate_limits import Limited, RateLimiter
from ringfence.services.api_keys import create_api_key
from tests.conftest import Tenant, _wipe

PER_KEY = 5


@pytest.fixture
def container(
    migrated_engine: Engine, database_url: str, clock: VirtualClock
) -> Iterator[Container]:
    _wipe(migrated_engine)
    built = bootstrap(
        Settings(
            database_url=database_url,
            public_form_min_fill_seconds=0,
            api_key_rate_limit=f"{PER_KEY}/minute",
        ),
        clock=clock,
    )
    yield built
    built.close()


class Recording:
    """The real limiter, with every key it was asked about written down."""

    in_memory = True

    def __init__(self) -> None:
        self.inner = RateLimiter()
        self.keys: list[str] = []

    def hit(self, rules: str, *keys: str) -> Limited | None:
        self.keys.extend(keys)
        return self.inner.hit(rules, *keys)

    def exhausted(self, rules: str, *keys: str) -> Limited | None:
        self.keys.extend(keys)
        return self.inner.exhausted(rules, *keys)


def _second_key(container: Container, tenant: Tenant) -> dict[str, str]:
    with container.uow() as uow:
        _key, plaintext = create_api_key(
            uow.session, account_id=tenant.account_id, name="second", now=uow.clock.now()
        )
        uow.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def test_a_key_over_its_limit_waits_while_another_key_of_the_account_is_served(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    limiter = Recording()
    client.app.state.rate_limiter = limiter  # type: ignore[attr-defined]
    other = _second_key(container, tenant)
    answers = [client.get("/api/v1/account", headers=tenant.headers) for _ in range(PER_KEY + 1)]
    assert [a.status_code for a in answers] == [200] * PER_KEY + [429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    # The same address, the same account, another key: served.
    assert client.get("/api/v1/account", headers=other).status_code == 200
    # Still limited: the key's count, not the address's, is full.
    assert client.get("/api/v1/account", headers=tenant.headers).status_code == 429
    assert limiter.keys, "the limiter was not asked"
    assert not [k for k in limiter.keys if tenant.api_key in k]


def test_the_limit_is_a_setting_that_must_parse() -> None:
    assert Settings().api_key_rate_limit == "36000/minute"
    with pytest.raises(ValueError, match="not a rate limit"):
        Settings(api_key_rate_limit="lots")
