"""Settings → Audit log and Settings → PHI access & retention: the account's two logs, read
only, newest first, filtered in the URL (so a view bookmarks) and paged like the API.

Filters arrive as plain text and are checked here, so a mistyped date re-renders the page
naming the field instead of answering the framework's 422 JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.domain.compliance import zone
from ringfence.domain.phi import RETENTION_DAYS
from ringfence.entrypoints.deps import Uow
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.pages import Viewer
from ringfence.entrypoints.web.params import whole_number
from ringfence.services import account as account_rules
from ringfence.services.audit_views import (
    AuditFilters,
    action_choices,
    audit_page,
    display_zone,
    entity_choices,
)
from ringfence.services.errors import InvalidField
from ringfence.services.phi_views import (
    PhiFilters,
    PurgePreview,
    access_page,
    actor_choices,
    purge_previews,
    retention,
)

router = APIRouter()

AUDIT: Final = "/app/settings/audit"
PHI: Final = "/app/settings/phi"
PHI_RETENTION: Final = f"{PHI}/retention"
DEFAULT_LIMIT: Final = 50  # the API's default and bounds
MAX_LIMIT: Final = 200
_SHORT: Final = 200  # no filter value is longer than a stored actor
_PHI_QUERY: Final = ("actor", "from", "to", "limit", "cursor")


@dataclass
class _Query:
    """The page's URL query, read as text; `errors` names each field in words."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, name: str, label: str) -> str | None:
        value = self.values.get(name, "").strip()
        if len(value) > _SHORT:
            self.errors[name] = f"{label} is too long: pick one from the list."
            return None
        return value or None

    def limit(self) -> int:
        raw = self.values.get("limit", "").strip()
        if not raw:
            return DEFAULT_LIMIT
        if (parsed := whole_number(raw, high=MAX_LIMIT)) is not None:
            return parsed
        self.errors["limit"] = f"Rows per page must be a whole number from 1 to {MAX_LIMIT}."
        return DEFAULT_LIMIT

    def day(self, name: str, label: str) -> date | None:
        raw = self.values.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors[name] = f"{label} is not a date: use the date picker (year-month-day)."
            return None

    def date_range(self, time_zone: str) -> tuple[datetime | None, datetime | None]:
        """The instants of the From day's start and the day after To, in `time_zone`."""
        start, end = self.day("from", "From"), self.day("to", "To")
        if start is not None and end is not None and start > end:
            self.errors["to"] = "To is before From: pick a To date on or after the From date."
            return None, None
        tz = zone(time_zone)
        since = None if start is None else datetime.combine(start, time(), tz)
        # The last day the calendar has (9999-12-31) has no day after: no upper bound then.
        until = (
            None
            if end is None or end == date.max
            else datetime.combine(end + timedelta(days=1), time(), tz)
        )
        return since, until

    def href(self, path: str, *, cursor: str | None) -> str:
        kept = {k: v for k, v in self.values.items() if k != "cursor" and v}
        if cursor is not None:
            kept["cursor"] = cursor
        return f"{path}?{urlencode(kept)}" if kept else path


def _query(request: Request, names: tuple[str, ...]) -> _Query:
    return _Query({name: request.query_params.get(name, "") for name in names})


@router.get(AUDIT, name="settings_audit")
def audit_log(request: Request, web: Web, viewer: SignedIn, uow: Uow) -> Response:
    query = _query(request, ("action", "entity_type", "from", "to", "limit", "cursor"))
    account_id = viewer.scope.account_id
    since, until = query.date_range(display_zone(uow.session, account_id=account_id).name)
    filters = AuditFilters(
        action=query.text("action", "What happened"),
        entity_type=query.text("entity_type", "Record type"),
        since=since,
        until=until,
    )
    limit, cursor = query.limit(), query.text("cursor", "The page link")
    try:
        page = audit_page(
            uow.session, account_id=account_id, filters=filters, cursor=cursor, limit=limit
        )
    except InvalidField:
        query.errors["cursor"] = "That page link is out of date: showing the newest events."
        cursor = None
        page = audit_page(
            uow.session, account_id=account_id, filters=filters, cursor=None, limit=limit
        )
    return web.pages.render(
        request,
        "audit_log.html",
        viewer=viewer,
        context={
            "page": page,
            "values": query.values,
            "errors": query.errors,
            "actions": action_choices(),
            "entities": entity_choices(),
            "next_href": page.next_cursor and query.href(AUDIT, cursor=page.next_cursor),
            "first_href": cursor and query.href(AUDIT, cursor=None),
        },
        status_code=_status(query),
    )


@router.get(PHI, name="settings_phi")
def phi_log(request: Request, web: Web, viewer: SignedIn, uow: Uow) -> Response:
    query = _query(request, _PHI_QUERY)
    return _phi_page(request, web, viewer, uow, query)


@router.post(PHI_RETENTION, name="settings_phi_retention")
def change_retention(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    days: Annotated[str, Form()] = "",
) -> Response:
    """The API's `PATCH /account` `phi_retention_days`, from the page: the same service (and
    its audit event), the same choices (`domain.phi.RETENTION_DAYS`, or kept for good)."""
    try:
        chosen = _retention_choice(days)
    except InvalidField as exc:
        return _phi_page(
            request,
            web,
            viewer,
            uow,
            _Query(dict.fromkeys(_PHI_QUERY, "")),  # the log unfiltered, as a fresh visit
            retention_error=exc.message,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    previews = {
        p.days: p
        for p in purge_previews(
            uow.session, account_id=viewer.scope.account_id, now=uow.clock.now()
        )
    }
    before = retention(uow.session, account_id=viewer.scope.account_id).days
    response = RedirectResponse(f"{PHI}#retention", status_code=status.HTTP_303_SEE_OTHER)
    if chosen == before:
        flash = Flash(FlashLevel.INFO, f"Nothing changed: {_kept_words(chosen)} already.")
        web.flashes.add(request, response, flash)
        return response
    account_rules.update_account(
        uow=uow, scope=viewer.scope, changes={"phi_retention_days": chosen}
    )
    web.flashes.add(request, response, Flash(FlashLevel.SUCCESS, _changed_words(previews[chosen])))
    return response


_KEEP: Final = "keep"


def _retention_choice(raw: str) -> int | None:
    """The form's value as the account's setting (None: kept for good)."""
    raw = raw.strip()
    if raw == _KEEP:
        return None
    if (parsed := whole_number(raw)) is not None and parsed in RETENTION_DAYS:
        return parsed
    raise InvalidField(
        "days",
        f"Choose how long recordings and transcripts are kept: {_choices_in_words()}, or for good.",
    )


def _choices_in_words() -> str:
    return ", ".join(str(days) for days in RETENTION_DAYS[:-1]) + f" or {RETENTION_DAYS[-1]} days"


def _kept_words(days: int | None) -> str:
    if days is None:
        return "recordings and transcripts are kept for good"
    return f"recordings and transcripts are kept for {days} days"


def _changed_words(preview: PurgePreview) -> str:
    now_kept = _kept_words(preview.days)
    if preview.days is None:
        return f"Saved: {now_kept}; the hourly purge removes nothing from now on."
    if not preview.transcripts and not preview.recordings:
        return (
            f"Saved: {now_kept}. Nothing is older than that now, so the next hourly purge "
            "removes nothing; from then on each call's are removed once it is that old."
        )
    return (
        f"Saved: {now_kept}. The next hourly purge removes {_count(preview)} older than "
        "that, for good."
    )


def _count(preview: PurgePreview) -> str:
    transcripts = "transcript" if preview.transcripts == 1 else "transcripts"
    recordings = "recording" if preview.recordings == 1 else "recordings"
    return f"{preview.transcripts} {transcripts} and {preview.recordings} {recordings}"


def _phi_page(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: Uow,
    query: _Query,
    *,
    retention_error: str | None = None,
    status_code: int | None = None,  # None: from the filters, once they are read
) -> Response:
    account_id = viewer.scope.account_id
    since, until = query.date_range(display_zone(uow.session, account_id=account_id).name)
    filters = PhiFilters(actor=query.text("actor", "Who"), since=since, until=until)
    limit, cursor = query.limit(), query.text("cursor", "The page link")
    try:
        page = access_page(
            uow.session, account_id=account_id, filters=filters, cursor=cursor, limit=limit
        )
    except InvalidField:
        query.errors["cursor"] = "That page link is out of date: showing the newest reads."
        cursor = None
        page = access_page(
            uow.session, account_id=account_id, filters=filters, cursor=None, limit=limit
        )
    previews = purge_previews(uow.session, account_id=account_id, now=uow.clock.now())
    return web.pages.render(
        request,
        "phi_log.html",
        viewer=viewer,
        context={
            "retention": retention(uow.session, account_id=account_id),
            "choices": [
                (_KEEP if p.days is None else str(p.days), p, p.days and _count(p))
                for p in previews
            ],
            "retention_error": retention_error,
            "page": page,
            "values": query.values,
            "errors": query.errors,
            "actors": actor_choices(uow.session, account_id=account_id),
            "next_href": page.next_cursor and query.href(PHI, cursor=page.next_cursor),
            "first_href": cursor and query.href(PHI, cursor=None),
        },
        status_code=_status(query) if status_code is None else status_code,
    )


def _status(query: _Query) -> int:
    # A stale page link is not the viewer's mistake: the newest page answers it as usual.
    wrong = set(query.errors) - {"cursor"}
    return status.HTTP_422_UNPROCESSABLE_CONTENT if wrong else status.HTTP_200_OK
