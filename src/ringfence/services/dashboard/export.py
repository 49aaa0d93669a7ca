"""CSV export of exactly the filtered call log, streamed in constant memory.

Rows come from the database in batches (`every_call`) and leave as CSV text a chunk at a
time, so a million-row export never holds more than one batch. Staff export what they see:
the same filters, the same order. No transcript text or recording is ever in the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ringfence.domain.compliance import zone
from ringfence.domain.dashboard.filters import DashboardFilters
from ringfence.services.dashboard.call_log import CallRow, every_call
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
_ROWS_PER_CHUNK: Final = 500


def csv_filename(scope: DashboardScope, filters: DashboardFilters) -> str:
    first, last = filters.days(scope.today)
    return f"outbound-calls-{filters.call_type.value}-{first.isoformat()}-to-{last.isoformat()}.csv"


def export_rows(
    session: Session, scope: DashboardScope, filters: DashboardFilters
) -> Iterator[str]:
    """The CSV text, header first, in chunks of a few hundred rows."""
    tz = zone(scope.time_zone)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    pending = 1
    for row in every_call(session, scope, filters):
        writer.writerow(_cells(row, tz, scope.time_zone))
        pending += 1
        if pending >= _ROWS_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()


def _cells(row: CallRow, tz: ZoneInfo, tz_name: str) -> tuple[object, ...]:
    local = row.dialed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if row.dialed_at else ""
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
