"""CSV contact imports and bulk confirmation of written consent."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

from ringfence.entrypoints.api.schemas.common import Body, Id
from ringfence.services.consent import ATTESTATION
from ringfence.services.contact_import_csv import MAX_ROWS
from ringfence.services.contact_import_report import (
    ImportField,
    ImportReport,
    IssueCode,
    RowIssue,
    RowStatus,
)
from ringfence.services.written_consent import MAX_CONTACTS

MAX_CSV_CHARS = 5_000_000

Header = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ContactImportCreate(Body):
    location_id: Id
    csv_text: Annotated[
        # Not stripped: leading blank lines still count in the reported line numbers.
        str,
        StringConstraints(min_length=1, max_length=MAX_CSV_CHARS, strip_whitespace=False),
    ] = Field(
        description=(
            f"The file's text (UTF-8; a byte-order mark is ignored), at most {MAX_CSV_CHARS} "
            f"characters and {MAX_ROWS} rows. The first non-blank line is the header; the "
            "delimiter (comma, semicolon or tab) is detected from it."
        )
    )
    mapping: dict[Header, ImportField] | None = Field(
        default=None,
        max_length=100,
        description=(
            "`{column header: field}` for columns whose header is not recognised (or to "
            "override one; `ignore` skips a column). Headers not named here are recognised "
            "by name: phone/mobile/cell, first name, last name, full name, email, tags, "
            "address, city, state, zip."
        ),
    )
    dry_run: bool = Field(description="true: validate and report only, write nothing")


class IssueOut(BaseModel):
    code: IssueCode
    message: str
    column: str | None = Field(description="The CSV column the problem is in")

    @classmethod
    def of(cls, issue: RowIssue) -> IssueOut:
        return cls(code=issue.code, message=issue.message, column=issue.column)


class ImportRowOut(BaseModel):
    line: int = Field(description="The line of the file the row starts on (header = 1)")
    status: RowStatus
    phone: str | None = Field(description="E.164, when the row's number is valid")
    contact_id: int | None = Field(
        description="The contact created or merged into (null: rejected, or new in a dry run)"
    )
    duplicate_of_line: int | None = Field(description="An earlier line with the same number")
    reasons: list[IssueOut] = Field(description="Why the row was rejected")
    warnings: list[IssueOut]


class ImportTotalsOut(BaseModel):
    rows: int
    created: int
    merged: int
    rejected: int
    warnings: int = Field(description="Warnings in all (a row can have several)")


class ContactImportOut(BaseModel):
    location_id: int
    dry_run: bool
    delimiter: str
    mapping: dict[str, ImportField] = Field(description="The column each field was read from")
    ignored_columns: list[str]
    totals: ImportTotalsOut
    rows: list[ImportRowOut]

    @classmethod
    def of(cls, report: ImportReport) -> ContactImportOut:
        totals = report.totals
        return cls(
            location_id=report.location_id,
            dry_run=report.dry_run,
            delimiter=report.delimiter,
            mapping=dict(report.mapping),
            ignored_columns=list(report.ignored_columns),
            totals=ImportTotalsOut(
                rows=totals.rows,
                created=totals.created,
                merged=totals.merged,
                rejected=totals.rejected,
                warnings=totals.warnings,
            ),
            rows=[
                ImportRowOut(
                    line=row.line,
                    status=row.status,
                    phone=row.phone,
                    contact_id=row.contact_id,
                    duplicate_of_line=row.duplicate_of_line,
                    reasons=[IssueOut.of(issue) for issue in row.reasons],
                    warnings=[IssueOut.of(issue) for issue in row.warnings],
                )
                for row in report.rows
            ],
        )


class ManualWrittenConsentCreate(Body):
    contact_ids: list[Id] = Field(min_length=1, max_length=MAX_CONTACTS)
    confirmed_by: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Who confirmed that the written consent is on file"
    )
    note: Annotated[str, StringConstraints(min_length=1, max_length=20_000)] = Field(
        description="Where the written consent is kept (e.g. 'signed intake forms, binder 3')"
    )
    attestation: bool = Field(description=f'Must be true: "{ATTESTATION}".')

    @field_validator("attestation")
    @classmethod
    def _attested(cls, value: bool) -> bool:
        if not value:
            raise ValueError(f"must be true: {ATTESTATION!r}")
        return value


class ManualWrittenConsentOut(BaseModel):
    recorded_at: datetime
    contact_ids: list[int]
    consent_record_ids: list[int] = Field(description="One record per contact, in that order")
