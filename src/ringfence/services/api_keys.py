"""API keys: random bearer tokens stored only as SHA-256 hashes, each scoped to one account.

Keys are 32 random bytes, so a fast hash is enough (no password-style stretching is needed
for secrets that cannot be guessed); the clear key is shown once, at creation.

Lifecycle (CLI and API): listed with their last use, created with an optional expiry, revoked
(at once: the next request with it is a 401 in this process, within 30 s in the others, see
below; the staff browser sessions signed in with it end, `web_sessions`), rotated (a new key
with the same name and expiry, the old one revoked in the same transaction). Creation,
revocation and rotation are audited, never the key itself.

A request's key is checked against the database at most every `VERIFIED_FOR` (30 s) per process
and key (`api_key_cache`: revocation in this process forgets them all at once; another
process accepts a revoked key for at most that long), without the write lock, and its last use
is written at most once a minute.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from ringfence.adapters.db.engine import READ_ONLY
from ringfence.adapters.db.orm import Account, ApiKey
from ringfence.services import audit
from ringfence.services.api_key_cache import VERIFIED_KEYS, VerifiedKey
from ringfence.services.errors import Conflict, NotFound
from ringfence.services.unit_of_work import TenantScope, UnitOfWork
from ringfence.services.web_sessions import end_key_sessions, start_session

KEY_PREFIX = "rf_"
# Writing last_used_at on every request would turn reads into writes; once a minute is plenty.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


_AUDITED = ("name", "prefix", "expires_at", "revoked_at")
_ENTITY = "api_key"


def create_api_key(
    session: Session,
    *,
    account_id: int,
    name: str,
    now: datetime,
    expires_at: datetime | None = None,
    scope: TenantScope | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for `account_id`; returns the row and the clear key (shown once).
    Audited when `scope` (who asked) is given."""
    if session.get(Account, account_id) is None:
        raise NotFound(f"account {account_id} does not exist")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        account_id=account_id,
        name=name,
        prefix=plaintext[:10],
        key_hash=hash_key(plaintext),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    if scope is not None:
        audit.record(
            session,
            scope,
            entity_type=_ENTITY,
            entity_id=key.id,
            action="api_key.created",
            at=now,
            after=audit.snapshot(key, _AUDITED),
        )
    return key, plaintext


def list_api_keys(session: Session, *, account_id: int) -> list[ApiKey]:
    """Every key of the account, revoked and expired ones included, newest first."""
    return list(
        session.scalars(
            select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.id.desc())
        )
    )


def _owned(session: Session, scope: TenantScope, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or key.account_id != scope.account_id:
        raise NotFound(f"API key {key_id} not found")
    return key


def revoke_api_key(session: Session, scope: TenantScope, key_id: int, *, now: datetime) -> ApiKey:
    """Revoke key `key_id` of the scope's account at once (again: no change)."""
    key = _owned(session, scope, key_id)
    if key.revoked_at is not None:
        return key
    before = audit.snapshot(key, _AUDITED)
    key.revoked_at = now
    VERIFIED_KEYS.forget_all()  # and again once committed (`revoke_key`, `rotate_key`)
    session.flush()
    end_key_sessions(session, api_key_id=key.id, now=now)
    audit.record(
        session,
        scope,
        entity_type=_ENTITY,
        entity_id=key.id,
        action="api_key.revoked",
        at=now,
        before=before,
        after=audit.snapshot(key, _AUDITED),
    )
    return key


def rotate_api_key(
    session: Session, scope: TenantScope, key_id: int, *, now: datetime
) -> tuple[ApiKey, str]:
    """A new key with the old one's name and expiry; the old one revoked. A revoked key is
    not rotated (Conflict: create a new one)."""
    old = _owned(session, scope, key_id)
    if old.revoked_at is not None:
        raise Conflict(f"API key {key_id} is revoked: create a new one")
    revoke_api_key(session, scope, key_id, now=now)
    return create_api_key(
        session,
        account_id=scope.account_id,
        name=old.name,
        now=now,
        expires_at=old.expires_at,
        scope=scope,
    )


# -- the use cases (CLI, API, staff pages): one transaction each, committed here ----------------


def create_key(
    *, uow: UnitOfWork, scope: TenantScope, name: str, expires_in_days: int | None = None
) -> tuple[ApiKey, str]:
    """A new key of the scope's account (`NotFound` if there is no such account), expiring
    after `expires_in_days` (None: never); audited and committed. Returns the row and the
    clear key, to be shown this once."""
    now = uow.clock.now()
    made = create_api_key(
        uow.session,
        account_id=scope.account_id,
        name=name,
        now=now,
        expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
        scope=scope,
    )
    uow.commit()
    return made


def revoke_key(*, uow: UnitOfWork, scope: TenantScope, key_id: int) -> ApiKey:
    """`revoke_api_key`, committed."""
    key = revoke_api_key(uow.session, scope, key_id, now=uow.clock.now())
    uow.commit()
    # A request that read the key between the first forgetting and the commit saw it live.
    VERIFIED_KEYS.forget_all()
    return key


def rotate_key(*, uow: UnitOfWork, scope: TenantScope, key_id: int) -> tuple[ApiKey, str]:
    """`rotate_api_key`, committed: the new key (shown once) and the old one revoked together."""
    made = rotate_api_key(uow.session, scope, key_id, now=uow.clock.now())
    uow.commit()
    VERIFIED_KEYS.forget_all()  # as in `revoke_key`
    return made


def recently_verified(plaintext: str, *, now: datetime) -> VerifiedKey | None:
    """The live key `plaintext` is, if this process verified it less than `VERIFIED_FOR` ago
    (no database: cheap enough for the event loop); None means "ask `use_key`"."""
    if not plaintext.startswith(KEY_PREFIX) or len(plaintext) > 200:
        return None
    return VERIFIED_KEYS.get(hash_key(plaintext), now=now)


def use_key(*, uow: UnitOfWork, plaintext: str) -> VerifiedKey | None:
    """The live key `plaintext` is, from the database, remembered for `recently_verified`;
    None (nothing written) otherwise. Its use is noted at most once a minute, committed in a
    transaction of its own, so that a route's rollback never loses it."""
    generation = VERIFIED_KEYS.generation
    now = uow.clock.now()
    session = uow.session
    # A read: on SQLite it begins DEFERRED, so checking a key takes no write lock.
    session.connection(execution_options={READ_ONLY: True})
    key = _live_key(session, plaintext, now=now)
    if key is None:
        return None
    verified = VerifiedKey(
        key_id=key.id,
        account_id=key.account_id,
        name=key.name,
        expires_at=key.expires_at,
        verified_at=now,
    )
    stale = key.last_used_at is None or now - key.last_used_at > _LAST_USED_GRANULARITY
    uow.rollback()  # the read ends here; a SQLite read transaction cannot safely turn writer
    if stale:
        session.execute(
            update(ApiKey).where(ApiKey.id == verified.key_id).values(last_used_at=now),
            execution_options={"synchronize_session": False},
        )
        uow.commit()
    VERIFIED_KEYS.remember(hash_key(plaintext), verified, generation=generation)
    return verified


def sign_in(*, uow: UnitOfWork, plaintext: str, user_agent: str | None) -> str | None:
    """A staff browser signs in with the key `plaintext`: the token of its new session (see
    `web_sessions`), the key's use noted; None when the key is not live. Committed."""
    now = uow.clock.now()
    key = authenticate(uow.session, plaintext, now=now)
    token = (
        None
        if key is None
        else start_session(uow.session, api_key=key, now=now, user_agent=user_agent)
    )
    uow.commit()
    return token


def _live(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
    )


def _live_key(session: Session, plaintext: str, *, now: datetime) -> ApiKey | None:
    if not plaintext.startswith(KEY_PREFIX) or len(plaintext) > 200:
        return None
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(plaintext))).first()
    if key is None or key.revoked_at is not None:
        return None
    if key.expires_at is not None and key.expires_at <= now:
        return None
    return key


def authenticate(session: Session, plaintext: str, *, now: datetime) -> ApiKey | None:
    """The live key matching `plaintext`, or None. Marks it used (coarsely)."""
    key = _live_key(session, plaintext, now=now)
    if key is None:
        return None
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_GRANULARITY:
        key.last_used_at = now
    return key


def revoke_api_keys(session: Session, *, account_id: int, name: str, now: datetime) -> int:
    """Revoke every live key of `account_id` called `name`; returns how many."""
    keys = session.scalars(
        select(ApiKey).where(
            ApiKey.account_id == account_id, ApiKey.name == name, ApiKey.revoked_at.is_(None)
        )
    ).all()
    for key in keys:
        key.revoked_at = now
        end_key_sessions(session, api_key_id=key.id, now=now)
    if keys:
        VERIFIED_KEYS.forget_all()
    return len(keys)
