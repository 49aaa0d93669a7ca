"""Staff browser sessions kept as rows, so that they can be ended at once.

A signed cookie alone cannot be taken back: before these rows, signing out only deleted the
cookie in that browser, and a copy of it kept working until it expired (12 h). Now the cookie
carries a random token whose SHA-256 names a row; every page request checks the row is still
open, unexpired, and that the API key it was signed in with is live. Signing out ends the row,
"sign out everywhere" ends every row of the account, and revoking a key ends the rows signed in
with it (`api_keys.revoke_api_key`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Account, ApiKey, WebSession
from ringfence.services import audit
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

SESSION_LIFETIME: Final = timedelta(hours=12)
# Writing last_seen_at on every page view would turn reads into writes; a minute is plenty.
_LAST_SEEN_GRANULARITY: Final = timedelta(minutes=1)
_USER_AGENT_SHOWN: Final = 200


class EndReason(StrEnum):
    SIGNED_OUT = "signed_out"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    KEY_REVOKED = "key_revoked"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LiveSession:
    """Who a live session belongs to, as a page needs it."""

    session_id: int
    account_id: int
    account_name: str
    api_key_id: int
    key_name: str
    account_slug: str | None  # read with the name: the layout's demo banner needs it


def start_session(
    session: Session, *, api_key: ApiKey, now: datetime, user_agent: str | None
) -> str:
    """Open a session for a browser that just signed in with `api_key`; returns the token for
    its cookie (only the token's hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            account_id=api_key.account_id,
            api_key_id=api_key.id,
            token_hash=_hash(token),
            user_agent=(user_agent or "")[:_USER_AGENT_SHOWN],
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


def live_session(session: Session, token: str, *, now: datetime) -> LiveSession | None:
    """The open, unexpired session under `token` whose key is still live; None otherwise.
    Notes when it was last seen (coarsely)."""
    if not token or len(token) > 100:
        return None
    row = session.execute(
        select(WebSession, Account.name, ApiKey.name, Account.slug)
        .join(ApiKey, ApiKey.id == WebSession.api_key_id)
        .join(Account, Account.id == WebSession.account_id)
        .where(
            WebSession.token_hash == _hash(token),
            WebSession.ended_at.is_(None),
            WebSession.expires_at > now,
            ApiKey.account_id == WebSession.account_id,
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
        )
    ).first()
    if row is None:
        return None
    web_session, account_name, key_name, account_slug = row
    if now - web_session.last_seen_at >= _LAST_SEEN_GRANULARITY:
        web_session.last_seen_at = now
    return LiveSession(
        session_id=web_session.id,
        account_id=web_session.account_id,
        account_name=account_name,
        api_key_id=web_session.api_key_id,
        key_name=key_name,
        account_slug=account_slug,
    )


def end_session(session: Session, token: str, *, now: datetime) -> bool:
    """Sign one browser out: its row ends now. False when there was no open row."""
    ended = _end_where(
        session, WebSession.token_hash == _hash(token), now=now, reason=EndReason.SIGNED_OUT
    )
    return ended > 0


def check_session(*, uow: UnitOfWork, token: str) -> LiveSession | None:
    """`live_session`, committed (when the session was last seen). Run in a transaction of its
    own, so that a page's rollback never touches it."""
    live = live_session(uow.session, token, now=uow.clock.now())
    uow.commit()
    return live


def sign_out(*, uow: UnitOfWork, token: str) -> bool:
    """`end_session`, committed."""
    ended = end_session(uow.session, token, now=uow.clock.now())
    uow.commit()
    return ended


def end_all_sessions(*, uow: UnitOfWork, scope: TenantScope) -> int:
    """Sign every browser of the scope's account out ("sign out everywhere"); audited and
    committed. Returns how many sessions were open."""
    session, now = uow.session, uow.clock.now()
    ended = _end_where(
        session,
        WebSession.account_id == scope.account_id,
        now=now,
        reason=EndReason.SIGNED_OUT_EVERYWHERE,
    )
    audit.record(
        session,
        scope,
        entity_type="account",
        entity_id=scope.account_id,
        action="web_sessions.ended",
        at=now,
        after={"sessions_ended": ended},
    )
    uow.commit()
    return ended


def end_key_sessions(session: Session, *, api_key_id: int, now: datetime) -> int:
    """End the sessions signed in with a key that is being revoked."""
    return _end_where(
        session, WebSession.api_key_id == api_key_id, now=now, reason=EndReason.KEY_REVOKED
    )


def _end_where(
    session: Session, condition: ColumnElement[bool], *, now: datetime, reason: EndReason
) -> int:
    ended = session.execute(
        update(WebSession)
        .where(condition, WebSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason.value)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(ended, "rowcount", 0))


@dataclass(frozen=True, slots=True)
class SessionRow:
    session_id: int
    key_name: str
    key_prefix: str
    user_agent: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


def open_sessions(session: Session, *, account_id: int, now: datetime) -> list[SessionRow]:
    """The account's signed-in browsers (open and unexpired), most recently seen first."""
    rows = session.execute(
        select(WebSession, ApiKey.name, ApiKey.prefix)
        .join(ApiKey, ApiKey.id == WebSession.api_key_id)
        .where(
            WebSession.account_id == account_id,
            WebSession.ended_at.is_(None),
            WebSession.expires_at > now,
            ApiKey.revoked_at.is_(None),
        )
        .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc())
    )
    return [
        SessionRow(
            session_id=row.id,
            key_name=name,
            key_prefix=prefix,
            user_agent=row.user_agent,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
        )
        for row, name, prefix in rows
    ]
