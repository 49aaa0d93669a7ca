"""Read-only share links to one location's outbound dashboard.

The token in a link is an itsdangerous signature over the link's row id (and a fingerprint
of what it grants); everything the link grants (location, filters, PHI, expiry) lives in the
row. So the row is the only authority: revoking it, or its expiry passing, refuses the token
at once, and nothing in the token can extend or widen what was granted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final
from urllib.parse import parse_qs

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ringfence.adapters.db.dashboard import DashboardShareLink
from ringfence.adapters.db.orm import Location
from ringfence.domain.dashboard.filters import DashboardFilters, FilterError, parse_filters
from ringfence.services import audit
from ringfence.services.errors import InvalidField, ServiceError
from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

DEFAULT_LIFETIME: Final = timedelta(days=7)
MIN_LIFETIME: Final = timedelta(hours=1)
MAX_LIFETIME: Final = timedelta(days=90)
MAX_LABEL_LENGTH: Final = 200
# The field a bad lifetime is reported against: what the API and the form ask for.
LIFETIME_FIELD: Final = "expires_in_days"

TOKEN_SALT: Final = "ringfence.dashboard-share"
# A real token is well under this; anything longer is refused before it is even decoded.
_MAX_TOKEN_LENGTH: Final = 200
_ENTITY_TYPE: Final = "dashboard_share_link"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class ShareRefusal(StrEnum):
    """Why a share token opens nothing (a stable code for the page and the logs)."""

    INVALID = "invalid"  # not a token we signed (garbage, tampered, another purpose)
    EXPIRED = "expired"
    REVOKED = "revoked"
    MISSING = "missing"  # signed by us, but its link has since been deleted

    @property
    def sentence(self) -> str:
        return _SENTENCES[self]


_SENTENCES: Final = {
    ShareRefusal.INVALID: "This share link is not valid.",
    ShareRefusal.EXPIRED: "This share link has expired.",
    ShareRefusal.REVOKED: "This share link has been revoked.",
    ShareRefusal.MISSING: "This share link no longer exists.",
}


class ShareLinkRefused(ServiceError):
    def __init__(self, reason: ShareRefusal) -> None:
        super().__init__(reason.sentence)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class ShareGrant:
    """What an opened link lets its holder see: one location's dashboard, these filters."""

    link_id: int
    account_id: int
    location_id: int
    label: str
    filters: DashboardFilters
    include_phi: bool
    expires_at: datetime


def share_url_path(token: str) -> str:
    return f"/share/dashboard/{token}"


def sign_token(secret: str, link: DashboardShareLink) -> str:
    """The token for `link`: its id, and a fingerprint of what it grants.

    The id alone is not enough because ids can be handed out again (SQLite reuses the highest
    rowid once its row is deleted): the fingerprint makes sure a token for a deleted link can
    never open a newer one that got its id, unless that one grants exactly the same view to
    the same account from the same instant. It carries no expiry: the row's `expires_at` is
    the only one (and may be shortened after signing).
    """
    signed: str = _serializer(secret).dumps([link.id, _fingerprint(link)])
    return signed


def read_token(secret: str, token: str) -> tuple[int, str] | None:
    """The (link id, fingerprint) a token names; None unless we signed it for this purpose."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    try:
        value: object = _serializer(secret).loads(token)
    except BadData:
        return None
    match value:
        case [int() as link_id, str() as fingerprint]:
            return link_id, fingerprint
    return None


def create_share_link(
    session: Session,
    scope: TenantScope,
    *,
    location_id: int,
    filters: DashboardFilters,
    include_phi: bool = False,
    lifetime: timedelta = DEFAULT_LIFETIME,
    label: str = "",
    now: datetime,
    secret: str,
) -> tuple[DashboardShareLink, str]:
    """A new link to `location_id`'s dashboard as `filters` shows it; returns the row and its
    token. Another account's location is NotFound, like a missing one."""
    get_owned(session, Location, location_id, scope)
    if not MIN_LIFETIME <= lifetime <= MAX_LIFETIME:
        raise InvalidField(LIFETIME_FIELD, "a share link lasts at least 1 hour and at most 90 days")
    label = label.strip()
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidField("label", f"at most {MAX_LABEL_LENGTH} characters")
    query = filters.query()
    try:
        # What is stored must read back: the link would otherwise be dead from the start.
        parse_filters(parse_qs(query))
    except FilterError as exc:
        raise InvalidField(exc.field, exc.message) from exc
    link = DashboardShareLink(
        account_id=scope.account_id,
        location_id=location_id,
        label=label,
        filters=query,
        include_phi=include_phi,
        created_by=scope.actor,
        created_at=now,
        expires_at=now + lifetime,
        views=0,
    )
    session.add(link)
    session.flush()
    audit.record(
        session,
        scope,
        entity_type=_ENTITY_TYPE,
        entity_id=link.id,
        action="dashboard_share_link.created",
        at=now,
        after=audit.snapshot(
            link, ("location_id", "label", "filters", "include_phi", "expires_at")
        ),
    )
    return link, sign_token(secret, link)


def open_share_link(session: Session, token: str, *, now: datetime, secret: str) -> ShareGrant:
    """What `token` grants now, counting the view; ShareLinkRefused saying why otherwise."""
    named = read_token(secret, token)
    if named is None:
        raise ShareLinkRefused(ShareRefusal.INVALID)
    link_id, fingerprint = named
    link = session.get(DashboardShareLink, link_id)
    if link is None or not hmac.compare_digest(_fingerprint(link), fingerprint):
        raise ShareLinkRefused(ShareRefusal.MISSING)
    if link.revoked_at is not None:
        raise ShareLinkRefused(ShareRefusal.REVOKED)
    if now >= link.expires_at:
        raise ShareLinkRefused(ShareRefusal.EXPIRED)
    try:
        filters = parse_filters(parse_qs(link.filters))
    except FilterError:
        # Stored filters were valid when written; only a later change to what the dashboard
        # accepts can get here, and then the link cannot show what it promised.
        raise ShareLinkRefused(ShareRefusal.INVALID) from None
    grant = ShareGrant(
        link_id=link.id,
        account_id=link.account_id,
        location_id=link.location_id,
        label=link.label,
        filters=filters,
        include_phi=link.include_phi,
        expires_at=link.expires_at,
    )
    # Counted in SQL, so simultaneous views of one link are all counted.
    session.execute(
        update(DashboardShareLink)
        .where(DashboardShareLink.id == link.id)
        .values(views=DashboardShareLink.views + 1, last_viewed_at=now)
    )
    return grant


def list_share_links(
    session: Session, scope: TenantScope, *, location_id: int | None = None
) -> list[DashboardShareLink]:
    """The account's links (revoked and expired ones too), newest first."""
    query = select(DashboardShareLink).where(DashboardShareLink.account_id == scope.account_id)
    if location_id is not None:
        get_owned(session, Location, location_id, scope)
        query = query.where(DashboardShareLink.location_id == location_id)
    query = query.order_by(DashboardShareLink.created_at.desc(), DashboardShareLink.id.desc())
    return list(session.scalars(query))


def revoke_share_link(
    session: Session, scope: TenantScope, link_id: int, *, now: datetime
) -> DashboardShareLink:
    """Revoke a link; revoking it again changes nothing (the first revocation stands)."""
    link = get_owned(session, DashboardShareLink, link_id, scope)
    if link.revoked_at is not None:
        return link
    link.revoked_at = now
    link.revoked_by = scope.actor
    session.flush()
    audit.record(
        session,
        scope,
        entity_type=_ENTITY_TYPE,
        entity_id=link.id,
        action="dashboard_share_link.revoked",
        at=now,
        before={"revoked_at": None, "revoked_by": None},
        after=audit.snapshot(link, ("revoked_at", "revoked_by")),
    )
    return link


# -- the use cases (the staff page and the public view): one transaction each, committed here ---


def make_link(
    *,
    uow: UnitOfWork,
    scope: TenantScope,
    location_id: int,
    filters: DashboardFilters,
    include_phi: bool,
    lifetime: timedelta,
    label: str,
    secret: str,
) -> tuple[DashboardShareLink, str]:
    """`create_share_link`, audited and committed."""
    made = create_share_link(
        uow.session,
        scope,
        location_id=location_id,
        filters=filters,
        include_phi=include_phi,
        lifetime=lifetime,
        label=label,
        now=uow.clock.now(),
        secret=secret,
    )
    uow.commit()
    return made


def revoke_link(*, uow: UnitOfWork, scope: TenantScope, link_id: int) -> DashboardShareLink:
    """`revoke_share_link`, audited and committed."""
    link = revoke_share_link(uow.session, scope, link_id, now=uow.clock.now())
    uow.commit()
    return link


def open_link(*, uow: UnitOfWork, token: str, secret: str) -> ShareGrant:
    """`open_share_link`, the view counted and committed (a refused token counts nothing)."""
    grant = open_share_link(uow.session, token, now=uow.clock.now(), secret=secret)
    uow.commit()
    return grant


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=TOKEN_SALT)


def _fingerprint(link: DashboardShareLink) -> str:
    # Over what the link grants and when it was made, not its label or expiry: those may be
    # edited without re-issuing the token. The signature already protects it, so a short
    # plain hash is enough; the creation instant is taken in whole microseconds, which both
    # databases keep exactly.
    created = (link.created_at - _EPOCH) // timedelta(microseconds=1)
    granted = f"{link.account_id}|{link.location_id}|{created}|{link.include_phi:d}|{link.filters}"
    digest = hashlib.sha256(granted.encode()).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode("ascii")
