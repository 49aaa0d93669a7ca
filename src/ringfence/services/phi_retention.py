"""The retention purge: recordings and transcripts older than their account's policy go.

Each account keeps its recordings and transcripts 30, 90 or 365 days, or for good (the
default: nothing is purged until the practice chooses a policy). A purge deletes the
recording file and empties the transcript's turns of every call that ended more than that
long ago; the transcript row stays (sentiment, length, `purged_at`) so the dashboard still
counts the call and can say when and why its words are gone, and each removal leaves a
tombstone in `phi_tombstones`.

Safe to run anywhere at any time: each batch claims its rows with one conditional UPDATE (a
row already purged is not claimed again), deletes the files while holding the claim, and
commits the claim with its tombstones. A crash before the commit leaves files deleted and
rows unclaimed; the next pass finishes them. Run hourly by the worker, and by
`ringfence phi purge`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob, CallTranscript
from ringfence.adapters.db.orm import Account
from ringfence.adapters.db.phi import PhiTombstone
from ringfence.adapters.recording_store import (
    UnsafeRecordingPath,
    recording_file,
    recording_path_for,
)
from ringfence.clock import Clock
from ringfence.domain.phi import RETENTION_DAYS, PhiKind, policy_label, retention_cutoff

BATCH: Final = 200


@dataclass(frozen=True, slots=True)
class PurgeReport:
    transcripts: int = 0
    recordings: int = 0

    def __add__(self, other: PurgeReport) -> PurgeReport:
        return PurgeReport(
            transcripts=self.transcripts + other.transcripts,
            recordings=self.recordings + other.recordings,
        )


def purge_expired(
    session_factory: Callable[[], Session],
    clock: Clock,
    *,
    store_dir: Path,
    batch: int = BATCH,
) -> PurgeReport:
    """Purge every recording and transcript past its account's retention policy."""
    now = clock.now()
    report = PurgeReport()
    for days in RETENTION_DAYS:
        cutoff = retention_cutoff(now, days)
        after_id = 0
        while True:
            with session_factory() as session:
                rows = session.execute(
                    select(
                        CallTranscript.id,
                        CallTranscript.account_id,
                        CallTranscript.job_id,
                        CallTranscript.recording_path,
                    )
                    .join(Account, Account.id == CallTranscript.account_id)
                    .join(CallJob, CallJob.id == CallTranscript.job_id)
                    .where(
                        Account.phi_retention_days == days,
                        CallTranscript.purged_at.is_(None),
                        CallTranscript.id > after_id,
                        past_retention(cutoff),
                    )
                    .order_by(CallTranscript.id)
                    .limit(batch)
                ).all()
            if not rows:
                break
            after_id = rows[-1].id
            report += _purge_batch(
                session_factory,
                {row.id: row.recording_path for row in rows},
                store_dir=store_dir,
                now=now,
                policy=policy_label(days),
            )
    return report


def past_retention(cutoff: datetime) -> ColumnElement[bool]:
    """A transcript whose call ended before `cutoff` (or, with no end recorded, was made
    before it): what the policy of that cutoff purges. The PHI page counts with it too, so
    its preview of a new policy is the purge's own selection."""
    return func.coalesce(CallJob.ended_at, CallTranscript.created_at) < cutoff


def _purge_batch(
    session_factory: Callable[[], Session],
    recordings: dict[int, str | None],
    *,
    store_dir: Path,
    now: datetime,
    policy: str,
) -> PurgeReport:
    with session_factory() as session, session.begin():
        claimed = session.execute(
            update(CallTranscript)
            .where(CallTranscript.id.in_(recordings), CallTranscript.purged_at.is_(None))
            .values(turns=[], recording_path=None, purged_at=now)
            .returning(CallTranscript.id, CallTranscript.account_id, CallTranscript.job_id)
        ).all()
        tombstones: list[dict[str, object]] = []
        for transcript_id, account_id, job_id in claimed:
            tombstone = {"account_id": account_id, "job_id": job_id, "purged_at": now}
            if _delete_recording(store_dir, account_id, job_id, recordings[transcript_id]):
                tombstones.append({**tombstone, "what": PhiKind.RECORDING, "policy": policy})
            tombstones.append({**tombstone, "what": PhiKind.TRANSCRIPT, "policy": policy})
        if tombstones:
            session.execute(insert(PhiTombstone), tombstones)
    return PurgeReport(
        transcripts=len(claimed),
        recordings=sum(1 for t in tombstones if t["what"] is PhiKind.RECORDING),
    )


def _delete_recording(store_dir: Path, account_id: int, job_id: int, stored: str | None) -> bool:
    """Delete every file that is or was the call's recording; whether it had one.

    Besides the stored path, the names a recording gets (encrypted, and the plain `.wav` of
    before encryption) are removed too, so no file a renderer or a rotation wrote between
    our read and our claim can outlive the purge.
    """
    encrypted = recording_path_for(account_id, job_id)
    candidates = {encrypted, encrypted.removesuffix(".enc")}
    if stored:
        candidates.add(stored)
    had = stored is not None
    for path in candidates:
        try:
            file = recording_file(store_dir, path)
        except UnsafeRecordingPath:
            continue
        if file.is_file():
            had = True
        file.unlink(missing_ok=True)
    return had
