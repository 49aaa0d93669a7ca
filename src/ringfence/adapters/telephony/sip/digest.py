"""HTTP Digest authentication as SIP uses it (RFC 3261 §22.4, RFC 7616, RFC 8760).

A trunk answers an unauthenticated INVITE or REGISTER with 401 (`WWW-Authenticate`) or 407
(`Proxy-Authenticate`); the request is sent again, with a new CSeq, carrying the answer in
`Authorization` or `Proxy-Authorization`. MD5 and SHA-256 (and their `-sess` variants), with
and without `qop=auth`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

_PARAM: Final = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]+)')
_HASHES: Final = {"MD5": "md5", "SHA-256": "sha256"}


class DigestError(ValueError):
    """A challenge this client cannot answer (not Digest, an unknown algorithm, no realm)."""


@dataclass(frozen=True, slots=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False


def parse_challenge(header: str) -> Challenge:
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"the {scheme or 'empty'} scheme is not supported (only Digest)")
    params = {
        name.lower(): value[1:-1].replace('\\"', '"') if value.startswith('"') else value
        for name, value in _PARAM.findall(rest)
    }
    if "realm" not in params or "nonce" not in params:
        raise DigestError("the challenge has no realm or no nonce")
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm.removesuffix("-SESS") not in _HASHES:
        raise DigestError(f"the {algorithm} algorithm is not supported")
    qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
    return Challenge(
        realm=params["realm"],
        nonce=params["nonce"],
        algorithm=algorithm,
        qop=qop,
        opaque=params.get("opaque"),
        stale=params.get("stale", "").lower() == "true",
    )


def authorization(
    challenge: Challenge,
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    cnonce: str,
    nonce_count: int = 1,
) -> str:
    """The value of the Authorization (or Proxy-Authorization) header answering `challenge`."""
    name = _HASHES[challenge.algorithm.removesuffix("-SESS")]

    def h(text: str) -> str:
        return hashlib.new(name, text.encode("utf-8")).hexdigest()

    ha1 = h(f"{username}:{challenge.realm}:{password}")
    if challenge.algorithm.endswith("-SESS"):
        ha1 = h(f"{ha1}:{challenge.nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    nc = f"{nonce_count:08x}"
    if "auth" in challenge.qop:
        response = h(f"{ha1}:{challenge.nonce}:{nc}:{cnonce}:auth:{ha2}")
    elif challenge.qop:
        raise DigestError(f"qop {','.join(challenge.qop)} is not supported (only auth)")
    else:
        response = h(f"{ha1}:{challenge.nonce}:{ha2}")
    parts = [
        f'username="{username}"',
        f'realm="{challenge.realm}"',
        f'nonce="{challenge.nonce}"',
        f'uri="{uri}"',
        f'response="{response}"',
        f"algorithm={challenge.algorithm}",
    ]
    if "auth" in challenge.qop:
        parts += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    if challenge.opaque is not None:
        parts.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(parts)
