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
