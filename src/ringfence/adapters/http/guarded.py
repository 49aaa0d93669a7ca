"""The one HTTP transport for requests to user-given URLs (workflow webhooks).

`GuardedTransport` checks each request's URL (`domain.outbound_urls`), resolves its host
itself, refuses it if any address it resolves to is not public, and then connects to the
address it checked (the request's Host header and TLS server name stay the host's), so a
name that resolves to a public address when checked and to 127.0.0.1 when connected (DNS
rebinding) cannot slip through. Redirects are never followed (`guarded_client`): a 3xx is
the answer. An optional allow-list (`RINGFENCE_WEBHOOK_ALLOWED_HOSTS`) narrows the hosts
further; it never opens a private address.

Limits: `httpx.Timeout` bounds each connect and each read, not the request, so a server that
drips a byte every few seconds would hold the worker for ever; `DeadlineTransport` also bounds
the whole request (`DEADLINE_SECONDS`: every connect, write and read gets at most the time
left). A request body over `MAX_BODY_BYTES` is refused before anything is sent. The response
body is never read by the callers (they stream and close).

A refusal is an `OutboundRefused` (an `httpx.TransportError`), so callers record it like any
failed delivery, with the reason.
"""

from __future__ import annotations

import socket
import time
import typing
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore
import httpx

from ringfence.domain.outbound_urls import (
    Address,
    address_refusal,
    literal_address,
    url_refusal,
)

Resolver = Callable[[str, int], Sequence[Address]]
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# One request, from its first connect to its response's headers, in all.
DEADLINE_SECONDS = 15.0
# Our own payloads (a webhook's JSON of ids and outcomes) are far smaller.
MAX_BODY_BYTES = 64 * 1024


class OutboundRefused(httpx.TransportError):
    """The server refused to send a request to this URL (and said why)."""


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (the system resolver)."""
    found: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM
    ):
        address = literal_address(str(sockaddr[0]).split("%", 1)[0])
        if address is not None and address not in found:
            found.append(address)
    return found


class GuardedTransport(httpx.BaseTransport):
    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        resolver: Resolver = resolve,
        allowed_hosts: Collection[str] = (),
    ) -> None:
        self._inner = inner if inner is not None else DeadlineTransport()
        self._resolve = resolver
        self._allowed = frozenset(h.strip().lower().rstrip(".") for h in allowed_hosts if h)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        refusal = url_refusal(str(request.url))
        if refusal is not None:
            raise OutboundRefused(refusal, request=request)
        try:
            size = len(request.content)
        except httpx.RequestNotRead as exc:
            raise OutboundRefused("a streamed body of unknown size", request=request) from exc
        if size > MAX_BODY_BYTES:
            raise OutboundRefused(
                f"the body is {size} bytes, over the {MAX_BODY_BYTES}-byte limit", request=request
            )
        host = request.url.host.rstrip(".").lower()
        if self._allowed and host not in self._allowed:
            raise OutboundRefused(f"{host} is not on the allowed hosts list", request=request)
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            addresses = list(self._resolve(host, port))
        except OSError as exc:
            raise OutboundRefused(f"{host} does not resolve ({exc})", request=request) from exc
        if not addresses:
            raise OutboundRefused(f"{host} does not resolve", request=request)
        for address in addresses:
            if address_refusal(address) is not None:
                raise OutboundRefused(
                    f"{host} resolves to {address}, which is not a public internet address",
                    request=request,
                )
        # Connect to the address just checked; the Host header (set by httpx from the URL)
        # and the TLS server name stay the host's.
        request.url = request.url.copy_with(host=str(addresses[0]))
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


# --- the whole request's deadline ---------------------------------------------------------------

# When the request running in this thread (or task) must be done by, on `time.monotonic()`.
_DEADLINE: ContextVar[float | None] = ContextVar("outbound_deadline", default=None)


def _time_left(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout`, shortened to the time left before the deadline; `error` once it passed."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the request's overall deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.connect_tcp(host, port, left, local_address, socket_options)
        )

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not for user-given URLs")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@contextmanager
def _deadline_in(seconds: float) -> Iterator[None]:
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport, each request bounded in all by `deadline_s` (up to its response's
    headers: the body, never read by our callers, is not covered)."""

    def __init__(self, deadline_s: float = DEADLINE_SECONDS) -> None:
        super().__init__()
        self.deadline_s = deadline_s
        # httpx builds its pool without a way to name the network backend: the pool is
        # rebuilt with httpx's defaults and the backend that applies the deadline. Should an
        # httpx release stop keeping its pool there, fail loudly here rather than run without
        # the deadline (httpx and httpcore are bounded in pyproject.toml for this reason).
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            raise RuntimeError("httpx.HTTPTransport no longer keeps an httpcore pool in _pool")
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_DeadlineBackend(),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with _deadline_in(self.deadline_s):
            return super().handle_request(request)


def guarded_client(
    *,
    allowed_hosts: Collection[str] = (),
    inner: httpx.BaseTransport | None = None,
    deadline_s: float = DEADLINE_SECONDS,
) -> httpx.Client:
    """The client for user-given URLs: guarded, no redirects, bounded time and body size."""
    if inner is None:
        inner = DeadlineTransport(deadline_s)
    return httpx.Client(
        transport=GuardedTransport(inner, allowed_hosts=allowed_hosts),
        follow_redirects=False,
        timeout=DEFAULT_TIMEOUT,
    )
