"""The agent session a call job was placed with, as stored: its context on the job, its
profile once per content in `agent_profiles` (adapters/db/calls.py, `AgentProfileSnapshot`).

A profile is the practice's texts and reply templates (about 2 KB) and is the same for every
call an agent places until someone edits it; writing a copy on each dialed job and reading it
back when the call ended was a large share of the dispatcher's cost per dial. The job keeps
`agent_session = {"context": ...}` and `agent_profile_digest`; jobs written before migration
0024 keep the whole session inline and no digest, and every reader here takes both.

The digest is the SHA-256 of the account id and the profile's canonical JSON, so a row is
never updated (an edited agent is a new digest: an old call still reads what it was placed
with) and one account never shares a row with another. Because a digest names one content
for good, the profiles read back are kept in a small process-wide cache: it can never be
stale, and it holds the practice's own texts, no patient data.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import AgentProfileSnapshot
from ringfence.adapters.db.upsert import insert_missing
from ringfence.agent.profile import AgentProfile
from ringfence.agent.session import (
    AgentSession,
    context_from_json,
    context_to_json,
    profile_from_json,
    profile_to_json,
)

_CACHED_PROFILES: Final = 4096


@dataclass(frozen=True, slots=True)
class StoredSession:
    """What a job row holds for its session: `agent_session` and `agent_profile_digest`."""

    agent_session: dict[str, Any]
    agent_profile_digest: str


def profile_digest(account_id: int, profile: dict[str, Any]) -> str:
    canonical = json.dumps(
        [account_id, profile], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def store_sessions(
    session: Session, sessions: Mapping[int, tuple[int, AgentSession]], *, now: datetime
) -> dict[int, StoredSession]:
    """Job id -> what to write on the job, for sessions given as job id -> (account id,
    session). Each distinct profile is serialized and hashed once (a batch's calls of one agent
    share one profile object) and inserted unless its row exists; the caller's transaction
    makes the rows and the jobs that name them durable together."""
    digests: dict[tuple[int, int], str] = {}
    rows: dict[str, dict[str, Any]] = {}
    stored: dict[int, StoredSession] = {}
    for job_id, (account_id, agent_session) in sessions.items():
        key = (account_id, id(agent_session.profile))
        digest = digests.get(key)
        if digest is None:
            body = profile_to_json(agent_session.profile)
            digest = digests[key] = profile_digest(account_id, body)
            rows[digest] = {
                "digest": digest,
                "account_id": account_id,
                "profile": body,
                "created_at": now,
            }
            _remember(digest, (account_id, agent_session.profile))
        stored[job_id] = StoredSession({"context": context_to_json(agent_session.context)}, digest)
    if rows:
        # In digest order: two PostgreSQL workers storing the same new profiles take their
        # row locks in one order, never in a cycle.
        insert_missing(session, AgentProfileSnapshot, [rows[digest] for digest in sorted(rows)])
    return stored


def store_session(
    session: Session, account_id: int, agent_session: AgentSession, *, now: datetime
) -> StoredSession:
    """`store_sessions` for one call (the console's and the inbound desk's jobs)."""
    return store_sessions(session, {0: (account_id, agent_session)}, now=now)[0]


class MissingProfile(LookupError):
    """A job names a profile no row of its account holds (nothing writes one, but a restored
    or hand-edited database could): that job's session cannot be rebuilt, and only that job
    pays for it."""


# A profile as read back: the account it belongs to, and the profile.
Owned = tuple[int, AgentProfile]


def profiles_by_digest(session: Session, digests: Iterable[str | None]) -> dict[str, Owned]:
    """The profiles the digests name, with their accounts, read in one statement for those
    not cached."""
    wanted = {d for d in digests if d is not None}
    found: dict[str, Owned] = {}
    with _LOCK:
        for digest in wanted:
            owned = _PROFILES.get(digest)
            if owned is not None:
                _PROFILES.move_to_end(digest)
                found[digest] = owned
    missing = sorted(wanted - found.keys())
    if missing:
        for digest, account_id, body in session.execute(_PROFILES_BY_DIGEST, {"digests": missing}):
            found[digest] = (account_id, profile_from_json(body))
            _remember(digest, found[digest])
    return found


def stored_session(
    account_id: int,
    agent_session: dict[str, Any] | None,
    digest: str | None,
    profiles: Mapping[str, Owned],
) -> AgentSession | None:
    """A job's session from its columns and the profiles read for its batch; None for a job
    placed without an agent. Raises `MissingProfile` when the named profile is not there, or
    belongs to another account (a digest is read for its own account only)."""
    if agent_session is None:
        return None
    context = context_from_json(agent_session["context"])
    if "profile" in agent_session:
        # Written before migration 0024 (or by code rolled back over it): the profile is inline.
        return AgentSession(profile_from_json(agent_session["profile"]), context)
    owned = profiles.get(digest) if digest is not None else None
    if owned is None or owned[0] != account_id:
        raise MissingProfile(f"no agent profile {digest!r} for account {account_id}")
    return AgentSession(owned[1], context)


def load_session(
    session: Session, account_id: int, agent_session: dict[str, Any] | None, digest: str | None
) -> AgentSession | None:
    """One job's session (a live call's media stream, the test console)."""
    return stored_session(account_id, agent_session, digest, profiles_by_digest(session, [digest]))


_PROFILES_BY_DIGEST = select(
    AgentProfileSnapshot.digest, AgentProfileSnapshot.account_id, AgentProfileSnapshot.profile
).where(AgentProfileSnapshot.digest.in_(bindparam("digests", expanding=True)))
_LOCK = threading.Lock()
_PROFILES: OrderedDict[str, Owned] = OrderedDict()


def _remember(digest: str, owned: Owned) -> None:
    with _LOCK:
        _PROFILES[digest] = owned
        _PROFILES.move_to_end(digest)
        while len(_PROFILES) > _CACHED_PROFILES:
            _PROFILES.popitem(last=False)
