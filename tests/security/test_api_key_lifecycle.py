"""A leaked key can be cut off (finding 4, Medium): list, create with expiry, revoke, rotate,
from the API and the CLI, audited, effective at once (requests and signed-in pages)."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.entrypoints.cli import app
from tests.conftest import Tenant
from tests.e2e.web_client import sign_in

KEYS = "/api/v1/api-keys"


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_key_is_created_listed_rotated_and_revoked_at_once(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    made = client.post(KEYS, json={"name": "CRM sync"}, headers=tenant.headers)
    assert made.status_code == 201, made.text
    crm = made.json()
    assert crm["api_key"].startswith(crm["prefix"])
    assert client.get("/api/v1/account", headers=_auth(crm["api_key"])).status_code == 200

    listed = client.get(KEYS, headers=tenant.headers).json()
    assert [k["name"] for k in listed] == ["CRM sync", "test"]
    assert all("api_key" not in k and "key_hash" not in k for k in listed)
    assert listed[0]["last_used_at"] is not None  # it was just used

    # Another practice can neither see nor touch it.
    assert (
        client.post(f"{KEYS}/{crm['id']}/revoke", headers=other_tenant.headers).status_code == 404
    )
    assert [k["name"] for k in client.get(KEYS, headers=other_tenant.headers).json()] == ["test"]

    rotated = client.post(f"{KEYS}/{crm['id']}/rotate", headers=tenant.headers)
    assert rotated.status_code == 201
    new = rotated.json()
    assert new["name"] == "CRM sync"
    assert client.get("/api/v1/account", headers=_auth(crm["api_key"])).status_code == 401
    assert client.get("/api/v1/account", headers=_auth(new["api_key"])).status_code == 200
    assert client.post(f"{KEYS}/{crm['id']}/rotate", headers=tenant.headers).status_code == 409

    # A key may revoke itself (the way to cut off a leak from the leaked key's holder).
    revoked = client.post(f"{KEYS}/{new['id']}/revoke", headers=_auth(new["api_key"]))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/account", headers=_auth(new["api_key"])).status_code == 401

    audited = client.get("/api/v1/audit-events?entity_type=api_key", headers=tenant.headers).json()[
        "items"
    ]
    assert sorted(e["action"] for e in audited) == [
        "api_key.created",
        "api_key.created",
        "api_key.revoked",
        "api_key.revoked",
    ]
    assert not any(new["api_key"] in json.dumps(e) for e in audited)


def test_an_expired_key_is_refused_and_signs_its_pages_out(
    client: TestClient, tenant: Tenant, clock: VirtualClock
) -> None:
    made = client.post(KEYS, json={"name": "temp", "expires_in_days": 1}, headers=tenant.headers)
    temp = made.json()
    assert temp["expires_at"] is not None
    sign_in(client, Tenant(tenant.account_id, tenant.location_id, temp["api_key"]))
    assert client.get("/app/voice-ai", follow_redirects=False).status_code == 200
    clock.advance(timedelta(days=1, seconds=1))
    assert client.get("/api/v1/account", headers=_auth(temp["api_key"])).status_code == 401
    assert client.get("/app/voice-ai", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/account", headers=tenant.headers).status_code == 200


def test_bad_requests_name_the_field(client: TestClient, tenant: Tenant) -> None:
    for body, field in (
        ({"name": ""}, "name"),
        ({"name": "x", "expires_in_days": 0}, "expires_in_days"),
    ):
        answer = client.post(KEYS, json=body, headers=tenant.headers)
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"][-1] == field
    assert client.post(f"{KEYS}/99999999999/revoke", headers=tenant.headers).status_code == 422


def test_the_cli_lists_revokes_and_rotates(
    container: Container, database_url: str, tenant: Tenant, client: TestClient
) -> None:
    env = {"RINGFENCE_DATABASE_URL": database_url}
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    account = str(tenant.account_id)
    made = json.loads(
        run("apikey", "create", "--account", account, "--name", "ops", "--expires-in-days", "30")
    )
    assert "ops" in run("apikey", "list", "--account", account)
    rotated = json.loads(run("apikey", "rotate", str(made["id"]), "--account", account))
    assert client.get("/api/v1/account", headers=_auth(made["api_key"])).status_code == 401
    assert client.get("/api/v1/account", headers=_auth(rotated["api_key"])).status_code == 200
    run("apikey", "revoke", str(rotated["id"]), "--account", account)
    assert client.get("/api/v1/account", headers=_auth(rotated["api_key"])).status_code == 401
    wrong = runner.invoke(
        app, ["apikey", "revoke", str(rotated["id"]), "--account", "999"], env=env
    )
    assert wrong.exit_code == 1
