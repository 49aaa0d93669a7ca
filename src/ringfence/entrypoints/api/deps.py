"""The API's own dependency: the caller's tenant scope, from its bearer key (the container and
the unit of work are shared with the web pages: `entrypoints/deps.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ringfence.entrypoints.deps import ContainerDep
from ringfence.entrypoints.rate_limits import (
    AUTH_FAILURES,
    Limited,
    client_ip,
    limiter_of,
)
from ringfence.services.api_keys import use_key
from ringfence.services.unit_of_work import TenantScope

_bearer = HTTPBearer(auto_error=False, description="An API key from `ringfence apikey create`")


def too_many(limited: Limited) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"too many requests: retry in {limited.retry_after_s} s",
        headers={"Retry-After": str(limited.retry_after_s)},
    )


def get_scope(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TenantScope:
    unauthorized = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="missing or invalid API key (send 'Authorization: Bearer <key>')",
        headers={"WWW-Authenticate": "Bearer"},
    )
    limiter, ip = limiter_of(request), client_ip(request)
    # An address that keeps presenting bad keys is guessing: it waits, good key or not.
    blocked = limiter.exhausted(AUTH_FAILURES, "api-key", ip)
    if blocked is not None:
        raise too_many(blocked)
    if credentials is None:
        raise unauthorized
    # Authentication has its own short transaction so that a route's rollback never loses it.
    with container.uow() as uow:
        key = use_key(uow=uow, plaintext=credentials.credentials)
        if key is None:
            limiter.hit(AUTH_FAILURES, "api-key", ip)
            raise unauthorized
        return TenantScope(account_id=key.account_id, actor=f"api_key:{key.name}")


Scope = Annotated[TenantScope, Depends(get_scope)]
