"""Which URLs the server may send requests to (workflow webhooks, any user-given URL).

Pure: the static checks of a URL (scheme, credentials, local names, literal addresses in every
spelling a resolver accepts) and of an address once resolved. The imperative part (resolving,
then connecting to the very address that was checked) is `adapters/http/guarded.py`.

A URL a practice user typed must never reach the machine Ringfence runs on, its network, or a
cloud metadata service (server-side request forgery): loopback, private, link-local (which
holds 169.254.169.254), carrier-grade NAT, multicast, reserved and unspecified addresses are
refused, IPv4 inside IPv6 (`::ffff:127.0.0.1`) included.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Final
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that mean "this machine" or a cloud's internal services, whatever DNS says.
_LOCAL_NAMES: Final = frozenset({"localhost", "metadata", "metadata.google.internal"})
_LOCAL_SUFFIXES: Final = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")
# What inet_aton accepts besides dotted quads: 2130706433, 0x7f000001, 0177.0.0.1, 127.1.
_LEGACY_IPV4: Final = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$")


def literal_address(host: str) -> Address | None:
    """The address a host names literally, in any spelling a resolver would accept."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host.lower()):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def address_refusal(address: Address) -> str | None:
    """Why the server must not connect to `address` (None: a public address)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            address = embedded
    if address.is_global and not address.is_multicast:
        return None
    return f"{address} is not a public internet address"


def url_refusal(url: str) -> str | None:
    """Why a URL may not be requested by the server, from the URL alone (None: it may, once
    its name resolves to public addresses only)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "only http:// and https:// URLs are allowed"
    if "@" in parts.netloc:
        return "credentials in a URL (user:password@) are not allowed: use the webhook's secret"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "the URL has no host"
    if port == 0:
        return "port 0 is not a port"
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return f"{host} names this machine or a local network"
    address = literal_address(host)
    if address is not None:
        return address_refusal(address)
    if "." not in host:
        return f"{host} is not a public domain name (no dot)"
    return None
