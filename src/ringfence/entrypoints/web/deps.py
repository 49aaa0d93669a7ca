"""Typed dependencies for the web pages: the signed-in staff member and the CSRF check.

`WebScope` is the page counterpart of the API's bearer-key `Scope`: the tenant scope of the
staff member signed in, or a redirect to the sign-in page (raised as `LoginRequired` and
answered by `site.install_web`'s handler).
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Request

from ringfence.entrypoints.deps import (
    ContainerDep,
)
from ringfence.entrypoints.web.csrf import CSRF_FIELD, CSRF_HEADER
from ringfence.entrypoints.web.pages import Viewer
from ringfence.entrypoints.web.sessions import StaffSession
from ringfence.entrypoints.web.state import WebState
from ringfence.services.demo import DEMO_SLUG
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.web_sessions import check_session

_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")


class LoginRequired(Exception):
    """No valid staff session: send the browser to sign in (and come back afterwards)."""

    def __init__(self, *, stale_cookie: bool) -> None:
        super().__init__("sign-in required")
        self.stale_cookie = stale_cookie  # a cookie for a revoked key: delete it


class CsrfRejected(Exception):
    """A state-changing request without the current session's CSRF token."""


def get_web(request: Request) -> WebState:
    web: WebState = request.app.state.web
    return web


Web = Annotated[WebState, Depends(get_web)]


def get_staff_session(request: Request, web: Web) -> StaffSession | None:
    return web.sessions.read(request)


CurrentSession = Annotated[StaffSession | None, Depends(get_staff_session)]


def get_viewer(container: ContainerDep, session: CurrentSession) -> Viewer:
    if session is None or session.token is None:
        raise LoginRequired(stale_cookie=False)
    # Its own short transaction, like the API's key check: a page's rollback never touches it.
    with container.uow() as uow:
        live = check_session(uow=uow, token=session.token)
    if live is None:  # signed out, ended everywhere, expired, or its key revoked
        raise LoginRequired(stale_cookie=True)
    return Viewer(
        scope=TenantScope(account_id=live.account_id, actor=f"web:api_key:{live.key_name}"),
        account_name=live.account_name,
        session=session,
        session_id=live.session_id,
        # From the row the session check already read: no query of its own per page.
        demo=live.account_slug == DEMO_SLUG,
    )


SignedIn = Annotated[Viewer, Depends(get_viewer)]


def get_web_scope(viewer: SignedIn) -> TenantScope:
    return viewer.scope


WebScope = Annotated[TenantScope, Depends(get_web_scope)]


async def verify_csrf(request: Request, web: Web, session: CurrentSession) -> None:
    """Refuse any state-changing request that lacks this session's CSRF token.

    Installed on the whole web router, so a new form cannot forget it. The token comes in the
    `X-CSRF-Token` header (htmx) or the `csrf_token` form field (plain forms).
    """
    if request.method in _SAFE_METHODS:
        return
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        # Starlette keeps the parsed form on the request, so the route still reads its fields.
        value = (await request.form()).get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not web.csrf.valid(token, session):
        raise CsrfRejected
