"""AI Agents → Voice AI → Dashboards & Logs → Inbound and Outbound: tiles, trends, caller IDs
(practice lines, inbound), the call log with its drawer, CSV export, and the live refresh.
One set of handlers serves both directions; the route says which (`DashboardFilters.direction`).

Filters live in the URL query, so every view bookmarks. The live region re-fetches itself
with htmx polling (`hx-trigger="every 15s"`): a call that ends shows in the tiles and log
within 15 s of its result being stored, well inside the description's 60 s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Annotated, Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from ringfence.adapters.db.engine import READ_ONLY
from ringfence.bootstrap import Container
from ringfence.domain.dashboard.filters import DashboardFilters, FilterError, parse_filters
from ringfence.domain.phi import PhiAccessVia, PhiKind
from ringfence.domain.vocabulary import CallDirection
from ringfence.entrypoints.deps import (
    ContainerDep,
    Uow,
)
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.pages import Viewer
from ringfence.services.agent_readiness import VoiceAiOverview, voice_ai_overview
from ringfence.services.dashboard.availability import OutboundTab, inbound_tab, outbound_tab
from ringfence.services.dashboard.drawer import call_detail
from ringfence.services.dashboard.export import (
    csv_filename,
    export_pre_dial_rows,
    export_rows,
    pre_dial_csv_filename,
)
from ringfence.services.dashboard.scope import DashboardScope
from ringfence.services.dashboard.view import dashboard_view
from ringfence.services.errors import NotFound
from ringfence.services.phi_access import log_read, read_recording
from ringfence.services.unit_of_work import TenantScope

router = APIRouter()

DASHBOARDS: Final = "/app/voice-ai/dashboards"
OUTBOUND: Final = f"{DASHBOARDS}/outbound"
INBOUND: Final = f"{DASHBOARDS}/inbound"
BASES: Final = {CallDirection.OUTBOUND: OUTBOUND, CallDirection.INBOUND: INBOUND}
_PAGE: Final = "dashboard_page.html"
_LIVE: Final = "dashboard_live.html"
LIVE_REFRESH_SECONDS: Final = 15

Location = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _filters(request: Request) -> DashboardFilters:
    params = parse_qs(request.url.query, keep_blank_values=False)
    params.pop("location", None)
    return parse_filters(params)


def _overview(uow: Uow, viewer: Viewer, location: int | None) -> VoiceAiOverview:
    return voice_ai_overview(uow.session, account_id=viewer.scope.account_id, location_id=location)


@router.get(DASHBOARDS, name="dashboards")
def dashboards(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, location: Location = None
) -> Response:
    """The Dashboards & Logs landing: the Inbound tab (and, once it is available, the link
    to the Outbound one)."""
    return _dashboard(request, web, viewer, uow, location, _PAGE, CallDirection.INBOUND)


@router.get(INBOUND, name="inbound_dashboard")
def inbound_dashboard(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, location: Location = None
) -> Response:
    return _dashboard(request, web, viewer, uow, location, _PAGE, CallDirection.INBOUND)


@router.get(f"{INBOUND}/live", name="inbound_dashboard_live")
def inbound_dashboard_live(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, location: Location = None
) -> Response:
    return _dashboard(request, web, viewer, uow, location, _LIVE, CallDirection.INBOUND)


@router.get(OUTBOUND, name="outbound_dashboard")
def outbound_dashboard(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, location: Location = None
) -> Response:
    return _dashboard(request, web, viewer, uow, location, _PAGE, CallDirection.OUTBOUND)


@router.get(f"{OUTBOUND}/live", name="outbound_dashboard_live")
def outbound_dashboard_live(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, location: Location = None
) -> Response:
    """The live region alone (tiles, charts, log), for htmx's polling."""
    return _dashboard(request, web, viewer, uow, location, _LIVE, CallDirection.OUTBOUND)


def _dashboard(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: Uow,
    location: int | None,
    template: str,
    direction: CallDirection,
) -> Response:
    """One direction's dashboard (the whole page, or its live region): the same tiles,
    trend, log and drawer for both; the route, not the query, says which direction."""
    try:
        overview = _overview(uow, viewer, location)
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what="That location")
    tab = outbound_tab(uow.session, viewer.scope.account_id, overview)
    base = BASES[direction]
    context: dict[str, object] = {
        "overview": overview,
        "tab": tab,
        "inbound": inbound_tab(uow.session, viewer.scope.account_id, overview),
        "direction": direction.value,
        "refresh_seconds": LIVE_REFRESH_SECONDS,
        "share": None,
        "base": base,
        "drawer_base": base,
        "location_query": f"location={overview.location.location_id}&"
        if overview.location and len(overview.locations) > 1
        else "",
    }
    if overview.location is None or (direction is CallDirection.OUTBOUND and not tab.visible):
        return web.pages.render(
            request, "dashboard_unavailable.html", viewer=viewer, context=context
        )
    try:
        filters = replace(_filters(request), direction=direction)
    except FilterError as exc:
        context["filter_error"] = exc
        filters = DashboardFilters(direction=direction)
    scope = DashboardScope.at(
        viewer.scope.account_id,
        overview.location.location_id,
        overview.location.time_zone,
        uow.clock.now(),
    )
    context["view"] = dashboard_view(uow.session, scope, filters)
    return web.pages.render(request, template, viewer=viewer, context=context)


@router.get(f"{OUTBOUND}/export.csv", name="outbound_export")
def outbound_export(
    request: Request, viewer: SignedIn, container: ContainerDep, location: Location = None
) -> Response:
    """The filtered call log as CSV, streamed: one database batch in memory at a time."""
    return _csv(request, viewer, container, location, export_rows, csv_filename)


@router.get(f"{INBOUND}/export.csv", name="inbound_export")
def inbound_export(
    request: Request, viewer: SignedIn, container: ContainerDep, location: Location = None
) -> Response:
    """The filtered inbound call log as CSV, as the outbound one (same columns, same
    neutralised free text)."""
    return _csv(
        request, viewer, container, location, export_rows, csv_filename, CallDirection.INBOUND
    )


@router.get(f"{OUTBOUND}/export-stopped.csv", name="outbound_export_pre_dial")
def outbound_export_pre_dial(
    request: Request, viewer: SignedIn, container: ContainerDep, location: Location = None
) -> Response:
    """The calls stopped before dialing in the view (deferred and failed, with their
    reasons) as CSV, streamed."""
    return _csv(request, viewer, container, location, export_pre_dial_rows, pre_dial_csv_filename)


def _csv(
    request: Request,
    viewer: Viewer,
    container: Container,
    location: int | None,
    rows: Callable[[Session, DashboardScope, DashboardFilters], Iterator[str]],
    filename: Callable[[DashboardScope, DashboardFilters], str],
    direction: CallDirection = CallDirection.OUTBOUND,
) -> Response:
    try:
        filters = replace(_filters(request), direction=direction)
    except FilterError as exc:  # an export never guesses: a bad filter exports nothing
        return Response(
            f"Filter {exc.field}: {exc.message}",
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            media_type="text/plain",
        )
    with container.uow() as uow:
        overview = _overview(uow, viewer, location)
    if overview.location is None:
        raise NotFound("this account has no location")
    scope = DashboardScope.at(
        viewer.scope.account_id,
        overview.location.location_id,
        overview.location.time_zone,
        container.clock.now(),
    )

    def stream() -> Iterator[str]:
        # Its own session for the whole stream (the request's is closed when this runs),
        # read-only: on SQLite it must not hold the write lock while a million rows stream.
        with container.uow() as uow:
            uow.session.connection(execution_options={READ_ONLY: True})
            yield from rows(uow.session, scope, filters)

    return StreamingResponse(
        stream(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename(scope, filters)}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(f"{OUTBOUND}/calls/{{job_id}}", name="outbound_call")
def outbound_call(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, job_id: JobId, location: Location = None
) -> Response:
    """One call's drawer: recording, transcript, sentiment, actions, compliance trail."""
    return _call(request, web, viewer, uow, job_id, location, OUTBOUND)


@router.get(f"{INBOUND}/calls/{{job_id}}", name="inbound_call")
def inbound_call(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, job_id: JobId, location: Location = None
) -> Response:
    return _call(request, web, viewer, uow, job_id, location, INBOUND)


def _call(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: Uow,
    job_id: int,
    location: int | None,
    base: str,
) -> Response:
    try:
        overview = _overview(uow, viewer, location)
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what="That location")
    if overview.location is None:
        return web.pages.not_found(request, viewer=viewer, what="That call")
    scope = DashboardScope.at(
        viewer.scope.account_id,
        overview.location.location_id,
        overview.location.time_zone,
        uow.clock.now(),
    )
    detail = call_detail(uow.session, scope, job_id)
    if detail is None:
        return web.pages.not_found(request, viewer=viewer, what="That call")
    if detail.row.has_transcript and detail.purged_at is None:
        log_read(
            uow=uow,
            reader=viewer.scope,
            job_id=job_id,
            what=PhiKind.TRANSCRIPT,
            via=PhiAccessVia.WEB,
        )
    template = (
        "dashboard_drawer.html"
        if request.headers.get("HX-Request") == "true"
        else "dashboard_call.html"
    )
    return web.pages.render(
        request,
        template,
        viewer=viewer,
        context={
            "detail": detail,
            "scope": scope,
            "show_phi": True,
            "recording_url": f"{base}/calls/{job_id}/recording",
            "base": base,
        },
    )


@router.get(f"{OUTBOUND}/calls/{{job_id}}/recording", name="outbound_call_recording")
def outbound_call_recording(
    viewer: SignedIn, uow: Uow, container: ContainerDep, job_id: JobId
) -> Response:
    return recording_response(uow, container, viewer.scope, job_id, PhiAccessVia.WEB)


@router.get(f"{INBOUND}/calls/{{job_id}}/recording", name="inbound_call_recording")
def inbound_call_recording(
    viewer: SignedIn, uow: Uow, container: ContainerDep, job_id: JobId
) -> Response:
    return recording_response(uow, container, viewer.scope, job_id, PhiAccessVia.WEB)


def recording_response(
    uow: Uow, container: Container, reader: TenantScope, job_id: int, via: PhiAccessVia
) -> Response:
    """A call's recording of `reader`'s account, decrypted, its read logged (staff drawer and
    share links; the API answers JSON errors around the same `read_recording`)."""
    wav = read_recording(
        uow,
        reader,
        job_id,
        via=via,
        store_dir=container.settings.recordings_dir,
        cipher=container.phi_cipher,
    )
    if wav is None:
        return Response("no recording", status_code=404, media_type="text/plain")
    return Response(wav, media_type="audio/wav", headers={"Cache-Control": "private"})


__all__ = [
    "BASES",
    "DASHBOARDS",
    "INBOUND",
    "OUTBOUND",
    "OutboundTab",
    "recording_response",
    "router",
]
