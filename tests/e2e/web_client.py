"""Helpers for driving the web pages with the TestClient: forms, tokens, signing in."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx2 import Response  # what the TestClient returns

from tests.conftest import Tenant

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: Response) -> str:
    """The CSRF token of the form on `page` (every form carries the same one)."""
    found = _CSRF.search(page.text)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, tenant: Tenant, *, next_: str | None = None) -> Response:
    """Fill the sign-in form with the tenant's API key; returns the (unfollowed) answer."""
    form = client.get("/login")
    assert form.status_code == 200, form.text
    data = {"api_key": tenant.api_key, "csrf_token": csrf_token(form)}
    if next_ is not None:
        data["next"] = next_
    return client.post("/login", data=data, follow_redirects=False)


def shared_call_refs(html: str, path: str) -> list[str]:
    """The call references a shared dashboard page links to (its drawers), in page order."""
    refs = re.findall(rf'href="{re.escape(path)}/calls/([A-Za-z0-9_-]+)', html)
    return list(dict.fromkeys(refs))


SHARES = "/app/voice-ai/dashboards/outbound/shares"
_SHARE_URL = re.compile(r"http://testserver(/share/dashboard/[A-Za-z0-9._-]+)")


def make_share_link(
    client: TestClient, location_id: int, filters: str, *, label: str, include_phi: bool = True
) -> str:
    """A share link made through the staff form for the view `filters` (a URL query), with
    PHI by default; returns its path (`/share/dashboard/<token>`)."""
    form = client.get(f"{SHARES}?{filters}")
    data = {
        "csrf_token": csrf_token(form),
        "location_id": str(location_id),
        "filters": filters,
        "label": label,
        "expires_in_days": "7",
    }
    if include_phi:
        data["include_phi"] = "true"
    made = client.post(SHARES, data=data, follow_redirects=True)
    assert made.status_code == 200
    return str(_SHARE_URL.findall(made.text)[0])
