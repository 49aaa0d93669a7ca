"""Refuse control characters in any request, before a handler or the database sees them.

PostgreSQL cannot store a NUL in text (SQLite can): a NUL in any field or query string used to
be a 500 there, with the statement's parameters (a patient's name and number) in the log. Other
C0 controls have no place in a name, a note or a query either, and invite log injection. So
every request is checked, whatever the route (the API, the staff pages, the public forms):

- the query string: any control, percent-encoded (`%00`-`%1F`, `%7F`) or raw;
- a JSON body: controls as `\\u00XX` escapes or raw bytes (tab, newline and carriage return
  are text, and allowed);
- a form body: the same controls, percent-encoded or raw;
- any other body (a CSV upload): raw NUL bytes.

A refusal is a 422 in FastAPI's error shape, naming where: `["query"]` or `["body"]`.
"""

from __future__ import annotations

import re
from typing import Final

from fastapi import status
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# In a query string every control is refused (a newline there is only ever an attack on a log).
_QUERY: Final = re.compile(rb"%(0[0-9a-f]|1[0-9a-f]|7f)|[\x00-\x1f\x7f]", re.IGNORECASE)
# In text, tab, newline and carriage return are text.
_PERCENT: Final = re.compile(rb"%(0[0-8bcef]|1[0-9a-f]|7f)", re.IGNORECASE)
# An escape is one only after an even run of backslashes: the JSON text `"\\u0000"` is the six
# characters `\u0000` (an escaped backslash, then text), harmless and accepted as text.
_JSON_ESCAPE: Final = re.compile(
    rb"(?<!\\)(?:\\\\)*\\(u00(0[0-8bcef]|1[0-9a-f]|7f)|[bf])", re.IGNORECASE
)
_RAW: Final = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MESSAGE: Final = "control characters (such as NUL) are not allowed"


def refusal(query: bytes, content_type: bytes, body: bytes) -> str | None:
    """Where a request carries a control character ("query" or "body"), or None."""
    if _QUERY.search(query):
        return "query"
    if b"\x00" in body:
        return "body"
    kind = content_type.split(b";", 1)[0].strip().lower()
    if kind == b"application/json" or kind.endswith(b"+json"):
        return "body" if _JSON_ESCAPE.search(body) or _RAW.search(body) else None
    if kind == b"application/x-www-form-urlencoded":
        return "body" if _PERCENT.search(body) or _RAW.search(body) else None
    return None


class ControlCharacterGuard:
    """The ASGI middleware (inside the body-size limit, so the body it reads is bounded)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        where = refusal(scope.get("query_string", b""), content_type, body)
        if where is not None:
            response = JSONResponse(
                {"detail": [{"loc": [where], "msg": MESSAGE, "type": "control_character"}]},
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
