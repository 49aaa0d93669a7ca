"""Staff sign-in and sign-out. Accounts authenticate with an API key (`ringfence apikey
create`); the browser keeps a signed cookie naming a server-side session instead of the key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.entrypoints.deps import (
    ContainerDep,
)
from ringfence.entrypoints.rate_limits import AUTH_FAILURES, client_ip, limiter_of
from ringfence.entrypoints.web.deps import (
    CsrfRejected,
    CurrentSession,
    LoginRequired,
    Web,
    get_viewer,
)
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.redirects import LOGIN, safe_next
from ringfence.entrypoints.web.sessions import StaffSession
from ringfence.services.api_keys import sign_in
from ringfence.services.web_sessions import sign_out

router = APIRouter()


@router.get(LOGIN, name="login")
def login_form(
    request: Request,
    container: ContainerDep,
    web: Web,
    session: CurrentSession,
    next_: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    target = safe_next(next_)
    if session is not None and session.token is not None:
        try:
            get_viewer(container, session)
        except LoginRequired:
            pass  # the key was revoked: sign in again
        else:
            return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    # Sign-in needs a CSRF token too, so an anonymous browser gets a session nonce first
    # (and keeps it, so that two tabs showing this form both work).
    if session is None or session.token is not None:
        anonymous = StaffSession.anonymous()
    else:
        anonymous = session
    response = web.pages.render_public(
        request,
        "login.html",
        session=anonymous,
        context={"next": target, "error": None},
    )
    if anonymous is not session:
        web.sessions.write(request, response, anonymous)
    return response


@router.post(LOGIN)
def login(
    request: Request,
    container: ContainerDep,
    web: Web,
    session: CurrentSession,
    api_key: Annotated[str, Form(max_length=200)],
    next_: Annotated[str | None, Form(alias="next")] = None,
) -> Response:
    if session is None:  # unreachable past the router's CSRF check; keeps the types honest
        raise CsrfRejected
    target = safe_next(next_)
    limiter, ip = limiter_of(request), client_ip(request)
    blocked = limiter.exhausted(AUTH_FAILURES, "sign-in", ip)
    if blocked is not None:
        page = web.pages.render_public(
            request,
            "login.html",
            session=session,
            context={
                "next": target,
                "error": f"Too many attempts: try again in {blocked.retry_after_s} seconds.",
            },
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
        page.headers["Retry-After"] = str(blocked.retry_after_s)
        return page
    with container.uow() as uow:
        token = sign_in(
            uow=uow, plaintext=api_key.strip(), user_agent=request.headers.get("user-agent")
        )
    signed_in = None if token is None else StaffSession.signed_in(token)
    if signed_in is None:
        limiter.hit(AUTH_FAILURES, "sign-in", ip)
        return web.pages.render_public(
            request,
            "login.html",
            session=session,
            context={"next": target, "error": "That API key is not valid (or was revoked)."},
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    web.sessions.write(request, response, signed_in)
    return response


@router.post("/logout", name="logout")
def logout(
    request: Request, container: ContainerDep, web: Web, session: CurrentSession
) -> Response:
    """End this browser's session row (a copied cookie stops working too) and drop the cookie."""
    if session is not None and session.token is not None:
        with container.uow() as uow:
            sign_out(uow=uow, token=session.token)
    response = RedirectResponse(LOGIN, status_code=status.HTTP_303_SEE_OTHER)
    web.sessions.clear(request, response)
    web.flashes.add(request, response, Flash(FlashLevel.SUCCESS, "You have signed out."))
    return response
