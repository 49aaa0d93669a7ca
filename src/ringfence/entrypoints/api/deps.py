"""The API's own dependency: the caller's tenant scope, from its bearer key (the container and
the unit of work are shared with the web pages: `entrypoints/deps.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ringfence.bootstrap import Container
from ringfence.entrypoints.deps import container_of
from ringfence.entrypoints.rate_limits import (
    AUTH_FAILURES,
    Limited,
    RateLimiter,
    client_ip,
    limiter_of,
)
from ringfence.services.api_key_cache import VerifiedKey
from ringfence.services.api_keys import recently_verified, use_key
from ringfence.services.unit_of_work import TenantScope

_bearer = HTTPBearer(auto_error=False, description="An API key from `ringfence apikey create`")


def too_many(limited: Limited) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"too many requests: retry in {limited.retry_after_s} s",
        headers={"Retry-After": str(limited.retry_after_s)},
    )


async def get_scope(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TenantScope:
    # The container from the request, not as a sub-dependency: one less for FastAPI to solve
    # on every API request.
    container = container_of(request)
    limiter, ip = limiter_of(request), client_ip(request)
    # Most requests carry a key this process verified a moment ago and counts kept in memory:
    # answered here on the event loop, without a trip through the thread pool (docs/operations.md,
    # "Event ingestion"). Anything else goes the whole way, in the pool.
    if limiter.in_memory and credentials is not None:
        known = recently_verified(credentials.credentials, now=container.clock.now())
        if known is not None and limiter.exhausted(AUTH_FAILURES, "api-key", ip) is None:
            return _counted_scope(container, limiter, known)
    return await run_in_threadpool(_checked_scope, container, limiter, ip, credentials)


def _checked_scope(
    container: Container,
    limiter: RateLimiter,
    ip: str,
    credentials: HTTPAuthorizationCredentials | None,
) -> TenantScope:
    unauthorized = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="missing or invalid API key (send 'Authorization: Bearer <key>')",
        headers={"WWW-Authenticate": "Bearer"},
    )
    # An address that keeps presenting bad keys is guessing: it waits, good key or not.
    blocked = limiter.exhausted(AUTH_FAILURES, "api-key", ip)
    if blocked is not None:
        raise too_many(blocked)
    if credentials is None:
        raise unauthorized
    # Authentication has its own short transactions so that a route's rollback never loses it.
    with container.uow() as uow:
        key = use_key(uow=uow, plaintext=credentials.credentials)
    if key is None:
        limiter.hit(AUTH_FAILURES, "api-key", ip)
        raise unauthorized
    return _counted_scope(container, limiter, key)


def _counted_scope(container: Container, limiter: RateLimiter, key: VerifiedKey) -> TenantScope:
    """The key's scope, once its request is counted against the key's own limit (from any
    address: a leaked key spread over many hosts is still one key). The key is named in the
    counts by its row id, never by its secret."""
    limited = limiter.hit(
        container.settings.api_key_rate_limit, "api-key-requests", str(key.key_id)
    )
    if limited is not None:
        raise too_many(limited)
    return _scope_of(key)


def _scope_of(key: VerifiedKey) -> TenantScope:
    return TenantScope(account_id=key.account_id, actor=f"api_key:{key.name}")


Scope = Annotated[TenantScope, Depends(get_scope)]
