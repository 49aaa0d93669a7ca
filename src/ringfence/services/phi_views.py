"""The PHI page's facts: the account's retention policy, what the purge last removed, and who
read which recording or transcript (the access log), in plain words.

Read side only. The purge writes no record of a run that removed nothing, so "last purge"
here is the last one that removed something of this account's (its tombstones), and the page
says so rather than inventing a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob, CallTranscript
from ringfence.adapters.db.orm import Account
from ringfence.adapters.db.phi import PhiAccess, PhiTombstone
from ringfence.domain.phi import (
    RETENTION_DAYS,
    PhiAccessVia,
    PhiKind,
    describe_policy,
    retention_cutoff,
)
from ringfence.domain.vocabulary import CallDirection
from ringfence.services.audit_views import (
    DisplayZone,
    actor_in_words,
    actor_names,
    display_zone,
)
from ringfence.services.paging import newest_first_page
from ringfence.services.phi_retention import past_retention

# A call's page on its own dashboard: the one of the calls we placed, or of those answered.
CALL_PAGE: Final = "/app/voice-ai/dashboards/{direction}/calls/{id}"

_DOORS: Final[Mapping[PhiAccessVia, str]] = {
    PhiAccessVia.API: "Through the API",
    PhiAccessVia.WEB: "Staff dashboard (a call's details)",
    PhiAccessVia.SHARE: "A read-only share link made with recordings and transcripts",
}
_KINDS: Final[Mapping[PhiKind, str]] = {
    PhiKind.RECORDING: "Recording",
    PhiKind.TRANSCRIPT: "Transcript",
}


@dataclass(frozen=True, slots=True)
class LastPurge:
    at: datetime
    policy: str  # "the 30-day policy"
    recordings: int
    transcripts: int


@dataclass(frozen=True, slots=True)
class Retention:
    days: int | None  # None: kept for good
    last_purge: LastPurge | None  # None: nothing of this account's was ever purged
    purged_recordings: int  # ever
    purged_transcripts: int


def retention(session: Session, *, account_id: int) -> Retention:
    days = session.scalar(select(Account.phi_retention_days).where(Account.id == account_id))
    mine = PhiTombstone.account_id == account_id
    totals = dict(
        session.execute(
            select(PhiTombstone.what, func.count()).where(mine).group_by(PhiTombstone.what)
        ).all()
    )
    last_at = session.scalar(select(func.max(PhiTombstone.purged_at)).where(mine))
    last = None
    if last_at is not None:
        # One pass stamps every removal it makes with the same instant.
        rows = session.execute(
            select(PhiTombstone.what, PhiTombstone.policy, func.count())
            .where(mine, PhiTombstone.purged_at == last_at)
            .group_by(PhiTombstone.what, PhiTombstone.policy)
        ).all()
        counts: dict[PhiKind, int] = {}
        policies: set[str] = set()
        for what, policy, count in rows:
            counts[what] = counts.get(what, 0) + count
            policies.add(policy)
        last = LastPurge(
            at=last_at,
            policy=" and ".join(sorted(describe_policy(p) for p in policies)),
            recordings=counts.get(PhiKind.RECORDING, 0),
            transcripts=counts.get(PhiKind.TRANSCRIPT, 0),
        )
    return Retention(
        days=days,
        last_purge=last,
        purged_recordings=totals.get(PhiKind.RECORDING, 0),
        purged_transcripts=totals.get(PhiKind.TRANSCRIPT, 0),
    )


@dataclass(frozen=True, slots=True)
class PurgePreview:
    """What a `days` policy would remove at the next hourly purge, counted now."""

    days: int | None  # None: kept for good (removes nothing)
    transcripts: int
    recordings: int


def purge_previews(session: Session, *, account_id: int, now: datetime) -> tuple[PurgePreview, ...]:
    """One preview per retention choice (kept for good first), counted with the purge's own
    selection (`phi_retention.past_retention`). Cost: one count over the account's transcripts
    not purged yet (indexed by account and purge time), whatever the number of choices."""
    counts = []
    for days in RETENTION_DAYS:
        past = past_retention(retention_cutoff(now, days))
        counts += [
            func.count(case((past, 1))),
            func.count(case((and_(past, CallTranscript.recording_path.is_not(None)), 1))),
        ]
    row = session.execute(
        select(*counts)
        .select_from(CallTranscript)
        .join(CallJob, CallJob.id == CallTranscript.job_id)
        .where(CallTranscript.account_id == account_id, CallTranscript.purged_at.is_(None))
    ).one()
    found = [
        PurgePreview(days, row[2 * index], row[2 * index + 1])
        for index, days in enumerate(RETENTION_DAYS)
    ]
    return (PurgePreview(None, 0, 0), *found)


@dataclass(frozen=True, slots=True)
class PhiFilters:
    actor: str | None = None  # as stored, e.g. "api_key:Front desk"
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class PhiRow:
    entry_id: int
    at: datetime
    who: str
    what: str  # "Recording" / "Transcript"
    call: str  # "call #12"
    call_href: str | None  # None: the call is no longer on file
    where: str


@dataclass(frozen=True, slots=True)
class PhiPage:
    rows: tuple[PhiRow, ...]
    next_cursor: str | None
    zone: DisplayZone


def access_page(
    session: Session, *, account_id: int, filters: PhiFilters, cursor: str | None, limit: int
) -> PhiPage:
    """One page of the account's PHI access log, newest first. InvalidField("cursor") for a
    cursor we did not make."""
    clauses: list[ColumnElement[bool]] = []
    if filters.actor is not None:
        clauses.append(PhiAccess.actor == filters.actor)
    if filters.since is not None:
        clauses.append(PhiAccess.at >= filters.since)
    if filters.until is not None:
        clauses.append(PhiAccess.at < filters.until)
    entries, next_cursor = newest_first_page(
        session,
        PhiAccess,
        clauses=[PhiAccess.account_id == account_id, *clauses],
        cursor=cursor,
        limit=limit,
    )
    names = actor_names(session, account_id=account_id, actors={e.actor for e in entries})
    calls = _calls_on_file(session, account_id, {e.job_id for e in entries})
    rows = tuple(
        PhiRow(
            entry_id=e.id,
            at=e.at,
            who=actor_in_words(e.actor, names),
            what=_KINDS[e.what],
            call=f"call #{e.job_id}",
            call_href=CALL_PAGE.format(direction=calls[e.job_id].value, id=e.job_id)
            if e.job_id in calls
            else None,
            where=_DOORS[e.via],
        )
        for e in entries
    )
    return PhiPage(rows, next_cursor, display_zone(session, account_id=account_id))


def actor_choices(session: Session, *, account_id: int) -> tuple[tuple[str, str], ...]:
    """Everyone who appears in the account's access log: (stored actor, in words)."""
    actors = set(
        session.scalars(
            select(PhiAccess.actor).where(PhiAccess.account_id == account_id).distinct()
        )
    )
    names = actor_names(session, account_id=account_id, actors=actors)
    return tuple(sorted(((a, actor_in_words(a, names)) for a in actors), key=lambda c: c[1]))


def _calls_on_file(
    session: Session, account_id: int, job_ids: set[int]
) -> dict[int, CallDirection]:
    # The log outlives a call deleted with its contact (no foreign key): link only live ones.
    if not job_ids:
        return {}
    rows = session.execute(
        select(CallJob.id, CallJob.direction).where(
            CallJob.account_id == account_id, CallJob.id.in_(job_ids)
        )
    )
    return {row.id: row.direction for row in rows}
