"""CSV exports of exactly the filtered call log, and of the calls stopped before dialing,
streamed in constant memory.

Rows come from the database in batches (`every_call`) and leave as CSV text a chunk at a
time, so a million-row export never holds more than one batch. Staff export what they see:
the same filters, the same order. No transcript text or recording is ever in the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ringfence.domain.compliance import zone
from ringfence.domain.dashboard.filters import DashboardFilters
from ringfence.domain.vocabulary import CallStatus
from ringfence.services.dashboard.call_log import CallRow, PreDialRow, every_call, every_pre_dial
from ringfence.services.dashboard.scope import DashboardScope

HEADER: Final = (
    "Call ID",
    "Date/Time",
    "Time Zone",
    "Call Status",
    "Workflow Name",
    "Action Name",
    "Purpose",
    "Call Type",
    "Contact",
    "Phone",
    "Caller ID",
    "Duration (s)",
    "Sentiment",
    "Recording",
    "Transcript",
)
# The calls the gate deferred or failed before any dial (the page's "Stopped before dialing").
PRE_DIAL_HEADER: Final = (
    "Call ID",
    "Outcome",
    "Reason Code",
    "Reason",
    "Next Attempt",
    "Last Change",
    "Time Zone",
    "Workflow Name",
    "Action Name",
    "Contact",
)
_ROWS_PER_CHUNK: Final = 500


def csv_filename(scope: DashboardScope, filters: DashboardFilters) -> str:
    first, last = filters.days(scope.today)
    kind = f"{filters.direction.value}-calls-{filters.call_type.value}"
    return f"{kind}-{first.isoformat()}-to-{last.isoformat()}.csv"


def export_rows(
    session: Session, scope: DashboardScope, filters: DashboardFilters
) -> Iterator[str]:
    """The call log's CSV text, header first, in chunks of a few hundred rows (inbound: the
    same columns, Date/Time being when the call was answered and Caller ID the practice line
    that was called)."""
    tz = zone(scope.time_zone)
    cells = (_cells(row, tz, scope.time_zone) for row in every_call(session, scope, filters))
    return _chunks(HEADER, cells)


def export_pre_dial_rows(
    session: Session, scope: DashboardScope, filters: DashboardFilters
) -> Iterator[str]:
    """The CSV text of the calls stopped before dialing in the view (deferred, with the next
    attempt and why; failed, with the rule), header first, in chunks."""
    tz = zone(scope.time_zone)
    rows = every_pre_dial(session, scope, filters)
    return _chunks(PRE_DIAL_HEADER, (_pre_dial_cells(row, tz, scope.time_zone) for row in rows))


def pre_dial_csv_filename(scope: DashboardScope, filters: DashboardFilters) -> str:
    return csv_filename(scope, filters).replace("outbound-calls-", "stopped-before-dialing-", 1)


def _chunks(header: tuple[str, ...], rows: Iterator[tuple[object, ...]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    pending = 1
    for cells in rows:
        writer.writerow(cells)
        pending += 1
        if pending >= _ROWS_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def _pre_dial_cells(row: PreDialRow, tz: ZoneInfo, tz_name: str) -> tuple[object, ...]:
    def local(at: datetime | None) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if at else ""

    if row.status is CallStatus.FAILED:
        outcome, next_attempt = "Failed before dialing", ""
    elif row.due:  # its time has come: it waits for a dialing slot (pacing)
        outcome, next_attempt = "Deferred (due now)", local(row.next_attempt_at)
    else:
        outcome, next_attempt = "Deferred", local(row.next_attempt_at)
    return (
        row.job_id,
        outcome,
        row.reason_code or "",
        _safe(row.reason_text or ""),
        next_attempt,
        local(row.updated_at),
        tz_name,
        _safe(row.workflow_name or ""),
        _safe(row.action_name),
        _safe(row.contact_name),
    )


def _cells(row: CallRow, tz: ZoneInfo, tz_name: str) -> tuple[object, ...]:
    local = row.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if row.at else ""
    return (
        row.job_id,
        local,
        tz_name,
        row.status_label,
        _safe(row.workflow_name or ""),
        _safe(row.action_name),
        row.purpose.value,
        row.call_type.value,
        _safe(row.contact_name),
        row.phone_e164 or "",
        row.caller_id or "",
        row.duration_seconds if row.duration_seconds is not None else "",
        row.sentiment or "",
        "yes" if row.has_recording else "no",
        "yes" if row.has_transcript else "no",
    )


def _safe(text: str) -> str:
    """Defuse spreadsheet formulas in text staff or patients typed ("=HYPERLINK(...)" as a
    contact's, workflow's or step's name). The other cells are Ringfence's own values (a
    number, a time, an E.164 number, a status), never a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
