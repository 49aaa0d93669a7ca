"""API keys: random bearer tokens stored only as SHA-256 hashes, each scoped to one account.

Keys are 32 random bytes, so a fast hash is enough (no password-style stretching is needed
for secrets that cannot be guessed); the clear key is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Account, ApiKey
from ringfence.services.errors import NotFound

KEY_PREFIX = "rf_"
# Writing last_used_at on every request would turn reads into writes; once a minute is plenty.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_api_key(
    session: Session, *, account_id: int, name: str, now: datetime
) -> tuple[ApiKey, str]:
    """Create a key for `account_id`; returns the row and the clear key (shown once)."""
    if session.get(Account, account_id) is None:
        raise NotFound(f"account {account_id} does not exist")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        account_id=account_id,
        name=name,
        prefix=plaintext[:10],
        key_hash=hash_key(plaintext),
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key, plaintext


def authenticate(session: Session, plaintext: str, *, now: datetime) -> ApiKey | None:
    """The live key matching `plaintext`, or None. Marks it used (coarsely)."""
    if not plaintext.startswith(KEY_PREFIX) or len(plaintext) > 200:
        return None
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(plaintext))).first()
    if key is None or key.revoked_at is not None:
        return None
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_GRANULARITY:
        key.last_used_at = now
    return key


@dataclass(frozen=True, slots=True)
class KeyHolder:
    account_id: int
    account_name: str
    key_name: str


def live_key_holder(session: Session, *, key_id: int, account_id: int) -> KeyHolder | None:
    """Who holds key `key_id`, or None once it is revoked or gone (or belongs elsewhere).

    Web sessions remember the key they signed in with and ask this on every request, so that
    revoking a key signs its browser sessions out too.
    """
    row = session.execute(
        select(Account.id, Account.name, ApiKey.name)
        .join(ApiKey, ApiKey.account_id == Account.id)
        .where(ApiKey.id == key_id, ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    return KeyHolder(account_id=row[0], account_name=row[1], key_name=row[2])


def revoke_api_keys(session: Session, *, account_id: int, name: str, now: datetime) -> int:
    """Revoke every live key of `account_id` called `name`; returns how many."""
    keys = session.scalars(
        select(ApiKey).where(
            ApiKey.account_id == account_id, ApiKey.name == name, ApiKey.revoked_at.is_(None)
        )
    ).all()
    for key in keys:
        key.revoked_at = now
    return len(keys)
