"""What a CSV contact import did (or, in a dry run, would do): one entry per row, by line.

The vocabulary of the import lives here so that the parser, the use case, the API schema and
the CLI all speak the same codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class ImportField(StrEnum):
    """A contact field a CSV column can fill. `ignore` leaves a column out on purpose."""

    PHONE = "phone"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    # Split into first and last name, used only when a row has neither.
    FULL_NAME = "full_name"
    EMAIL = "email"
    TAGS = "tags"
    ADDRESS_LINE1 = "address_line1"
    CITY = "city"
    STATE = "state"
    POSTAL_CODE = "postal_code"
    IGNORE = "ignore"


class RowStatus(StrEnum):
    """`created`: a new contact; `merged`: folded into an existing contact of the location or
    into an earlier line of the file with the same phone; `rejected`: not imported."""

    CREATED = "created"
    MERGED = "merged"
    REJECTED = "rejected"


class IssueCode(StrEnum):
    # Rejections: the row is not imported.
    NO_PHONE = "no_phone"
    INVALID_PHONE = "invalid_phone"
    INVALID_EMAIL = "invalid_email"
    INVALID_STATE = "invalid_state"
    INVALID_POSTAL_CODE = "invalid_postal_code"
    TOO_LONG = "too_long"
    UNKNOWN_TAG = "unknown_tag"
    # Warnings: the row is imported.
    NUMBER_NOT_US = "number_not_us"
    NUMBER_NOT_GEOGRAPHIC = "number_not_geographic"
    NO_FIRST_NAME = "no_first_name"
    EXTRA_CELLS = "extra_cells"
    KEPT_EXISTING_VALUE = "kept_existing_value"


class ImportPhase(StrEnum):
    """Progress callbacks name the phase: every row is validated, then (unless a dry run)
    the contacts are written."""

    VALIDATING = "validating"
    WRITING = "writing"


@dataclass(frozen=True, slots=True)
class RowIssue:
    """A reason a row was rejected, or a warning about an imported row.

    `column` is the CSV header the problem is in (None when it is about the row as a whole).
    """

    code: IssueCode
    message: str
    column: str | None = None


@dataclass(frozen=True, slots=True)
class RowReport:
    """One data row of the file. `line` is the physical line the row starts on (header = 1).

    `contact_id` is the contact the row created or merged into; None for a rejected row and,
    in a dry run, for a contact that would be created. `duplicate_of_line` is the earlier line
    of the file with the same phone number.
    """

    line: int
    status: RowStatus
    phone: str | None
    contact_id: int | None = None
    duplicate_of_line: int | None = None
    reasons: tuple[RowIssue, ...] = ()
    warnings: tuple[RowIssue, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportTotals:
    """`warnings` counts warnings (a row can have several), the others count rows."""

    rows: int
    created: int
    merged: int
    rejected: int
    warnings: int


@dataclass(frozen=True, slots=True)
class ImportReport:
    location_id: int
    dry_run: bool
    delimiter: str
    mapping: Mapping[str, ImportField]
    ignored_columns: tuple[str, ...]
    rows: tuple[RowReport, ...]

    @property
    def totals(self) -> ImportTotals:
        def count(status: RowStatus) -> int:
            return sum(1 for row in self.rows if row.status is status)

        return ImportTotals(
            rows=len(self.rows),
            created=count(RowStatus.CREATED),
            merged=count(RowStatus.MERGED),
            rejected=count(RowStatus.REJECTED),
            warnings=sum(len(row.warnings) for row in self.rows),
        )
