"""The detailed call log (sortable, paged) and the pre-dial view (one call's drawer is in
drawer.py, on the same row query).

Rows are plain frozen dataclasses, so the page, the CSV export and a share link render the
same facts. Times are shown in the location's zone by the caller; here they stay UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, and_, case, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ringfence.adapters.db.calls import CallJob, CallTranscript
from ringfence.adapters.db.orm import Contact, PhoneNumber
from ringfence.adapters.db.workflows import Workflow
from ringfence.domain.dashboard.filters import DashboardFilters, SortKey
from ringfence.domain.dashboard.statuses import DashStatus, status_of
from ringfence.domain.vocabulary import (
    CallDirection,
    CallOutcome,
    CallPurpose,
    CallStatus,
    CallType,
)
from ringfence.services.dashboard.scope import (
    DashboardScope,
    dial_conditions,
    shared_conditions,
)

PAGE_SIZE: Final = 50

# Sorting by Call Status groups the four statuses in the order staff read them.
_STATUS_ORDER = case(
    (CallJob.outcome == CallOutcome.CONNECTED, 0),
    (CallJob.outcome == CallOutcome.VOICEMAIL, 1),
    (CallJob.outcome.in_((CallOutcome.NO_ANSWER, CallOutcome.BUSY)), 2),
    (CallJob.outcome == CallOutcome.FAILED, 3),
    else_=4,
)
# When a call happened: dialed (outbound) or answered (inbound: never dialed, so the row's
# creation, which is the moment it was answered).
_WHEN: Final[dict[CallDirection, ColumnElement[Any]]] = {
    CallDirection.OUTBOUND: CallJob.dialed_at,  # type: ignore[dict-item]
    CallDirection.INBOUND: CallJob.created_at,  # type: ignore[dict-item]
}
_SORT_COLUMNS: Final[dict[SortKey, ColumnElement[Any]]] = {
    SortKey.STATUS: _STATUS_ORDER,
    SortKey.WORKFLOW: Workflow.name,  # type: ignore[dict-item]
    SortKey.DURATION: CallJob.duration_seconds,  # type: ignore[dict-item]
    SortKey.CALLER_ID: PhoneNumber.e164,  # type: ignore[dict-item]
    # Whether the call has one (the drawer's Play / View): 1 with, 0 without.
    SortKey.RECORDING: case((CallTranscript.recording_path.is_not(None), 1), else_=0),
    SortKey.TRANSCRIPT: case((CallTranscript.id.is_not(None), 1), else_=0),
}


_LIFECYCLE_LABELS: Final = {
    CallStatus.NEEDS_REVIEW: "Needs review",
    CallStatus.QUEUED: "Queued",
    CallStatus.DEFERRED: "Deferred",
    CallStatus.FAILED: "Failed before dialing",
    CallStatus.CANCELED: "Canceled",
}


@dataclass(frozen=True, slots=True)
class CallRow:
    job_id: int
    status: DashStatus | None  # None: still in progress / under review
    lifecycle: CallStatus
    workflow_id: int | None
    workflow_name: str | None
    action_name: str
    purpose: CallPurpose
    call_type: CallType
    direction: CallDirection
    at: datetime | None  # dialed (outbound; None if never dialed) or answered (inbound)
    duration_seconds: int | None
    caller_id: str | None
    contact_id: int
    contact_name: str
    phone_e164: str | None
    sentiment: str | None
    has_transcript: bool
    has_recording: bool

    @property
    def status_label(self) -> str:
        if self.status is not None:
            return self.status.label
        return _LIFECYCLE_LABELS.get(self.lifecycle, "In progress")


@dataclass(frozen=True, slots=True)
class CallLogPage:
    rows: tuple[CallRow, ...]
    page: int
    has_next: bool


def _log_query(scope: DashboardScope, filters: DashboardFilters) -> Select[*tuple[Any, ...]]:
    return row_select(scope).where(*dial_conditions(scope, filters))


def row_select(scope: DashboardScope) -> Select[*tuple[Any, ...]]:
    """The columns of a `CallRow` (read back by `call_row`), for the log and the drawer."""
    return (
        select(
            CallJob.id,
            CallJob.outcome,
            CallJob.status,
            CallJob.workflow_id,
            Workflow.name,
            CallJob.action_name,
            CallJob.purpose,
            CallJob.call_type,
            CallJob.direction,
            CallJob.dialed_at,
            CallJob.created_at,
            CallJob.duration_seconds,
            PhoneNumber.e164,
            CallJob.contact_id,
            Contact.first_name,
            Contact.last_name,
            CallJob.phone_e164,
            CallTranscript.sentiment,
            CallTranscript.id,
            CallTranscript.recording_path,
        )
        .join(Contact, Contact.id == CallJob.contact_id)
        .outerjoin(
            Workflow,
            and_(Workflow.id == CallJob.workflow_id, Workflow.account_id == scope.account_id),
        )
        .outerjoin(PhoneNumber, PhoneNumber.id == CallJob.from_number_id)
        .outerjoin(CallTranscript, CallTranscript.job_id == CallJob.id)
    )


def call_row(values: Any) -> CallRow:
    (job_id, outcome, lifecycle, workflow_id, workflow_name, action_name, purpose, call_type,
     direction, dialed_at, created_at, duration, caller_id, contact_id, first, last, phone,
     sentiment, transcript_id, recording) = values  # fmt: skip
    return CallRow(
        job_id=job_id,
        status=status_of(outcome),
        lifecycle=lifecycle,
        workflow_id=workflow_id,
        workflow_name=workflow_name,
        action_name=action_name,
        purpose=purpose,
        call_type=call_type,
        direction=direction,
        at=created_at if direction is CallDirection.INBOUND else dialed_at,
        duration_seconds=duration,
        caller_id=caller_id,
        contact_id=contact_id,
        contact_name=" ".join(part for part in (first, last) if part) or "(no name)",
        phone_e164=phone,
        sentiment=sentiment if outcome is CallOutcome.CONNECTED else None,
        has_transcript=transcript_id is not None,
        has_recording=recording is not None,
    )


def _ordered(
    query: Select[*tuple[Any, ...]], filters: DashboardFilters
) -> Select[*tuple[Any, ...]]:
    column = (
        _WHEN[filters.direction] if filters.sort is SortKey.DATE else _SORT_COLUMNS[filters.sort]
    )
    order = column.desc() if filters.descending else column.asc()
    tie = CallJob.id.desc() if filters.descending else CallJob.id.asc()
    return query.order_by(order.nulls_last(), tie)


def call_log(session: Session, scope: DashboardScope, filters: DashboardFilters) -> CallLogPage:
    query = _ordered(_log_query(scope, filters), filters)
    offset = (filters.page - 1) * PAGE_SIZE
    rows = session.execute(query.offset(offset).limit(PAGE_SIZE + 1)).all()
    return CallLogPage(
        rows=tuple(call_row(r) for r in rows[:PAGE_SIZE]),
        page=filters.page,
        has_next=len(rows) > PAGE_SIZE,
    )


def in_view(
    session: Session, scope: DashboardScope, filters: DashboardFilters, job_id: int
) -> bool:
    """Whether the filtered log (what a share link lists) holds call `job_id`: the same
    query, so a shared route can open exactly the calls its list shows, whatever the page."""
    query = _log_query(scope, filters).where(CallJob.id == job_id).limit(1)
    return session.execute(query).first() is not None


def every_call(
    session: Session, scope: DashboardScope, filters: DashboardFilters, *, batch: int = 2000
) -> Iterator[CallRow]:
    """Every row of the filtered log, in the log's order, fetched in batches (for the CSV
    export: memory stays flat however many rows there are)."""
    query = _ordered(_log_query(scope, filters), filters).execution_options(
        yield_per=batch, stream_results=True
    )
    for values in session.execute(query):
        yield call_row(values)


# --- the pre-dial view: calls the gate deferred or failed before any dial -----------------


@dataclass(frozen=True, slots=True)
class PreDialRow:
    job_id: int
    status: CallStatus  # deferred or failed
    workflow_name: str | None
    action_name: str
    contact_id: int
    contact_name: str
    reason_code: str | None
    reason_text: str | None
    next_attempt_at: datetime | None
    updated_at: datetime
    # A deferred call whose next attempt has come: its recorded reason (say, outside the
    # window) is why it was deferred, no longer why it waits; it waits for a dialing slot.
    due: bool = False


def _pre_dial_query(scope: DashboardScope, filters: DashboardFilters) -> Select[*tuple[Any, ...]]:
    start, end = scope.local_bounds(*filters.days(scope.today))
    return (
        select(
            CallJob.id,
            CallJob.status,
            Workflow.name,
            CallJob.action_name,
            CallJob.contact_id,
            Contact.first_name,
            Contact.last_name,
            CallJob.reason_code,
            CallJob.reason_text,
            CallJob.next_attempt_at,
            CallJob.updated_at,
        )
        .join(Contact, Contact.id == CallJob.contact_id)
        .outerjoin(
            Workflow,
            and_(Workflow.id == CallJob.workflow_id, Workflow.account_id == scope.account_id),
        )
        .where(
            CallJob.account_id == scope.account_id,
            CallJob.location_id == scope.location_id,
            CallJob.call_type == filters.call_type,
            CallJob.status.in_((CallStatus.DEFERRED, CallStatus.FAILED)),
            CallJob.dialed_at.is_(None),
            CallJob.updated_at >= start,
            CallJob.updated_at < end,
            *shared_conditions(filters),
        )
        .order_by(CallJob.updated_at.desc(), CallJob.id.desc())
    )


def _pre_dial_row(values: Any, scope: DashboardScope) -> PreDialRow:
    (job_id, status, workflow, action, contact_id, first, last, code, text, next_at,
     updated) = values  # fmt: skip
    return PreDialRow(
        job_id=job_id,
        status=status,
        workflow_name=workflow,
        action_name=action,
        contact_id=contact_id,
        contact_name=" ".join(p for p in (first, last) if p) or "(no name)",
        reason_code=code,
        reason_text=text,
        next_attempt_at=next_at,
        updated_at=updated,
        due=status is CallStatus.DEFERRED
        and next_at is not None
        and scope.now is not None
        and next_at <= scope.now,
    )


def pre_dial(
    session: Session, scope: DashboardScope, filters: DashboardFilters, *, limit: int = 200
) -> tuple[PreDialRow, ...]:
    """Deferred calls (with the next attempt and why) and calls failed before dialing (with
    the rule that stopped them), latest first, last changed inside the view's range.
    An inbound call is never stopped before dialing: an inbound view has none."""
    if filters.is_inbound:
        return ()
    rows = session.execute(_pre_dial_query(scope, filters).limit(limit))
    return tuple(_pre_dial_row(values, scope) for values in rows)


def every_pre_dial(
    session: Session, scope: DashboardScope, filters: DashboardFilters, *, batch: int = 2000
) -> Iterator[PreDialRow]:
    """Every call stopped before dialing in the view, in the page's order, in batches (the
    CSV export: memory stays flat)."""
    if filters.is_inbound:
        return
    query = _pre_dial_query(scope, filters).execution_options(yield_per=batch, stream_results=True)
    for values in session.execute(query):
        yield _pre_dial_row(values, scope)
