"""The web pages on the application: static files, page routes, sign-in redirects.

`install_web` is the one call `create_app` makes. Page routers go into `ROUTERS`; every route
under them gets the CSRF check, so a new form cannot be added without it.
"""

from __future__ import annotations

import mimetypes
from typing import Final
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from ringfence.bootstrap import Container
from ringfence.entrypoints.web.deps import CsrfRejected, LoginRequired, get_web, verify_csrf
from ringfence.entrypoints.web.pages import STATIC_DIR
from ringfence.entrypoints.web.redirects import LOGIN, login_url, safe_next
from ringfence.entrypoints.web.routes import (
    agent_edit,
    auth,
    consent_evidence,
    contact_import,
    contacts,
    dashboard,
    dashboard_shares,
    enablement,
    forms,
    phone_numbers,
    public_forms,
    security,
    settings_logs,
    test_console,
    voice_ai,
    written_consent,
)
from ringfence.entrypoints.web.routes.workflows import editor as workflow_editor
from ringfence.entrypoints.web.routes.workflows import pages as workflows
from ringfence.entrypoints.web.routes.workflows import runs as workflow_runs
from ringfence.entrypoints.web.routes.workflows import saves as workflow_edits
from ringfence.entrypoints.web.sessions import StaffSession
from ringfence.entrypoints.web.state import WebState
from ringfence.secret_key import secret_key

ROUTERS: Final = (
    auth.router,
    # Before any /app/contacts/{id} page: "import" is not a contact id, and the first route
    # whose path matches answers.
    contact_import.router,
    voice_ai.router,
    workflows.router,
    workflow_editor.router,  # after workflows.router: /app/workflows/new is not an id
    workflow_runs.router,
    workflow_edits.router,
    dashboard.router,
    dashboard_shares.router,
    security.router,
    settings_logs.router,
    enablement.router,
    consent_evidence.router,
    written_consent.router,  # its own module; kept next to the contact page it posts from
    contacts.router,  # after contact_import.router: /app/contacts/import is no id
    forms.router,  # its /app/forms/new is declared before /app/forms/{form_id}
    test_console.router,
    phone_numbers.router,
    agent_edit.router,
)


def install_web(app: FastAPI, container: Container) -> None:
    # RFC 9239 names JavaScript text/javascript; some systems' MIME tables (and Python 3.11's
    # own) still say application/javascript. One answer on every host.
    mimetypes.add_type("text/javascript", ".js")
    app.state.web = WebState.build(secret=secret_key(container.settings), clock=container.clock)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    pages = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])
    for router in ROUTERS:
        pages.include_router(router)
    app.include_router(pages)
    # Public form pages: outside the CSRF group on purpose (routes/public_forms.py says why).
    app.include_router(public_forms.router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)


async def _login_required(request: Request, exc: Exception) -> Response:
    web = get_web(request)
    target = _return_path(request)
    location = login_url(target) if target else LOGIN
    response: Response
    if request.headers.get("HX-Request") == "true":
        # htmx would swap a redirect's page into a fragment; it follows HX-Redirect instead.
        response = Response(
            status_code=status.HTTP_401_UNAUTHORIZED, headers={"HX-Redirect": location}
        )
    else:
        response = RedirectResponse(location, status_code=status.HTTP_303_SEE_OTHER)
    if isinstance(exc, LoginRequired) and exc.stale_cookie:
        web.sessions.clear(request, response)
    return response


async def _csrf_rejected(request: Request, _exc: Exception) -> Response:
    web = get_web(request)
    # The page has no form, so the token it carries need not match any cookie.
    return web.pages.render_public(
        request,
        "forbidden.html",
        session=web.sessions.read(request) or StaffSession.anonymous(),
        status_code=status.HTTP_403_FORBIDDEN,
    )


def _return_path(request: Request) -> str | None:
    """The page to come back to after signing in: the one asked for, or for a form post or
    htmx request, the page it was sent from (if on this site)."""
    if request.method == "GET" and request.headers.get("HX-Request") != "true":
        return _local(request.url.path, request.url.query)
    origin = request.headers.get("HX-Current-URL") or request.headers.get("Referer")
    if not origin:
        return None
    parts = urlsplit(origin)
    if parts.netloc != request.url.netloc:
        return None
    return _local(parts.path, parts.query)


def _local(path: str, query: str) -> str | None:
    return safe_next(path + (f"?{query}" if query else ""), default="") or None
