"""Staff sign-in through the web pages: the session cookie, CSRF tokens, `next` redirects."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx2 import Response
from itsdangerous.encoding import base64_decode, base64_encode

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.entrypoints.web.flash import FLASH_COOKIE
from ringfence.entrypoints.web.sessions import SESSION_COOKIE, SESSION_MAX_AGE
from ringfence.entrypoints.web.signing import SignedValues
from ringfence.entrypoints.web.site import ROUTERS
from ringfence.services.api_keys import revoke_api_keys
from tests.conftest import Tenant
from tests.e2e.web_client import csrf_token, sign_in
from tests.factories import add_voice_agent


def _redirected_to_login(response: Response, *, next_: str | None) -> None:
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert location.path == "/login"
    assert parse_qs(location.query).get("next") == ([next_] if next_ else None)


def test_signing_in_sets_a_hardened_cookie_and_shows_the_account(
    client: TestClient, tenant: Tenant
) -> None:
    response = sign_in(client, tenant)
    assert response.status_code == 303
    assert response.headers["location"] == "/app/voice-ai"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert f"Max-Age={int(SESSION_MAX_AGE.total_seconds())}" in cookie
    assert tenant.api_key not in cookie  # ids only, never the key

    page = client.get("/app/voice-ai")
    assert page.status_code == 200
    assert "Glow Aesthetics" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"


def test_a_wrong_key_is_refused_on_the_form(client: TestClient, tenant: Tenant) -> None:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"api_key": "rf_not-a-key", "csrf_token": csrf_token(form)},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "not valid" in response.text
    _redirected_to_login(client.get("/app/voice-ai", follow_redirects=False), next_="/app/voice-ai")


def test_pages_send_a_stranger_to_sign_in_and_back(client: TestClient, tenant: Tenant) -> None:
    _redirected_to_login(
        client.get("/app/voice-ai?location=1", follow_redirects=False),
        next_="/app/voice-ai?location=1",
    )
    response = sign_in(client, tenant, next_="/app/voice-ai?location=1")
    assert response.headers["location"] == "/app/voice-ai?location=1"


def test_htmx_requests_are_told_to_redirect_the_whole_page(client: TestClient) -> None:
    response = client.get(
        "/app/voice-ai",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/app/voice-ai"},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login?next=%2Fapp%2Fvoice-ai"


def test_next_may_not_leave_the_site(client: TestClient, tenant: Tenant) -> None:
    for target in ("https://evil.example/", "//evil.example/app", "/\\evil.example"):
        response = sign_in(client, tenant, next_=target)
        assert response.headers["location"] == "/app/voice-ai", target
        client.cookies.clear()
    form = client.get("/login?next=//evil.example")
    assert 'name="next" value="/app/voice-ai"' in form.text


def _replace_session_cookie(client: TestClient, value: str) -> None:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value)


def _token(cookie: str) -> str:
    token: str = json.loads(base64_decode(cookie.split(".", 1)[0]))["t"]
    return token


def test_a_tampered_cookie_is_no_session(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    other = TestClient(client.app)
    sign_in(client, tenant)
    payload, signature = client.cookies[SESSION_COOKIE].split(".", 1)
    claims = json.loads(base64_decode(payload))
    assert set(claims) == {"n", "t"}  # a nonce and the server-side session's token, nothing else
    sign_in(other, other_tenant)
    claims["t"] = _token(other.cookies[SESSION_COOKIE])  # "I am the other account now"
    _replace_session_cookie(
        client, base64_encode(json.dumps(claims).encode()).decode() + "." + signature
    )
    _redirected_to_login(client.get("/app/voice-ai", follow_redirects=False), next_="/app/voice-ai")


def test_a_cookie_signed_with_another_key_is_no_session(
    client: TestClient, tenant: Tenant, clock: VirtualClock
) -> None:
    sign_in(client, tenant)
    good = client.cookies[SESSION_COOKIE]
    forged = SignedValues("x" * 48, salt="ringfence.session", max_age=SESSION_MAX_AGE, clock=clock)
    claims = {"n": "nonce", "t": _token(good)}  # the genuine token, signed with another secret
    _replace_session_cookie(client, forged.dumps(claims))
    _redirected_to_login(client.get("/app/voice-ai", follow_redirects=False), next_="/app/voice-ai")
    _replace_session_cookie(client, good)  # the control: the genuine cookie still works
    assert client.get("/app/voice-ai", follow_redirects=False).status_code == 200


def test_a_session_expires_after_twelve_hours(
    client: TestClient, tenant: Tenant, clock: VirtualClock
) -> None:
    sign_in(client, tenant)
    clock.advance(SESSION_MAX_AGE - timedelta(seconds=1))
    assert client.get("/app/voice-ai", follow_redirects=False).status_code == 200
    clock.advance(timedelta(seconds=2))
    _redirected_to_login(client.get("/app/voice-ai", follow_redirects=False), next_="/app/voice-ai")


def test_revoking_the_key_signs_its_sessions_out(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    sign_in(client, tenant)
    assert client.get("/app/voice-ai", follow_redirects=False).status_code == 200
    with container.uow() as uow:
        assert revoke_api_keys(
            uow.session, account_id=tenant.account_id, name="test", now=uow.clock.now()
        )
        uow.commit()
    response = client.get("/app/voice-ai", follow_redirects=False)
    _redirected_to_login(response, next_="/app/voice-ai")
    assert any(
        c.startswith(f'{SESSION_COOKIE}=""') or c.startswith(f"{SESSION_COOKIE}=;")
        for c in response.headers.get_list("set-cookie")
    ), "the stale cookie is deleted"


def test_post_without_or_with_a_wrong_csrf_token_is_forbidden(
    client: TestClient, tenant: Tenant
) -> None:
    sign_in(client, tenant)
    page = client.get("/app/voice-ai")
    token = csrf_token(page)
    assert client.post("/logout", follow_redirects=False).status_code == 403
    wrong = client.post("/logout", data={"csrf_token": "nope"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert "expired" in wrong.text
    assert (
        client.post(
            "/logout", headers={"X-CSRF-Token": token[:-2] + "xx"}, follow_redirects=False
        ).status_code
        == 403
    )
    # Still signed in: nothing happened.
    assert client.get("/app/voice-ai", follow_redirects=False).status_code == 200


def test_a_token_from_another_session_is_refused(client: TestClient, tenant: Tenant) -> None:
    sign_in(client, tenant)
    before_login = csrf_token(client.get("/app/voice-ai"))
    client.cookies.clear()
    sign_in(client, tenant)  # a new session: a new nonce
    refused = client.post("/logout", data={"csrf_token": before_login}, follow_redirects=False)
    assert refused.status_code == 403


def test_sign_in_itself_needs_the_forms_token(client: TestClient, tenant: Tenant) -> None:
    client.get("/login")
    response = client.post("/login", data={"api_key": tenant.api_key}, follow_redirects=False)
    assert response.status_code == 403
    assert SESSION_COOKIE not in {
        c.split("=", 1)[0] for c in response.headers.get_list("set-cookie")
    }


def test_signing_out_with_the_token_ends_the_session(client: TestClient, tenant: Tenant) -> None:
    sign_in(client, tenant)
    token = csrf_token(client.get("/app/voice-ai"))
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    notice = client.get("/login")
    assert "You have signed out." in notice.text
    assert FLASH_COOKIE not in client.cookies  # shown once
    assert "You have signed out." not in client.get("/login").text
    _redirected_to_login(client.get("/app/voice-ai", follow_redirects=False), next_="/app/voice-ai")


def test_htmx_sends_the_token_in_a_header(client: TestClient, tenant: Tenant) -> None:
    sign_in(client, tenant)
    page = client.get("/app/voice-ai")
    assert 'hx-headers=\'{"X-CSRF-Token": "' in page.text
    response = client.post(
        "/logout",
        headers={"X-CSRF-Token": csrf_token(page), "HX-Request": "true"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_the_sign_in_page_sends_a_signed_in_browser_on(client: TestClient, tenant: Tenant) -> None:
    sign_in(client, tenant)
    response = client.get("/login?next=/console", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"


def test_app_goes_to_voice_ai_and_the_voice_ai_page_lists_agents(
    client: TestClient, tenant: Tenant, container: Container
) -> None:
    add_voice_agent(container, tenant, name="Front desk")
    sign_in(client, tenant)
    response = client.get("/app", follow_redirects=False)
    assert response.headers["location"] == "/app/voice-ai"
    page = client.get("/app/voice-ai")
    assert "Front desk" in page.text
    assert "Ready for outbound" in page.text
    assert 'href="/app/workflows"' in page.text
    assert 'href="/app/voice-ai/dashboards/outbound"' in page.text
    assert 'href="/app/voice-ai/console"' in page.text


def test_another_accounts_location_is_not_found(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    sign_in(client, tenant)
    response = client.get(f"/app/voice-ai?location={other_tenant.location_id}")
    assert response.status_code == 404
    assert "Rival Derm" not in response.text


def test_every_state_changing_page_route_checks_the_csrf_token(
    client: TestClient, tenant: Tenant
) -> None:
    # Guards pages added later: every route of the page routers (site.ROUTERS) is answered
    # 403 when the token is missing, whatever the route itself would do.
    sign_in(client, tenant)
    checked = []
    for route in (route for router in ROUTERS for route in router.routes):
        assert isinstance(route, APIRoute)
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in sorted(route.methods - {"GET", "HEAD", "OPTIONS"}):
            response = client.request(method, path, data={}, follow_redirects=False)
            assert response.status_code == 403, f"{method} {route.path}"
            checked.append(f"{method} {route.path}")
    assert {"POST /login", "POST /logout"} <= set(checked)


def test_the_root_leads_into_the_staff_app(client: TestClient, tenant: Tenant) -> None:
    """The address the demo prints first is the staff app: its sign-in page for a visitor
    (with the API reference for integrators), the app itself once signed in."""
    visitor = client.get("/")
    assert visitor.status_code == 200
    assert str(visitor.url).endswith("/login?next=%2Fapp%2Fvoice-ai")
    assert 'href="/docs"' in visitor.text
    sign_in(client, tenant)
    assert str(client.get("/").url).endswith("/app/voice-ai")
