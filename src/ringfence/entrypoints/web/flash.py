"""Flash messages: one-time notices ("Signed out.") carried across a redirect in a cookie.

The cookie is signed, so another site cannot make our page display text of its choosing (which
a plain `?message=` query parameter would allow); the page that shows the messages deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from ringfence.clock import Clock
from ringfence.entrypoints.web.signing import SignedValues

FLASH_COOKIE: Final = "ringfence_flash"
_MAX_AGE: Final = timedelta(minutes=5)  # a notice older than that is about something else


class FlashLevel(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    ERROR = "error"


_LEVELS: Final = frozenset(level.value for level in FlashLevel)


@dataclass(frozen=True, slots=True)
class Flash:
    level: FlashLevel
    text: str


class FlashCookies:
    def __init__(self, secret: str, clock: Clock) -> None:
        self._signed = SignedValues(secret, salt="ringfence.flash", max_age=_MAX_AGE, clock=clock)

    def add(self, request: Request, response: Response, *messages: Flash) -> None:
        """Queue `messages` for the next page this browser shows (after any still queued)."""
        queued = [*self.pending(request), *messages]
        response.set_cookie(
            FLASH_COOKIE,
            self._signed.dumps([[m.level.value, m.text] for m in queued]),
            max_age=int(_MAX_AGE.total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    def pending(self, request: Request) -> list[Flash]:
        value = self._signed.loads(request.cookies.get(FLASH_COOKIE))
        if not isinstance(value, list):
            return []
        messages: list[Flash] = []
        for item in value:
            if (
                isinstance(item, list)
                and len(item) == 2
                and item[0] in _LEVELS
                and isinstance(item[1], str)
            ):
                messages.append(Flash(FlashLevel(item[0]), item[1]))
        return messages

    def forget(self, request: Request, response: Response) -> None:
        """Remove the queued messages from the browser (the page showing them does this)."""
        if FLASH_COOKIE in request.cookies:
            response.delete_cookie(
                FLASH_COOKIE,
                path="/",
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
            )
