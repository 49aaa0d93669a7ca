"""One call's drawer: its row (as the call log shows it), transcript, recording, sentiment,
actions triggered and compliance trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallAction, CallEvent, CallJob, CallTranscript
from ringfence.adapters.db.phi import PhiTombstone
from ringfence.domain.dashboard.statuses import action_label
from ringfence.domain.phi import PhiKind, describe_policy
from ringfence.domain.vocabulary import CallStatus
from ringfence.services.dashboard.call_log import CallRow, call_row, row_select
from ringfence.services.dashboard.scope import DashboardScope


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: str
    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class TrailEntry:
    at: datetime
    from_status: CallStatus | None
    to_status: CallStatus
    reason_code: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class ActionEntry:
    kind: str
    label: str
    detail: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CallDetail:
    row: CallRow
    carrier_reason: str | None
    sentiment_score: float | None
    turns: tuple[Turn, ...]
    recording_seconds: float | None
    actions: tuple[ActionEntry, ...]
    trail: tuple[TrailEntry, ...]
    # Set once a retention purge emptied the transcript and deleted the recording.
    purged_at: datetime | None = None
    purge_policy: str | None = None  # e.g. "the 30-day policy"


def call_detail(session: Session, scope: DashboardScope, job_id: int) -> CallDetail | None:
    """The drawer of one call job of the scope's location, placed, stopped before dialing or
    answered (None if there is no such job there). It opens from any staff view, whatever its
    filters; a share link first checks the call is in its view (`call_log.in_view`)."""
    values = session.execute(
        row_select(scope).where(
            CallJob.id == job_id,
            CallJob.account_id == scope.account_id,
            CallJob.location_id == scope.location_id,
        )
    ).first()
    if values is None:
        return None
    row = call_row(values)
    job = session.get(CallJob, job_id)
    transcript = session.scalars(
        select(CallTranscript).where(CallTranscript.job_id == job_id)
    ).first()
    actions = session.execute(
        select(CallAction.kind, CallAction.detail, CallAction.at)
        .where(CallAction.job_id == job_id, CallAction.account_id == scope.account_id)
        .order_by(CallAction.id)
    ).all()
    events = session.execute(
        select(
            CallEvent.at,
            CallEvent.from_status,
            CallEvent.to_status,
            CallEvent.reason_code,
            CallEvent.detail,
        )
        .where(CallEvent.job_id == job_id, CallEvent.account_id == scope.account_id)
        .order_by(CallEvent.id)
    ).all()
    policy = (
        session.scalar(
            select(PhiTombstone.policy).where(
                PhiTombstone.job_id == job_id,
                PhiTombstone.account_id == scope.account_id,
                PhiTombstone.what == PhiKind.TRANSCRIPT,
            )
        )
        if transcript is not None and transcript.purged_at is not None
        else None
    )
    return CallDetail(
        row=row,
        carrier_reason=job.carrier_reason if job else None,
        sentiment_score=transcript.sentiment_score if transcript else None,
        turns=tuple(
            Turn(str(t["speaker"]), str(t["text"]), float(t["start"]), float(t["end"]))
            for t in (transcript.turns if transcript else [])
        ),
        recording_seconds=transcript.recording_seconds if transcript else None,
        actions=tuple(ActionEntry(k, action_label(k), d, at) for k, d, at in actions),
        trail=tuple(TrailEntry(*event) for event in events),
        purged_at=transcript.purged_at if transcript else None,
        purge_policy=describe_policy(policy) if policy else None,
    )
