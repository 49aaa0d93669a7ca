"""Staff sessions: a signed, HttpOnly cookie naming the account and the API key signed in with.

The cookie holds ids only, never the key: every request re-checks that the key still exists and
is not revoked (see `deps.py`), so revoking a key signs its browser sessions out at once. Every
browser, signed in or not, gets a random nonce in it: CSRF tokens are bound to that nonce, and a
new one is drawn at sign-in so that a nonce planted before sign-in is worth nothing after it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from ringfence.clock import Clock
from ringfence.entrypoints.web.signing import SignedValues

SESSION_COOKIE: Final = "ringfence_session"
SESSION_MAX_AGE: Final = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class StaffSession:
    nonce: str
    account_id: int | None = None
    api_key_id: int | None = None

    @classmethod
    def anonymous(cls) -> StaffSession:
        return cls(nonce=secrets.token_urlsafe(24))

    @classmethod
    def signed_in(cls, *, account_id: int, api_key_id: int) -> StaffSession:
        return cls(nonce=secrets.token_urlsafe(24), account_id=account_id, api_key_id=api_key_id)


class SessionCookies:
    def __init__(self, secret: str, clock: Clock) -> None:
        self._signed = SignedValues(
            secret, salt="ringfence.session", max_age=SESSION_MAX_AGE, clock=clock
        )

    def read(self, request: Request) -> StaffSession | None:
        """The request's session; None when the cookie is absent, tampered with or expired."""
        value = self._signed.loads(request.cookies.get(SESSION_COOKIE))
        if not isinstance(value, dict):
            return None
        nonce, account_id, api_key_id = value.get("n"), value.get("a"), value.get("k")
        if not isinstance(nonce, str) or not nonce:
            return None
        if isinstance(account_id, int) and isinstance(api_key_id, int):
            return StaffSession(nonce=nonce, account_id=account_id, api_key_id=api_key_id)
        return StaffSession(nonce=nonce)

    def write(self, request: Request, response: Response, session: StaffSession) -> None:
        payload: dict[str, str | int] = {"n": session.nonce}
        if session.account_id is not None and session.api_key_id is not None:
            payload |= {"a": session.account_id, "k": session.api_key_id}
        response.set_cookie(
            SESSION_COOKIE,
            self._signed.dumps(payload),
            max_age=int(SESSION_MAX_AGE.total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            # Self-hosted installs are often reached over plain http on a LAN; over https the
            # cookie is never sent in clear.
            secure=request.url.scheme == "https",
        )

    def clear(self, request: Request, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
