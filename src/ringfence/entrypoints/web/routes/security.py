"""The account's API keys and signed-in browsers: make, revoke and rotate keys; see every
browser signed in and sign them all out ("sign out everywhere").

A new key is shown once, on the page that answers the form (never in a redirect or a flash
cookie, which would carry it through the browser again), and only its hash is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Form, Path, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.adapters.db.orm import ApiKey
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.pages import Viewer
from ringfence.entrypoints.web.params import whole_number
from ringfence.entrypoints.web.redirects import LOGIN
from ringfence.services import api_keys
from ringfence.services.api_keys import list_api_keys
from ringfence.services.errors import Conflict, NotFound
from ringfence.services.web_sessions import end_all_sessions, open_sessions

router = APIRouter()

SECURITY: Final = "/app/security"
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _state(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def _page(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: Uow,
    *,
    new_key: tuple[ApiKey, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    now = uow.clock.now()
    account_id = viewer.scope.account_id
    keys = [
        {"row": key, "state": _state(key, now)}
        for key in list_api_keys(uow.session, account_id=account_id)
    ]
    return web.pages.render(
        request,
        "security.html",
        viewer=viewer,
        context={
            "keys": keys,
            "sessions": open_sessions(uow.session, account_id=account_id, now=now),
            "this_session": viewer.session_id,
            "new_key": None if new_key is None else {"row": new_key[0], "secret": new_key[1]},
        },
        status_code=status_code,
    )


def _back(request: Request, web: Web, flash: Flash, *, to: str = SECURITY) -> Response:
    response = RedirectResponse(to, status_code=status.HTTP_303_SEE_OTHER)
    web.flashes.add(request, response, flash)
    return response


@router.get(SECURITY, name="security")
def security(request: Request, web: Web, viewer: SignedIn, uow: Uow) -> Response:
    return _page(request, web, viewer, uow)


@router.post(f"{SECURITY}/keys", name="security_key_create")
def create_key(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    name: Annotated[str, Form(max_length=100)],
    expires_in_days: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    name = name.strip()
    days = expires_in_days.strip()
    if not name:
        return _back(request, web, Flash(FlashLevel.ERROR, "No key made: name it."))
    if days and whole_number(days, high=3650) is None:
        return _back(
            request,
            web,
            Flash(FlashLevel.ERROR, "No key made: expires in (days) is a whole number 1–3650."),
        )
    made = api_keys.create_key(
        uow=uow, scope=viewer.scope, name=name, expires_in_days=int(days) if days else None
    )
    return _page(request, web, viewer, uow, new_key=made, status_code=status.HTTP_201_CREATED)


@router.post(f"{SECURITY}/keys/{{key_id}}/revoke", name="security_key_revoke")
def revoke_key(request: Request, web: Web, viewer: SignedIn, uow: Uow, key_id: KeyId) -> Response:
    """Revoking the key this browser signed in with signs this browser out too."""
    try:
        key = api_keys.revoke_key(uow=uow, scope=viewer.scope, key_id=key_id)
    except NotFound:
        return _back(request, web, Flash(FlashLevel.ERROR, "No such API key."))
    message = f"API key “{key.name}” ({key.prefix}…) revoked: it opens nothing now."
    return _back(request, web, Flash(FlashLevel.SUCCESS, message))


@router.post(f"{SECURITY}/keys/{{key_id}}/rotate", name="security_key_rotate")
def rotate_key(request: Request, web: Web, viewer: SignedIn, uow: Uow, key_id: KeyId) -> Response:
    try:
        made = api_keys.rotate_key(uow=uow, scope=viewer.scope, key_id=key_id)
    except NotFound:
        return _back(request, web, Flash(FlashLevel.ERROR, "No such API key."))
    except Conflict:
        return _back(
            request, web, Flash(FlashLevel.ERROR, "A revoked key is not rotated: make a new one.")
        )
    return _page(request, web, viewer, uow, new_key=made, status_code=status.HTTP_201_CREATED)


@router.post(f"{SECURITY}/sessions/end-all", name="security_sign_out_everywhere")
def sign_out_everywhere(request: Request, web: Web, viewer: SignedIn, uow: Uow) -> Response:
    """Every browser of the account is signed out, this one included."""
    ended = end_all_sessions(uow=uow, scope=viewer.scope)
    plural = "session" if ended == 1 else "sessions"
    response = _back(
        request,
        web,
        Flash(FlashLevel.SUCCESS, f"Signed out everywhere: {ended} {plural} ended."),
        to=LOGIN,
    )
    web.sessions.clear(request, response)
    return response
