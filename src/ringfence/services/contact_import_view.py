"""What the staff "Import contacts" page shows, read off the import's own services.

Nothing here parses, maps, validates or merges a row: `contact_import_csv` reads the file and
guesses the columns, `contact_import` runs the import. This module only checks what a browser
upload adds (a file name, a size, a spreadsheet saved as something else), puts the service's
answers in staff words, and writes the row report as a CSV download.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Location
from ringfence.services.contact_import_csv import (
    CsvRecord,
    decode_csv,
    read_table,
    resolve_columns,
)
from ringfence.services.contact_import_report import (
    ImportField,
    ImportReport,
    IssueCode,
    RowIssue,
    RowStatus,
)
from ringfence.services.errors import InvalidField

# The API's own limit on `csv_text` (`MAX_CSV_CHARS` of its schema: the web entrypoint may not
# import the API's, and a test holds the two equal), in bytes: a file within it has no more
# characters than that.
MAX_UPLOAD_BYTES: Final = 5_000_000
# Room for the form's other fields and the multipart boundaries under the request limit, so a
# file the page accepts is never refused whole by the server's body-size limit.
FORM_OVERHEAD_BYTES: Final = 16_384
PREVIEW_ROWS: Final = 5
SHOWN_PROBLEMS: Final = 500  # on the page; the download has every row
_TEXT_SUFFIXES: Final = (".csv", ".txt", ".tsv")

FIELD_LABELS: Final = {
    ImportField.PHONE: "Phone number",
    ImportField.FIRST_NAME: "First name",
    ImportField.LAST_NAME: "Last name",
    ImportField.FULL_NAME: "Full name (split into first and last)",
    ImportField.EMAIL: "Email",
    ImportField.TAGS: "Tags",
    ImportField.ADDRESS_LINE1: "Street address",
    ImportField.CITY: "City",
    ImportField.STATE: "State",
    ImportField.POSTAL_CODE: "ZIP code",
    ImportField.IGNORE: "Don't import this column",
}
ISSUE_LABELS: Final = {
    IssueCode.NO_PHONE: "No phone number",
    IssueCode.INVALID_PHONE: "Phone number not valid",
    IssueCode.INVALID_EMAIL: "Email address not valid",
    IssueCode.INVALID_STATE: "State not valid",
    IssueCode.INVALID_POSTAL_CODE: "ZIP code not valid",
    IssueCode.TOO_LONG: "Too long",
    IssueCode.UNKNOWN_TAG: "Tag not set up yet",
    IssueCode.NUMBER_NOT_US: "Not a US number: imported, never called",
    IssueCode.NUMBER_NOT_GEOGRAPHIC: "Toll-free number: imported, never called",
    IssueCode.NO_FIRST_NAME: "No first name",
    IssueCode.EXTRA_CELLS: "Extra cells ignored",
    IssueCode.KEPT_EXISTING_VALUE: "Kept the value already on file",
}
RESULT_LABELS: Final = {
    (RowStatus.CREATED, False): "New contact",
    (RowStatus.MERGED, False): "Merged into an existing contact",
    (RowStatus.REJECTED, False): "Skipped",
    (RowStatus.CREATED, True): "Would be a new contact",
    (RowStatus.MERGED, True): "Would be merged into an existing contact",
    (RowStatus.REJECTED, True): "Would be skipped",
}
CONSENT_NOTICE: Final = (
    "Importing a contact never records consent to be called: imported contacts are not "
    "called until someone confirms their written consent is on file."
)


def upload_limit(max_request_bytes: int) -> int:
    """The largest file the page takes: the API's limit, or less under a smaller request
    limit (then the page's own error names it, not the server's bare refusal)."""
    return max(1, min(MAX_UPLOAD_BYTES, max_request_bytes - FORM_OVERHEAD_BYTES))


def size_in_words(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{max(1, round(size / 1000))} KB"


def read_upload(filename: str, data: bytes, *, max_bytes: int) -> str:
    """The text of an uploaded CSV, else `InvalidField("file", ...)` in staff words.

    The service still reads (and may refuse) the text on every step; this only catches what
    is wrong with the file as such before it is kept.
    """
    name = filename or "The file"
    if not filename:
        raise InvalidField("file", "Choose a CSV file to upload.")
    if not filename.lower().endswith(_TEXT_SUFFIXES) or b"\x00" in data[:4096]:
        raise InvalidField(
            "file",
            f"“{name}” is not a CSV file. In Excel or Google Sheets, save or download the "
            "sheet as “CSV UTF-8” and upload that.",
        )
    if len(data) > max_bytes:
        raise InvalidField(
            "file",
            f"“{name}” is too large: the limit is {size_in_words(max_bytes)}. Split it into "
            "smaller files and import each one.",
        )
    if not data.strip():
        raise InvalidField("file", f"“{name}” is empty: it has no header row and no contacts.")
    try:
        text = decode_csv(data)
        table = read_table(text)
    except InvalidField as exc:
        raise InvalidField("file", f"“{name}” cannot be read: {exc.message}.") from exc
    if not table.records:
        raise InvalidField("file", f"“{name}” has a header row but no contacts under it.")
    return text


@dataclass(frozen=True, slots=True)
class Column:
    index: int
    header: str
    choice: ImportField  # the field the column is read into (guessed, or as staff chose)


@dataclass(frozen=True, slots=True)
class MappingStep:
    columns: tuple[Column, ...]
    preview: tuple[CsvRecord, ...]
    rows: int
    delimiter: str


def mapping_step(csv_text: str, chosen: Mapping[str, str] | None = None) -> MappingStep:
    """The file's columns, each with the field it will fill (`chosen`, else the service's
    guess by header name), and its first rows as the service splits them."""
    table = read_table(csv_text)
    guessed = guess_mapping(table.headers)
    columns = []
    for index, header in enumerate(table.headers):
        value = (chosen or {}).get(header) if chosen is not None else guessed.get(header)
        try:
            choice = ImportField(value) if value else ImportField.IGNORE
        except ValueError:
            choice = ImportField.IGNORE
        columns.append(Column(index, header, choice))
    return MappingStep(
        columns=tuple(columns),
        preview=table.records[:PREVIEW_ROWS],
        rows=len(table.records),
        delimiter=table.delimiter,
    )


def guess_mapping(headers: tuple[str, ...]) -> dict[str, ImportField]:
    """The columns the import recognises by name, exactly as it would without a mapping."""
    try:
        return dict(resolve_columns(headers, None).mapping)
    except InvalidField:
        # No phone column recognised, so the service refuses the whole guess; the other
        # columns are still worth pre-filling. A stand-in phone column lets the service guess
        # them by its own rules (then it is dropped): none of theirs is re-implemented here.
        stand_in = "\x00phone"
        columns = resolve_columns((*headers, stand_in), {stand_in: ImportField.PHONE.value})
        return {h: f for h, f in columns.mapping.items() if h != stand_in}


def mapping_from_form(headers: Iterable[str], values: Mapping[str, str]) -> dict[str, str]:
    """`{header: field}` for the service from the form's `column-<index>` selects. Every
    named column is sent, "don't import" included, so a column staff left out is not put
    back by the name guessing."""
    mapping: dict[str, str] = {}
    for index, header in enumerate(headers):
        if header:
            mapping[header] = values.get(f"column-{index}", ImportField.IGNORE.value)
    return mapping


def twice_chosen(mapping: Mapping[str, str]) -> dict[str, str]:
    """Per column, a plain error when its field is chosen for an earlier column too."""
    errors: dict[str, str] = {}
    seen: dict[str, str] = {}
    for header, value in mapping.items():
        if value == ImportField.IGNORE.value:
            continue
        if value in seen:
            label = _label(value)
            errors[header] = f"“{label}” is already chosen for column “{seen[value]}”."
        else:
            seen[value] = header
    return errors


def _label(value: str) -> str:
    try:
        return FIELD_LABELS[ImportField(value)]
    except ValueError:
        return value


def account_locations(session: Session, account_id: int) -> list[Location]:
    query = select(Location).where(Location.account_id == account_id).order_by(Location.name)
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    skipped: bool  # a rejection (the row was not imported), not a warning
    column: str
    title: str
    detail: str


def problems(report: ImportReport) -> list[Problem]:
    """Every reason and warning of the report, by line: rejections before warnings."""
    found: list[Problem] = []
    for row in report.rows:
        for issue in row.reasons:
            found.append(_problem(row.line, True, issue))
        for issue in row.warnings:
            found.append(_problem(row.line, False, issue))
    return found


def _problem(line: int, skipped: bool, issue: RowIssue) -> Problem:
    return Problem(
        line=line,
        skipped=skipped,
        column=issue.column or "whole row",
        title=ISSUE_LABELS.get(issue.code, issue.code.value),
        detail=plain(issue.message),
    )


def plain(message: str) -> str:
    """A service message with its field names in words ("first_name" → "first name")."""
    for name, words in _FIELD_WORDS.items():
        message = message.replace(name, words)
    return message


_FIELD_WORDS: Final = {
    "first_name": "first name",
    "last_name": "last name",
    "full_name": "full name",
    "address_line1": "street address",
    "postal_code": "ZIP code",
}


REPORT_HEADER: Final = ("Line", "Result", "Problems")


def report_csv(csv_text: str, report: ImportReport) -> str:
    """The row report as a CSV: each data row of the file with its line, what happened to it
    and its problems in front, so the file can be fixed and imported again.

    Every cell from the file (and every message quoting it) is defused like the call log
    export's: a cell starting with = + - @ is prefixed with ' so a spreadsheet shows it as
    text instead of running it ("=HYPERLINK(...)" as a patient's name).
    """
    table = read_table(csv_text)
    by_line = {row.line: row for row in report.rows}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*REPORT_HEADER, *(_safe(h) for h in table.headers)])
    for record in table.records:
        row = by_line.get(record.line)
        if row is None:  # pragma: no cover - the report has every record of the same text
            continue
        notes = [
            f"{issue.column or 'whole row'}: {ISSUE_LABELS[issue.code]} ({plain(issue.message)})"
            for issue in (*row.reasons, *row.warnings)
        ]
        writer.writerow(
            [
                record.line,
                RESULT_LABELS[(row.status, report.dry_run)],
                _safe("; ".join(notes)),
                *(_safe(cell) for cell in record.cells),
            ]
        )
    return buffer.getvalue()


def _safe(text: str) -> str:
    # The same rule as services/dashboard/export.py's `_safe`.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
