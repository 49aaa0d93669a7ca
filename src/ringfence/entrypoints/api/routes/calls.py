"""The call log over the API: read call jobs with their compliance trail, cancel pending ones,
and the minutes ledger. There is deliberately no route that places a call: as in the product
description, outbound calls are triggered only through workflow actions."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from sqlalchemy import ColumnElement, select

from ringfence.adapters.db.calls import CallEvent, CallJob, CallTranscript, MinutesLedger
from ringfence.adapters.db.orm import Location
from ringfence.domain.compliance import zone
from ringfence.domain.phi import PhiAccessVia, PhiKind
from ringfence.domain.vocabulary import CallStatus
from ringfence.entrypoints.api.crud import list_page
from ringfence.entrypoints.api.deps import (
    Scope,
)
from ringfence.entrypoints.api.schemas.calls import (
    CallEventOut,
    CallJobDetailOut,
    CallJobOut,
    CallJobQuery,
    MinutesDayOut,
    MinutesQuery,
    TranscriptOut,
    TurnOut,
)
from ringfence.entrypoints.api.schemas.common import Page
from ringfence.entrypoints.deps import (
    ContainerDep,
    Uow,
)
from ringfence.services import phi_access
from ringfence.services.call_jobs import cancel_job
from ringfence.services.errors import NotFound
from ringfence.services.tenancy import get_owned

router = APIRouter(tags=["calls"])
JobId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


@router.get("/call-jobs", response_model=Page[CallJobOut], summary="The call log")
def list_call_jobs(
    uow: Uow, scope: Scope, query: Annotated[CallJobQuery, Query()]
) -> Page[CallJobOut]:
    """Every call job, oldest first: queued, deferred (with the next attempt and the reason),
    dialing, completed (with the outcome), failed before dialing (with the rule), canceled."""
    clauses: list[ColumnElement[bool]] = []
    for name in ("location_id", "contact_id", "workflow_id", "status", "call_type", "direction"):
        value = getattr(query, name)
        if value is not None:
            clauses.append(getattr(CallJob, name) == value)
    rows, cursor = list_page(uow.session, CallJob, scope, clauses, query)
    return Page[CallJobOut](items=[CallJobOut.model_validate(r) for r in rows], next_cursor=cursor)


def _detail(uow: Uow, job: CallJob) -> CallJobDetailOut:
    events = uow.session.scalars(
        select(CallEvent).where(CallEvent.job_id == job.id).order_by(CallEvent.id)
    )
    base = CallJobOut.model_validate(job).model_dump()
    return CallJobDetailOut(**base, events=[CallEventOut.model_validate(e) for e in events])


@router.get(
    "/call-jobs/{job_id}", response_model=CallJobDetailOut, summary="One call and its trail"
)
def read_call_job(uow: Uow, scope: Scope, job_id: JobId) -> CallJobDetailOut:
    """The call with every state transition, each with its time and reason: the compliance
    trail ("why was this call deferred, failed or placed when it was?")."""
    return _detail(uow, get_owned(uow.session, CallJob, job_id, scope))


@router.post(
    "/call-jobs/{job_id}/cancel",
    response_model=CallJobDetailOut,
    summary="Cancel a queued or deferred call",
)
def cancel_call_job(uow: Uow, scope: Scope, job_id: JobId) -> CallJobDetailOut:
    """Only calls that have not started can be canceled (409 otherwise)."""
    job = cancel_job(uow=uow, scope=scope, job_id=job_id)
    return _detail(uow, job)


@router.get(
    "/call-jobs/{job_id}/transcript",
    response_model=TranscriptOut,
    summary="What was said on the call",
)
def read_transcript(uow: Uow, scope: Scope, job_id: JobId) -> TranscriptOut:
    """Speaker turns with their offsets (seconds from answer) and, for live conversations,
    the sentiment; 404 when the call has no transcript (not answered, or not yet ended).
    A transcript past its account's retention policy has no turns and a `purged_at`.
    Each read is written to the PHI access log."""
    job = get_owned(uow.session, CallJob, job_id, scope)
    transcript = _transcript(uow, job)
    out = TranscriptOut(
        job_id=job.id,
        turns=[TurnOut.model_validate(t) for t in transcript.turns],
        sentiment=transcript.sentiment,
        sentiment_score=transcript.sentiment_score,
        recording_seconds=transcript.recording_seconds,
        has_recording=transcript.recording_path is not None,
        purged_at=transcript.purged_at,
    )
    if transcript.purged_at is None:
        _log_read(uow, scope, job.id, PhiKind.TRANSCRIPT)
    return out


@router.get(
    "/call-jobs/{job_id}/recording",
    response_class=Response,
    summary="The call's recording (WAV)",
    responses={200: {"content": {"audio/wav": {}}}},
)
def read_recording(uow: Uow, scope: Scope, container: ContainerDep, job_id: JobId) -> Response:
    """The synthesized recording of a connected or voicemail call, decrypted; 404 until it is
    rendered, and after its account's retention policy purged it. Each read is written to
    the PHI access log."""
    job = get_owned(uow.session, CallJob, job_id, scope)
    wav = phi_access.read_recording(
        uow,
        scope,
        job.id,
        via=PhiAccessVia.API,
        store_dir=container.settings.recordings_dir,
        cipher=container.phi_cipher,
    )
    if wav is None:
        raise NotFound(f"call job {job.id} has no recording")
    return Response(
        wav,
        media_type="audio/wav",
        headers={
            "Content-Disposition": f'attachment; filename="call-{job.id}.wav"',
            "Cache-Control": "private",
        },
    )


def _log_read(uow: Uow, scope: Scope, job_id: int, what: PhiKind) -> None:
    phi_access.log_read(uow=uow, reader=scope, job_id=job_id, what=what, via=PhiAccessVia.API)


def _transcript(uow: Uow, job: CallJob) -> CallTranscript:
    transcript = uow.session.scalars(
        select(CallTranscript).where(CallTranscript.job_id == job.id)
    ).first()
    if transcript is None:
        raise NotFound(f"call job {job.id} has no transcript")
    return transcript


@router.get("/minutes", response_model=list[MinutesDayOut], summary="Minutes used per day")
def minutes_used(
    uow: Uow, scope: Scope, query: Annotated[MinutesQuery, Query()]
) -> list[MinutesDayOut]:
    """Billable time per location and local day, from the minutes ledger: every completed
    dial books its billable seconds; calls rejected before dialing book nothing (their count
    is shown beside, to make that visible)."""
    clauses: list[ColumnElement[bool]] = [MinutesLedger.account_id == scope.account_id]
    if query.location_id is not None:
        clauses.append(MinutesLedger.location_id == query.location_id)
    if query.since is not None:
        clauses.append(MinutesLedger.local_day >= query.since)
    if query.until is not None:
        clauses.append(MinutesLedger.local_day <= query.until)
    days: dict[tuple[int, object], list[int]] = defaultdict(lambda: [0, 0, 0])
    for location_id, day, seconds in uow.session.execute(
        select(
            MinutesLedger.location_id, MinutesLedger.local_day, MinutesLedger.billable_seconds
        ).where(*clauses)
    ):
        bucket = days[(location_id, day)]
        bucket[0] += 1
        bucket[1] += seconds
        bucket[2] += math.ceil(seconds / 60)
    rejected = _rejected_per_day(uow, scope.account_id, query)
    keys = sorted(set(days) | set(rejected), key=lambda k: (k[1], k[0]))
    return [
        MinutesDayOut(
            location_id=location_id,
            day=day,
            dials=days[(location_id, day)][0],
            billable_seconds=days[(location_id, day)][1],
            minutes=days[(location_id, day)][2],
            rejected_before_dial=rejected.get((location_id, day), 0),
        )
        for location_id, day in keys
    ]


def _rejected_per_day(
    uow: Uow, account_id: int, query: MinutesQuery
) -> dict[tuple[int, object], int]:
    conditions: list[ColumnElement[bool]] = [
        CallJob.account_id == account_id,
        CallJob.status == CallStatus.FAILED,
    ]
    if query.location_id is not None:
        conditions.append(CallJob.location_id == query.location_id)
    zones = dict(
        uow.session.execute(
            select(Location.id, Location.time_zone).where(Location.account_id == account_id)
        ).all()
    )
    counts: dict[tuple[int, object], int] = defaultdict(int)
    for location_id, failed_at in uow.session.execute(
        select(CallJob.location_id, CallJob.updated_at).where(*conditions)
    ):
        day = failed_at.astimezone(zone(zones[location_id])).date()
        if (query.since is None or day >= query.since) and (
            query.until is None or day <= query.until
        ):
            counts[(location_id, day)] += 1
    return counts
