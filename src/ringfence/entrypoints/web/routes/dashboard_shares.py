"""Read-only share links: the staff page that makes, lists and revokes them, and the public
view a link opens (no sign-in, nothing that changes anything).

A shared view shows the dashboard's figures and its call log without contact names,
recordings or transcripts, unless the link's creator ticked "include recordings and
transcripts" — the PHI-minimising default the practice's HIPAA duties call for.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Annotated, Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Form, Path, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.adapters.db.orm import Location as LocationRow
from ringfence.domain.dashboard.filters import DashboardFilters, FilterError, parse_filters
from ringfence.domain.phi import PhiAccessVia, PhiKind
from ringfence.entrypoints.deps import (
    ContainerDep,
    Uow,
)
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.routes.dashboard import (
    BASES,
    OUTBOUND,
    Location,
    recording_response,
)
from ringfence.entrypoints.web.sessions import StaffSession
from ringfence.secret_key import secret_key
from ringfence.services.agent_readiness import voice_ai_overview
from ringfence.services.dashboard.call_log import in_view
from ringfence.services.dashboard.drawer import CallDetail, call_detail
from ringfence.services.dashboard.scope import DashboardScope
from ringfence.services.dashboard.share_links import (
    DEFAULT_LIFETIME,
    ShareGrant,
    ShareLinkRefused,
    ShareRefusal,
    list_share_links,
    make_link,
    open_link,
    revoke_link,
    share_url_path,
    sign_token,
)
from ringfence.services.dashboard.share_refs import call_ref, job_of_ref
from ringfence.services.dashboard.view import dashboard_view
from ringfence.services.errors import InvalidField, NotFound
from ringfence.services.phi_access import log_read, share_actor
from ringfence.services.unit_of_work import TenantScope

router = APIRouter()

SHARES: Final = f"{OUTBOUND}/shares"
SHARE: Final = "/share/dashboard"
Token = Annotated[str, Path(min_length=1, max_length=200)]
LinkId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CallRef = Annotated[str, Path(min_length=1, max_length=64)]


@router.get(SHARES, name="dashboard_shares")
def shares(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, container: ContainerDep,
    location: Location = None,
) -> Response:  # fmt: skip
    """The account's share links (newest first) and the form that makes one for the view
    the staff member came from (its filters ride along in the query)."""
    overview = voice_ai_overview(
        uow.session, account_id=viewer.scope.account_id, location_id=location
    )
    secret = secret_key(container.settings)
    params = parse_qs(request.url.query)
    params.pop("location", None)
    try:
        filters = parse_filters(params)
    except FilterError:
        filters = DashboardFilters()
    now = uow.clock.now()
    links = [
        {
            "row": link,
            "url": str(request.base_url).rstrip("/") + share_url_path(sign_token(secret, link)),
            "dashboard": _direction_word(link.filters),
            "state": "revoked"
            if link.revoked_at
            else "expired"
            if link.expires_at <= now
            else "active",
        }
        for link in list_share_links(uow.session, viewer.scope)
    ]
    return web.pages.render(
        request,
        "dashboard_shares.html",
        viewer=viewer,
        context={
            "overview": overview,
            "links": links,
            "filters": filters,
            # Back to the dashboard the staff member came from (the filters say which).
            "back": BASES[filters.direction],
            "default_days": DEFAULT_LIFETIME.days,
        },
    )


def _direction_word(stored: str) -> str:
    """Which dashboard a stored link shows, in a word (a link made before inbound existed has
    no direction in its filters: outbound)."""
    try:
        return parse_filters(parse_qs(stored)).direction.value.capitalize()
    except FilterError:
        return "—"


@router.post(SHARES, name="dashboard_share_create")
def create_share(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    container: ContainerDep,
    location_id: Annotated[int, Form(ge=1)],
    filters: Annotated[str, Form(max_length=2000)] = "",
    label: Annotated[str, Form(max_length=400)] = "",
    expires_in_days: Annotated[int, Form(ge=0, le=10_000)] = DEFAULT_LIFETIME.days,
    include_phi: Annotated[bool, Form()] = False,
) -> Response:
    try:
        view = parse_filters(parse_qs(filters))
        link, token = make_link(
            uow=uow,
            scope=viewer.scope,
            location_id=location_id,
            filters=view,
            include_phi=include_phi,
            lifetime=timedelta(days=expires_in_days),
            label=label,
            secret=secret_key(container.settings),
        )
    except (FilterError, InvalidField, NotFound) as exc:
        response = RedirectResponse(SHARES, status_code=status.HTTP_303_SEE_OTHER)
        web.flashes.add(request, response, Flash(FlashLevel.ERROR, f"No link made: {exc}"))
        return response
    url = str(request.base_url).rstrip("/") + share_url_path(token)
    response = RedirectResponse(SHARES, status_code=status.HTTP_303_SEE_OTHER)
    phi = "with recordings and transcripts" if link.include_phi else "without PHI"
    web.flashes.add(
        request,
        response,
        Flash(
            FlashLevel.SUCCESS,
            f"Share link made ({phi}), valid until {link.expires_at:%Y-%m-%d %H:%M} UTC: {url}",
        ),
    )
    return response


@router.post(f"{SHARES}/{{link_id}}/revoke", name="dashboard_share_revoke")
def revoke_share(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, link_id: LinkId
) -> Response:
    try:
        revoke_link(uow=uow, scope=viewer.scope, link_id=link_id)
    except NotFound:
        response = RedirectResponse(SHARES, status_code=status.HTTP_303_SEE_OTHER)
        web.flashes.add(request, response, Flash(FlashLevel.ERROR, "No such share link."))
        return response
    response = RedirectResponse(SHARES, status_code=status.HTTP_303_SEE_OTHER)
    web.flashes.add(
        request, response, Flash(FlashLevel.SUCCESS, "Share link revoked: it opens nothing now.")
    )
    return response


# --- the public, read-only view ------------------------------------------------------------


def _grant(uow: Uow, container: ContainerDep, token: str) -> ShareGrant:
    return open_link(uow=uow, token=token, secret=secret_key(container.settings))


def _refused(request: Request, web: Web, exc: ShareLinkRefused) -> Response:
    return web.pages.render_public(
        request,
        "share_refused.html",
        session=StaffSession.anonymous(),
        context={"reason": exc.reason},
        status_code=status.HTTP_410_GONE
        if exc.reason.value in ("expired", "revoked")
        else status.HTTP_404_NOT_FOUND,
    )


def _scope(uow: Uow, grant: ShareGrant) -> DashboardScope | None:
    location = uow.session.get(LocationRow, grant.location_id)
    if location is None or location.account_id != grant.account_id:
        return None
    return DashboardScope.at(grant.account_id, location.id, location.time_zone, uow.clock.now())


@router.get(f"{SHARE}/{{token}}", name="shared_dashboard")
def shared_dashboard(
    request: Request, web: Web, uow: Uow, container: ContainerDep, token: Token
) -> Response:
    try:
        grant = _grant(uow, container, token)
    except ShareLinkRefused as exc:
        return _refused(request, web, exc)
    scope = _scope(uow, grant)
    if scope is None:
        return _refused(request, web, ShareLinkRefused(ShareRefusal.MISSING))
    location = uow.session.get(LocationRow, grant.location_id)
    base = f"{SHARE}/{token}"
    return web.pages.render_public(
        request,
        "dashboard_shared.html",
        session=StaffSession.anonymous(),
        context={
            "view": dashboard_view(uow.session, scope, _presentation(request, grant.filters)),
            "share": grant,
            "direction": grant.filters.direction.value,
            "location_name": location.name if location else "",
            # Sorting, paging and the trend toggle work; the link's filters cannot change.
            "base": base,
            "drawer_base": base,
            # Drawer links name calls by references good for this link only (share_refs).
            "call_ref": partial(call_ref, secret_key(container.settings), grant.link_id),
            "location_query": "",
        },
    )


_PRESENTATION: Final = ("sort", "dir", "page", "trend")


def _presentation(request: Request, granted: DashboardFilters) -> DashboardFilters:
    """The link's filters with the viewer's choice of sort, page and trend granularity:
    how the granted rows are shown may change, which rows are granted may not."""
    params = {k: v for k, v in parse_qs(request.url.query).items() if k in _PRESENTATION}
    try:
        chosen = parse_filters(params)
    except FilterError:
        return granted
    return replace(
        granted,
        sort=chosen.sort,
        descending=chosen.descending,
        page=chosen.page,
        granularity=chosen.granularity,
    )


def _shared_call(
    uow: Uow, container: ContainerDep, grant: ShareGrant, ref: str
) -> tuple[DashboardScope, CallDetail] | None:
    """The call `ref` names, if the link's view holds it: its location, its direction, its
    call type and every one of its filters (dates, statuses, workflow, caller ID), as its list
    applies them. A link without PHI opens no call at all."""
    job_id = job_of_ref(secret_key(container.settings), grant.link_id, ref)
    scope = _scope(uow, grant)
    if job_id is None or scope is None or not grant.include_phi:
        return None
    if not in_view(uow.session, scope, grant.filters, job_id):
        return None
    detail = call_detail(uow.session, scope, job_id)
    return None if detail is None else (scope, detail)


@router.get(f"{SHARE}/{{token}}/calls/{{ref}}", name="shared_call")
def shared_call(
    request: Request, web: Web, uow: Uow, container: ContainerDep, token: Token, ref: CallRef
) -> Response:
    try:
        grant = _grant(uow, container, token)
    except ShareLinkRefused as exc:
        return _refused(request, web, exc)
    found = _shared_call(uow, container, grant, ref)
    if found is None:
        return Response("not part of this shared view", status_code=404, media_type="text/plain")
    scope, detail = found
    job_id = detail.row.job_id
    if detail.row.has_transcript and detail.purged_at is None:
        log_read(
            uow=uow,
            reader=_holder(grant),
            job_id=job_id,
            what=PhiKind.TRANSCRIPT,
            via=PhiAccessVia.SHARE,
        )
    return web.pages.render_public(
        request,
        "dashboard_drawer.html",
        session=StaffSession.anonymous(),
        context={
            "detail": detail,
            "scope": scope,
            "show_phi": True,
            "recording_url": f"{SHARE}/{token}/calls/{ref}/recording",
            "base": f"{SHARE}/{token}",
        },
    )


@router.get(f"{SHARE}/{{token}}/calls/{{ref}}/recording", name="shared_call_recording")
def shared_call_recording(
    uow: Uow, container: ContainerDep, token: Token, ref: CallRef
) -> Response:
    try:
        grant = _grant(uow, container, token)
    except ShareLinkRefused:
        return Response("share link refused", status_code=404, media_type="text/plain")
    # Only a call the link's view shows, as for the drawer.
    found = _shared_call(uow, container, grant, ref)
    if found is None:
        return Response(
            "no recording in this shared view", status_code=404, media_type="text/plain"
        )
    job_id = found[1].row.job_id
    return recording_response(uow, container, _holder(grant), job_id, PhiAccessVia.SHARE)


def _holder(grant: ShareGrant) -> TenantScope:
    """Whoever holds the link, as the PHI access log names them."""
    return TenantScope(account_id=grant.account_id, actor=share_actor(grant.link_id))
