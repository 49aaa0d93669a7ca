"""The account's API keys (list, create, revoke, rotate: services/api_keys.py) and its staff
browser sessions (list, end all: services/web_sessions.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from ringfence.adapters.db.orm import ApiKey
from ringfence.entrypoints.api.deps import (
    Scope,
)
from ringfence.entrypoints.api.schemas.api_keys import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    WebSessionOut,
    WebSessionsEnded,
)
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.services import api_keys
from ringfence.services.api_keys import list_api_keys
from ringfence.services.web_sessions import end_all_sessions, open_sessions

router = APIRouter(tags=["account"])
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/api-keys", response_model=list[ApiKeyOut], summary="The account's API keys")
def list_keys(uow: Uow, scope: Scope) -> list[ApiKeyOut]:
    """Every key, revoked and expired ones included, newest first, with its last use."""
    return [
        ApiKeyOut.model_validate(k) for k in list_api_keys(uow.session, account_id=scope.account_id)
    ]


@router.post(
    "/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key",
)
def create_key(uow: Uow, scope: Scope, body: ApiKeyCreate) -> ApiKeyCreated:
    """The key is in the answer this once; only its hash is stored. Audited."""
    key, plaintext = api_keys.create_key(
        uow=uow, scope=scope, name=body.name, expires_in_days=body.expires_in_days
    )
    return _created(key, plaintext)


@router.post("/api-keys/{key_id}/revoke", response_model=ApiKeyOut, summary="Revoke an API key")
def revoke_key(uow: Uow, scope: Scope, key_id: KeyId) -> ApiKeyOut:
    """At once: the next request with it is a 401, and staff pages signed in with it sign out.
    Revoking the key this request uses is allowed (it is the way to cut off a leaked key)."""
    key = api_keys.revoke_key(uow=uow, scope=scope, key_id=key_id)
    return ApiKeyOut.model_validate(key)


@router.post(
    "/api-keys/{key_id}/rotate",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Replace an API key",
)
def rotate_key(uow: Uow, scope: Scope, key_id: KeyId) -> ApiKeyCreated:
    """A new key with the same name and expiry; the old one is revoked in the same change."""
    key, plaintext = api_keys.rotate_key(uow=uow, scope=scope, key_id=key_id)
    return _created(key, plaintext)


def _created(key: ApiKey, plaintext: str) -> ApiKeyCreated:
    return ApiKeyCreated.model_validate(
        {**ApiKeyOut.model_validate(key).model_dump(), "api_key": plaintext}
    )


@router.get(
    "/web-sessions",
    response_model=list[WebSessionOut],
    summary="The account's signed-in staff browsers",
)
def list_web_sessions(uow: Uow, scope: Scope) -> list[WebSessionOut]:
    """Open, unexpired sessions of the staff pages, most recently seen first."""
    rows = open_sessions(uow.session, account_id=scope.account_id, now=uow.clock.now())
    return [WebSessionOut.model_validate(row) for row in rows]


@router.post(
    "/web-sessions/end-all",
    response_model=WebSessionsEnded,
    summary="Sign out everywhere",
)
def end_web_sessions(uow: Uow, scope: Scope) -> WebSessionsEnded:
    """Ends every staff browser session of the account at once (their next page asks them to
    sign in again). API keys are not touched: revoke a key to cut it off. Audited."""
    ended = end_all_sessions(uow=uow, scope=scope)
    return WebSessionsEnded(ended=ended)
