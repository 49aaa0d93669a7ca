"""The one HTTP transport for requests to user-given URLs (workflow webhooks).

`GuardedTransport` checks each request's URL (`domain.outbound_urls`), resolves its host
itself, refuses it if any address it resolves to is not public, and then connects to the
address it checked (the request's Host header and TLS server name stay the host's), so a
name that resolves to a public address when checked and to 127.0.0.1 when connected (DNS
rebinding) cannot slip through. Redirects are never followed (`guarded_client`): a 3xx is
the answer. An optional allow-list (`RINGFENCE_WEBHOOK_ALLOWED_HOSTS`) narrows the hosts
further; it never opens a private address.

A refusal is an `OutboundRefused` (an `httpx.TransportError`), so callers record it like any
failed delivery, with the reason.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Collection, Sequence

import httpx

from ringfence.domain.outbound_urls import (
    Address,
    address_refusal,
    literal_address,
    url_refusal,
)

Resolver = Callable[[str, int], Sequence[Address]]
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


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
        self._inner = inner if inner is not None else httpx.HTTPTransport()
        self._resolve = resolver
        self._allowed = frozenset(h.strip().lower().rstrip(".") for h in allowed_hosts if h)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        refusal = url_refusal(str(request.url))
        if refusal is not None:
            raise OutboundRefused(refusal, request=request)
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


def guarded_client(
    *, allowed_hosts: Collection[str] = (), inner: httpx.BaseTransport | None = None
) -> httpx.Client:
    """The client for user-given URLs: guarded, no redirects, bounded time."""
    return httpx.Client(
        transport=GuardedTransport(inner, allowed_hosts=allowed_hosts),
        follow_redirects=False,
        timeout=DEFAULT_TIMEOUT,
    )
