"""A signed-out session is over everywhere (finding 4/6): staff sessions are server-side rows,
so sign-out, "sign out everywhere" and key revocation end a cookie at once, even a copy of it.

Before the rows, signing out only deleted the cookie in that browser; a copy kept working for
up to 12 h. The first test is the regression test for that.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.orm import WebSession
from ringfence.bootstrap import Container
from ringfence.entrypoints.web.sessions import SESSION_COOKIE
from tests.conftest import Tenant
from tests.e2e.web_client import csrf_token, sign_in

PAGE = "/app/voice-ai"


def _browser(client: TestClient) -> TestClient:
    return TestClient(client.app)


def _signed_in(client: TestClient) -> bool:
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code in (200, 303), response.text
    return response.status_code == 200


def _copy_cookie(source: TestClient, target: TestClient) -> None:
    target.cookies.set(SESSION_COOKIE, source.cookies[SESSION_COOKIE])


def _post(client: TestClient, path: str) -> int:
    token = csrf_token(client.get("/app/security"))
    return client.post(path, data={"csrf_token": token}, follow_redirects=False).status_code


def test_a_copied_cookie_stops_working_when_its_browser_signs_out(
    client: TestClient, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    thief = _browser(client)
    _copy_cookie(client, thief)
    assert _signed_in(thief)  # the copy works while the session lives
    assert _post(client, "/logout") == 303
    assert not _signed_in(thief)
    assert not _signed_in(client)


def test_sign_out_everywhere_ends_every_browser_of_the_account_only(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    laptop, phone, rival = _browser(client), _browser(client), _browser(client)
    for browser, who in (
        (client, tenant),
        (laptop, tenant),
        (phone, tenant),
        (rival, other_tenant),
    ):
        sign_in(browser, who)
    page = client.get("/app/security")
    assert page.text.count("data-session=") == 3  # the account's three browsers, not the rival
    assert "(this browser)" in page.text

    response = client.post(
        "/app/security/sessions/end-all",
        data={"csrf_token": csrf_token(page)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "Signed out everywhere: 3 sessions ended." in client.get("/login").text
    assert [_signed_in(b) for b in (client, laptop, phone)] == [False, False, False]
    assert _signed_in(rival)  # another tenant's browser is not touched
    with container.session_factory() as session:
        reasons = set(session.scalars(select(WebSession.end_reason)))
    assert reasons == {"signed_out_everywhere", None}
    audited = client.get("/api/v1/audit-events?entity_type=account", headers=tenant.headers).json()[
        "items"
    ]
    assert any(e["action"] == "web_sessions.ended" for e in audited)


def test_the_api_lists_and_ends_the_accounts_browser_sessions(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    browser, rival = _browser(client), _browser(client)
    sign_in(browser, tenant)
    sign_in(rival, other_tenant)
    listed = client.get("/api/v1/web-sessions", headers=tenant.headers)
    assert listed.status_code == 200
    assert [s["key_name"] for s in listed.json()] == ["test"]
    assert "testclient" in listed.json()[0]["user_agent"]
    ended = client.post("/api/v1/web-sessions/end-all", headers=tenant.headers)
    assert ended.json() == {"ended": 1}
    assert not _signed_in(browser)
    assert _signed_in(rival)
    assert client.get("/api/v1/web-sessions", headers=tenant.headers).json() == []
    # The API key itself still works: ending sessions is not revoking keys.
    assert client.get("/api/v1/account", headers=tenant.headers).status_code == 200


def test_revoking_a_key_ends_its_sessions_and_no_other(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    made = client.post("/api/v1/api-keys", json={"name": "Front desk"}, headers=tenant.headers)
    front_desk = Tenant(tenant.account_id, tenant.location_id, made.json()["api_key"])
    desk, manager = _browser(client), _browser(client)
    sign_in(desk, front_desk)
    sign_in(manager, tenant)
    revoked = client.post(f"/api/v1/api-keys/{made.json()['id']}/revoke", headers=tenant.headers)
    assert revoked.status_code == 200
    assert not _signed_in(desk)
    assert _signed_in(manager)
    with container.session_factory() as session:
        rows = {row.api_key_id: row.end_reason for row in session.scalars(select(WebSession))}
    assert rows[made.json()["id"]] == "key_revoked"


def test_keys_are_made_rotated_and_revoked_from_the_page(
    client: TestClient, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    page = client.get("/app/security")
    made = client.post(
        "/app/security/keys",
        data={"csrf_token": csrf_token(page), "name": "Tablet", "expires_in_days": "30"},
    )
    assert made.status_code == 201
    assert "shown this once" in made.text
    secret = made.text.split('id="new-key-value"')[0].rsplit('value="', 1)[1].split('"', 1)[0]
    assert secret.startswith("rf_")
    assert client.get("/api/v1/account", headers={"Authorization": f"Bearer {secret}"}).is_success
    # Shown once: the list page does not carry it again.
    assert secret not in client.get("/app/security").text

    keys = client.get("/api/v1/api-keys", headers=tenant.headers).json()
    tablet = next(k for k in keys if k["name"] == "Tablet")
    assert tablet["expires_at"] is not None
    rotated = client.post(
        f"/app/security/keys/{tablet['id']}/rotate",
        data={"csrf_token": csrf_token(client.get("/app/security"))},
    )
    assert rotated.status_code == 201
    assert (
        client.get("/api/v1/account", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )

    bad = client.post(
        "/app/security/keys",
        data={
            "csrf_token": csrf_token(client.get("/app/security")),
            "name": "X",
            "expires_in_days": "0",
        },
    )
    assert "whole number 1–3650" in bad.text

    # Revoking the key this browser signed in with signs this browser out too.
    own = next(k for k in keys if k["name"] == "test")
    assert _post(client, f"/app/security/keys/{own['id']}/revoke") == 303
    assert not _signed_in(client)


def test_another_tenants_key_cannot_be_revoked_from_the_page(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    rival_key = client.get("/api/v1/api-keys", headers=other_tenant.headers).json()[0]
    sign_in(client, tenant)
    _post(client, f"/app/security/keys/{rival_key['id']}/revoke")
    assert "No such API key." in client.get("/app/security").text
    assert client.get("/api/v1/account", headers=other_tenant.headers).status_code == 200
