"""Every HTTP request gets an id: the client's `X-Request-ID` when sane, else a new one. It is
logged on each line the request causes (`log_context`) and answered in `X-Request-ID`, so an
operator can find a user's failed request in the logs."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringfence.log_context import REQUEST_ID, request_id_from

HEADER = b"x-request-id"


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER)
        request_id = request_id_from(given.decode("latin-1") if given is not None else None)
        token = REQUEST_ID.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
