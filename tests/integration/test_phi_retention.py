"""The retention purge on a virtual clock: past the account's policy a call's recording file
is deleted and its transcript emptied, a tombstone records each removal, nothing younger is
touched, running it again changes nothing, and "keep" keeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from ringfence.adapters.db.calls import CallTranscript
from ringfence.adapters.db.orm import Account
from ringfence.adapters.db.phi import PhiTombstone
from ringfence.adapters.recording_store import (
    recording_file,
    recording_path_for,
)
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.phi import PhiKind
from ringfence.domain.vocabulary import CallOutcome
from ringfence.services.phi_retention import PurgeReport, purge_expired
from ringfence.services.recordings import (
    render_pending,
)
from tests.conftest import Tenant
from tests.dashboard_calls import CallBook
from tests.phi_calls import TURNS, HummingVoice, recorded_call

TODAY = date(2026, 11, 26)
NOON = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)  # 12:00 in New York, where the calls were


def set_policy(container: Container, tenant: Tenant, days: int | None) -> None:
    with container.uow() as uow:
        uow.session.execute(
            update(Account).where(Account.id == tenant.account_id).values(phi_retention_days=days)
        )
        uow.commit()


@dataclass(frozen=True)
class Stored:
    turns: object
    recording_path: str | None
    recording_seconds: float | None
    sentiment: str | None
    purged_at: datetime | None


def transcript(container: Container, job_id: int) -> Stored:
    with container.uow() as uow:
        row = uow.session.scalars(
            select(CallTranscript).where(CallTranscript.job_id == job_id)
        ).one()
        return Stored(
            row.turns, row.recording_path, row.recording_seconds, row.sentiment, row.purged_at
        )


def tombstones(container: Container) -> list[tuple[object, ...]]:
    with container.uow() as uow:
        rows = uow.session.execute(
            select(
                PhiTombstone.account_id,
                PhiTombstone.job_id,
                PhiTombstone.what,
                PhiTombstone.purged_at,
                PhiTombstone.policy,
            ).order_by(PhiTombstone.job_id, PhiTombstone.what)
        ).all()
    return [tuple(row) for row in rows]


def file_of(store: Path, tenant: Tenant, job_id: int) -> Path:
    return recording_file(store, recording_path_for(tenant.account_id, job_id))


def test_a_30_day_policy_purges_a_31_day_old_call_and_keeps_a_29_day_old_one(
    container: Container, clock: VirtualClock, tenant: Tenant, tmp_path: Path
) -> None:
    set_policy(container, tenant, 30)
    book = CallBook(container, tenant)
    old = recorded_call(book, tmp_path, day=TODAY - timedelta(days=31))
    young = recorded_call(book, tmp_path, day=TODAY - timedelta(days=29))
    clock.set(NOON)

    report = purge_expired(container.session_factory, clock, store_dir=tmp_path)

    assert report == PurgeReport(transcripts=1, recordings=1)
    assert not file_of(tmp_path, tenant, old).exists()
    purged = transcript(container, old)
    assert (purged.turns, purged.recording_path, purged.purged_at) == ([], None, NOON)
    assert purged.sentiment == "positive"  # not PHI: the dashboard keeps counting it
    assert purged.recording_seconds == 30.0
    kept = transcript(container, young)
    assert (kept.turns, kept.purged_at) == (TURNS, None)
    assert file_of(tmp_path, tenant, young).exists()
    assert tombstones(container) == [
        (tenant.account_id, old, PhiKind.RECORDING, NOON, "retention 30 days"),
        (tenant.account_id, old, PhiKind.TRANSCRIPT, NOON, "retention 30 days"),
    ]

    # Idempotent: a second pass (or a second worker) finds nothing more to do.
    assert purge_expired(container.session_factory, clock, store_dir=tmp_path) == PurgeReport()
    assert len(tombstones(container)) == 2
    # A purged transcript is never rendered again from its emptied turns.
    voice = HummingVoice()
    assert (
        render_pending(
            container.session_factory, store_dir=tmp_path, agent_voice=voice, callee_voice=voice
        )
        == 0
    )
    assert not file_of(tmp_path, tenant, old).exists()

    # Two days on, the younger call is past the policy too.
    clock.advance(timedelta(days=2))
    assert purge_expired(container.session_factory, clock, store_dir=tmp_path) == PurgeReport(
        transcripts=1, recordings=1
    )
    assert transcript(container, young).turns == []
    assert not file_of(tmp_path, tenant, young).exists()


def test_keep_purges_nothing_and_each_account_follows_its_own_policy(
    container: Container,
    clock: VirtualClock,
    tenant: Tenant,
    other_tenant: Tenant,
    tmp_path: Path,
) -> None:
    set_policy(container, tenant, None)  # keep (the default)
    set_policy(container, other_tenant, 365)
    ancient = TODAY - timedelta(days=400)
    kept = recorded_call(CallBook(container, tenant), tmp_path, day=ancient)
    other_book = CallBook(container, other_tenant)
    theirs = "+12125550200"  # caller IDs are unique across accounts
    purged = recorded_call(other_book, tmp_path, day=ancient, caller_id=theirs)
    recent = recorded_call(other_book, tmp_path, day=TODAY - timedelta(days=100), caller_id=theirs)
    no_recording = other_book.call(
        CallOutcome.VOICEMAIL, day=ancient, duration=20, turns=TURNS, caller_id=theirs
    )
    clock.set(NOON)

    report = purge_expired(container.session_factory, clock, store_dir=tmp_path, batch=1)

    assert report == PurgeReport(transcripts=2, recordings=1)
    assert transcript(container, kept).turns == TURNS
    assert file_of(tmp_path, tenant, kept).exists()
    assert transcript(container, recent).purged_at is None
    assert transcript(container, purged).purged_at == NOON
    assert transcript(container, no_recording).turns == []
    assert [(row[1], row[2]) for row in tombstones(container)] == [
        (purged, "recording"),
        (purged, "transcript"),
        (no_recording, "transcript"),
    ]
