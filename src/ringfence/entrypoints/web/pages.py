"""Rendering pages: the Jinja2 environment and what every page's template is given.

Every page gets `viewer` (who is signed in, or None), `csrf_token` and the `csrf_field()`
helper, the `flashes` queued for it, and the menu. Templates are autoescaped and strict:
a misspelt variable is an error in the tests, not an empty string on a patient's record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from ringfence import __version__
from ringfence.domain.compliance import zone
from ringfence.entrypoints.web.csrf import CSRF_FIELD, CsrfTokens
from ringfence.entrypoints.web.flash import FlashCookies
from ringfence.entrypoints.web.navigation import MENU, current_link
from ringfence.entrypoints.web.sessions import StaffSession
from ringfence.services.unit_of_work import TenantScope

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
STATIC_DIR: Final = Path(__file__).parent / "static"

# Pages may show patients' details: keep them out of shared caches and other sites' frames.
_PAGE_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True, slots=True)
class Viewer:
    """The staff member behind a request: their tenant scope and their session."""

    scope: TenantScope
    account_name: str
    session: StaffSession
    session_id: int  # the server-side session row (marks "this browser" in the session list)
    demo: bool = False  # the generated demo practice: the layout says so on every page


@jinja2.pass_context
def _csrf_field(context: jinja2.runtime.Context) -> Markup:
    token = context["csrf_token"]
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)


def local_time(at: datetime | None, time_zone: str) -> str:
    """`at` as staff read it: in the location's zone, with the zone's abbreviation."""
    if at is None:
        return "—"
    return at.astimezone(zone(time_zone)).strftime("%Y-%m-%d %H:%M %Z")


def static_url(path: str) -> str:
    # The version in the query string makes browsers fetch assets anew after an upgrade.
    return f"/static/{path}?v={__version__}"


def template_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(csrf_field=_csrf_field, static_url=static_url, menu=MENU)
    env.filters["local"] = local_time
    return env


class Pages:
    def __init__(self, *, csrf: CsrfTokens, flashes: FlashCookies) -> None:
        self._templates = Jinja2Templates(env=template_environment())
        self._csrf = csrf
        self._flashes = flashes

    def render(
        self,
        request: Request,
        name: str,
        *,
        viewer: Viewer,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        """Template `name` for the signed-in `viewer` (in the full layout, with the menu)."""
        return self._render(request, name, viewer.session, viewer, context, status_code)

    def not_found(self, request: Request, *, viewer: Viewer, what: str) -> HTMLResponse:
        """The 404 page, naming `what` was not found ("That contact"): for anything that is
        not the viewer's account's too, so another tenant's row reads as missing."""
        return self.render(
            request, "not_found.html", viewer=viewer, context={"what": what}, status_code=404
        )

    def render_public(
        self,
        request: Request,
        name: str,
        *,
        session: StaffSession,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        """Template `name` for a browser that is not signed in (no menu); its forms' CSRF
        tokens are bound to `session`, which the caller makes sure the browser holds."""
        return self._render(request, name, session, None, context, status_code)

    def _render(
        self,
        request: Request,
        name: str,
        session: StaffSession,
        viewer: Viewer | None,
        context: Mapping[str, Any] | None,
        status_code: int,
    ) -> HTMLResponse:
        full: dict[str, Any] = {
            **(context or {}),
            "viewer": viewer,
            "csrf_token": self._csrf.issue(session),
            "flashes": self._flashes.pending(request),
            "current_link": current_link(request.url.path),
        }
        response = self._templates.TemplateResponse(
            request, name, full, status_code=status_code, headers=_PAGE_HEADERS
        )
        self._flashes.forget(request, response)  # shown now, so not again
        return response
