"""Settings → Audit log and Settings → PHI access & retention: the account's two logs, read
only, newest first, filtered in the URL (so a view bookmarks) and paged like the API.

Filters arrive as plain text and are checked here, so a mistyped date re-renders the page
naming the field instead of answering the framework's 422 JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request, status
from fastapi.responses import Response

from ringfence.domain.compliance import zone
from ringfence.entrypoints.deps import Uow
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.services.audit_views import (
    AuditFilters,
    action_choices,
    audit_page,
    display_zone,
    entity_choices,
)
from ringfence.services.errors import InvalidField
from ringfence.services.phi_views import PhiFilters, access_page, actor_choices, retention

router = APIRouter()

AUDIT: Final = "/app/settings/audit"
PHI: Final = "/app/settings/phi"
DEFAULT_LIMIT: Final = 50  # the API's default and bounds
MAX_LIMIT: Final = 200
_SHORT: Final = 200  # no filter value is longer than a stored actor


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
        if raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT:
            return int(raw)
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
        until = None if end is None else datetime.combine(end + timedelta(days=1), time(), tz)
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
    query = _query(request, ("actor", "from", "to", "limit", "cursor"))
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
    return web.pages.render(
        request,
        "phi_log.html",
        viewer=viewer,
        context={
            "retention": retention(uow.session, account_id=account_id),
            "page": page,
            "values": query.values,
            "errors": query.errors,
            "actors": actor_choices(uow.session, account_id=account_id),
            "next_href": page.next_cursor and query.href(PHI, cursor=page.next_cursor),
            "first_href": cursor and query.href(PHI, cursor=None),
        },
        status_code=_status(query),
    )


def _status(query: _Query) -> int:
    # A stale page link is not the viewer's mistake: the newest page answers it as usual.
    wrong = set(query.errors) - {"cursor"}
    return status.HTTP_422_UNPROCESSABLE_CONTENT if wrong else status.HTTP_200_OK
