"""The call log over the API: read call jobs with their compliance trail, cancel pending ones,
and the minutes ledger. There is deliberately no route that places a call: as in the product
description, outbound calls are triggered only through workflow actions."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import ColumnElement, select

from ringfence.adapters.db.calls import CallEvent, CallJob, MinutesLedger
from ringfence.adapters.db.orm import Location
from ringfence.domain.calls import PENDING
from ringfence.domain.vocabulary import CallStatus
from ringfence.entrypoints.api.crud import list_page
from ringfence.entrypoints.api.deps import Scope, Uow
from ringfence.entrypoints.api.schemas.calls import (
    CallEventOut,
    CallJobDetailOut,
    CallJobOut,
    CallJobQuery,
    MinutesDayOut,
    MinutesQuery,
)
from ringfence.entrypoints.api.schemas.common import Page
from ringfence.services.call_jobs import cancel_pending
from ringfence.services.errors import Conflict
from ringfence.services.facts import zone_info
from ringfence.services.tenancy import get_owned

router = APIRouter(tags=["calls"])
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/call-jobs", response_model=Page[CallJobOut], summary="The call log")
def list_call_jobs(
    uow: Uow, scope: Scope, query: Annotated[CallJobQuery, Query()]
) -> Page[CallJobOut]:
    """Every call job, oldest first: queued, deferred (with the next attempt and the reason),
    dialing, completed (with the outcome), failed before dialing (with the rule), canceled."""
    clauses: list[ColumnElement[bool]] = []
    for name in ("location_id", "contact_id", "workflow_id", "status", "call_type"):
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
    job = get_owned(uow.session, CallJob, job_id, scope)
    if job.status not in PENDING:
        raise Conflict(
            f"call job {job.id} is {job.status.value}: "
            "only queued or deferred calls can be canceled"
        )
    cancel_pending(
        uow.session,
        account_id=scope.account_id,
        now=uow.clock.now(),
        reason="canceled_by_user",
        job_id=job.id,
    )
    uow.commit()
    return _detail(uow, job)


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
        day = failed_at.astimezone(zone_info(zones[location_id])).date()
        if (query.since is None or day >= query.since) and (
            query.until is None or day <= query.until
        ):
            counts[(location_id, day)] += 1
    return counts
