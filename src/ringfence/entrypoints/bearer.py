"""The one bearer-token check of the operators' endpoints (`/metrics` of `serve` and of a worker):
constant-time, so a scraper's token cannot be guessed a byte at a time from response times."""

from __future__ import annotations

import hmac


def bearer_matches(authorization: str, token: str | None) -> bool:
    """Whether an `Authorization` header carries `token` (no token configured: anyone may)."""
    if token is None:
        return True
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())
