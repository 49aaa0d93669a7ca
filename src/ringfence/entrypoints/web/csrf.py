"""CSRF tokens: signed copies of the session's nonce, checked on every state-changing request.

SameSite=Lax already keeps the session cookie off cross-site POSTs in current browsers. The
token covers the rest: pages on a sibling subdomain (the same "site", so Lax sends the cookie),
browsers without SameSite, and sign-in itself. A foreign page can make the browser send our
cookie, but it cannot read the token out of our page.
"""

from __future__ import annotations

import hmac
from typing import Final

from ringfence.clock import Clock
from ringfence.entrypoints.web.sessions import SESSION_MAX_AGE, StaffSession
from ringfence.entrypoints.web.signing import SignedValues

CSRF_FIELD: Final = "csrf_token"  # the hidden form field
CSRF_HEADER: Final = "X-CSRF-Token"  # what htmx sends (hx-headers on <body>)


class CsrfTokens:
    def __init__(self, secret: str, clock: Clock) -> None:
        self._signed = SignedValues(
            secret, salt="ringfence.csrf", max_age=SESSION_MAX_AGE, clock=clock
        )

    def issue(self, session: StaffSession) -> str:
        return self._signed.dumps(session.nonce)

    def valid(self, token: str | None, session: StaffSession | None) -> bool:
        if session is None:
            return False
        nonce = self._signed.loads(token)
        return isinstance(nonce, str) and hmac.compare_digest(nonce, session.nonce)
