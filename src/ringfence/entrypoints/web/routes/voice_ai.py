"""AI Agents → Voice AI: the location's voice agents and whether each is ready to call out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.redirects import HOME
from ringfence.services.agent_readiness import voice_ai_overview
from ringfence.services.errors import NotFound
from ringfence.services.kyc import registration_of

router = APIRouter()


@router.get("/app", name="app_home")
def app_home() -> RedirectResponse:
    return RedirectResponse(HOME, status_code=status.HTTP_307_TEMPORARY_REDIRECT)


@router.get(HOME, name="voice_ai")
def voice_ai(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    location: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    try:
        overview = voice_ai_overview(
            uow.session, account_id=viewer.scope.account_id, location_id=location
        )
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what="That location")
    return web.pages.render(
        request,
        "voice_ai.html",
        viewer=viewer,
        context={
            "overview": overview,
            "registration": registration_of(uow.session, viewer.scope.account_id),
        },
    )
