"""Staff sessions: a signed, HttpOnly cookie carrying the token of a server-side session row.

The cookie never holds the key: every request looks the token's row up (`services/web_sessions`,
see `deps.py`), so signing out, "sign out everywhere" and revoking the key end it at once. Every
browser, signed in or not, gets a random nonce in it: CSRF tokens are bound to that nonce, and a
new one is drawn at sign-in so that a nonce planted before sign-in is worth nothing after it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from ringfence.clock import Clock
from ringfence.entrypoints.web.signing import SignedValues
from ringfence.services.web_sessions import SESSION_LIFETIME

SESSION_COOKIE: Final = "ringfence_session"
SESSION_MAX_AGE: Final = SESSION_LIFETIME


@dataclass(frozen=True, slots=True)
class StaffSession:
    nonce: str
    token: str | None = None  # the server-side session's; None until signed in

    @classmethod
    def anonymous(cls) -> StaffSession:
        return cls(nonce=secrets.token_urlsafe(24))

    @classmethod
    def signed_in(cls, token: str) -> StaffSession:
        return cls(nonce=secrets.token_urlsafe(24), token=token)


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
        nonce, token = value.get("n"), value.get("t")
        if not isinstance(nonce, str) or not nonce:
            return None
        return StaffSession(nonce=nonce, token=token if isinstance(token, str) else None)

    def write(self, request: Request, response: Response, session: StaffSession) -> None:
        payload = {"n": session.nonce}
        if session.token is not None:
            payload["t"] = session.token
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
