"""Reading a contacts CSV: decoding, delimiter, column mapping and per-row validation.

Pure functions over text (no database, no clock): the use case in `contact_import` gathers
what the database knows (tags, existing contacts) and applies the result.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ringfence.domain.compliance import DEFAULT_POLICY, ReasonCode
from ringfence.domain.compliance.gate import check_number
from ringfence.domain.phone import InvalidPhoneNumber, to_e164
from ringfence.services.contact_import_report import ImportField, IssueCode, RowIssue
from ringfence.services.errors import InvalidField

if TYPE_CHECKING:
    from _csv import Reader

MAX_ROWS = 50_000
DELIMITERS = (",", ";", "\t")  # in order of preference when a header line is ambiguous

# Header spellings recognised without a mapping, after `_normal()`. When two columns match
# one field, the left-most wins and the other is reported as ignored.
SYNONYMS: Mapping[str, ImportField] = {
    **dict.fromkeys(
        (
            "phone",
            "phone number",
            "phone no",
            "mobile",
            "mobile phone",
            "mobile number",
            "cell",
            "cell phone",
            "cellphone",
            "cell number",
            "telephone",
            "tel",
            "phone e164",
        ),
        ImportField.PHONE,
    ),
    **dict.fromkeys(
        ("first name", "firstname", "given name", "first", "fname"), ImportField.FIRST_NAME
    ),
    **dict.fromkeys(
        ("last name", "lastname", "surname", "family name", "last", "lname"),
        ImportField.LAST_NAME,
    ),
    **dict.fromkeys(("full name", "fullname", "name", "contact name"), ImportField.FULL_NAME),
    **dict.fromkeys(("email", "e mail", "email address", "e mail address"), ImportField.EMAIL),
    **dict.fromkeys(("tags", "tag"), ImportField.TAGS),
    **dict.fromkeys(
        ("address", "address line 1", "address1", "street", "street address"),
        ImportField.ADDRESS_LINE1,
    ),
    **dict.fromkeys(("city", "town"), ImportField.CITY),
    **dict.fromkeys(("state", "state code"), ImportField.STATE),
    **dict.fromkeys(
        ("zip", "zip code", "zipcode", "postal code", "postcode"), ImportField.POSTAL_CODE
    ),
}

# The same limits the contacts API applies to these fields (and the columns' sizes).
MAX_LENGTH: Mapping[ImportField, int] = {
    ImportField.FIRST_NAME: 100,
    ImportField.LAST_NAME: 100,
    ImportField.EMAIL: 254,
    ImportField.TAGS: 100,  # per tag
    ImportField.ADDRESS_LINE1: 200,
    ImportField.CITY: 100,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STATE = re.compile(r"^[A-Z]{2}$")
_POSTAL = re.compile(r"^\d{5}(-\d{4})?$")
_TAG_SPLIT = re.compile(r"[,;|]")


@dataclass(frozen=True, slots=True)
class CsvRecord:
    line: int  # the physical line the record starts on
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CsvTable:
    delimiter: str
    header_line: int
    headers: tuple[str, ...]
    records: tuple[CsvRecord, ...]


@dataclass(frozen=True, slots=True)
class Columns:
    """Which column index fills which field, and the headers for the report."""

    headers: tuple[str, ...]
    index: Mapping[ImportField, int]

    @property
    def mapping(self) -> dict[str, ImportField]:
        return {self.headers[i]: field for field, i in sorted(self.index.items(), key=_by_col)}

    @property
    def ignored(self) -> tuple[str, ...]:
        used = set(self.index.values())
        return tuple(h for i, h in enumerate(self.headers) if h and i not in used)


def _by_col(item: tuple[ImportField, int]) -> int:
    return item[1]


@dataclass(frozen=True, slots=True)
class ContactFields:
    """The values a row brings (or a contact has) for the fields an import may fill."""

    first_name: str = ""
    last_name: str = ""
    email: str | None = None
    address_line1: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RowDraft:
    line: int
    phone: str | None  # E.164 when the cell held a valid number
    fields: ContactFields
    reasons: tuple[RowIssue, ...] = ()
    warnings: tuple[RowIssue, ...] = ()

    @property
    def rejected(self) -> bool:
        return bool(self.reasons)


def decode_csv(data: bytes) -> str:
    """UTF-8 text (a byte-order mark is dropped); anything else is a fatal, located error."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidField(
            "csv_text",
            f"line {line}: the file is not UTF-8 text (in Excel, save it as 'CSV UTF-8')",
        ) from exc


def read_table(text: str, *, max_rows: int = MAX_ROWS) -> CsvTable:
    """Split `text` into a header and records, remembering each record's first line.

    Blank lines (and rows whose cells are all empty, as spreadsheets export them) are
    skipped but still counted, so line numbers match what an editor shows. Broken quoting
    is fatal: an unterminated quote would otherwise swallow the rest of the file.
    """
    text = text.removeprefix("\ufeff")
    delimiter = _sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    headers: tuple[str, ...] | None = None
    header_line = 0
    records: list[CsvRecord] = []
    for line, cells in _records(reader):
        if not any(cell.strip() for cell in cells):
            continue
        if headers is None:
            headers, header_line = tuple(cell.strip() for cell in cells), line
            continue
        if len(records) == max_rows:
            raise InvalidField(
                "csv_text", f"more than {max_rows} rows; split the file and import each part"
            )
        records.append(CsvRecord(line, tuple(cells)))
    if headers is None:
        raise InvalidField("csv_text", "the file is empty (no header row)")
    return CsvTable(delimiter, header_line, headers, tuple(records))


def _records(reader: Reader) -> Iterator[tuple[int, list[str]]]:
    line_num = 0
    while True:
        start = line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidField("csv_text", f"line {start}: malformed CSV ({exc})") from exc
        line_num = reader.line_num
        yield start, cells


def _sniff(text: str) -> str:
    """The delimiter that splits the first non-blank line into the most columns."""
    first = next((line for line in io.StringIO(text, newline=None) if line.strip()), "")
    first = first.rstrip("\n")
    best, best_count = DELIMITERS[0], 0
    for delimiter in DELIMITERS:
        try:
            count = len(next(csv.reader([first], delimiter=delimiter), []))
        except csv.Error:
            continue
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _normal(header: str) -> str:
    return " ".join(re.sub(r"[_\-.#/]+", " ", header.lower()).split())


def resolve_columns(headers: tuple[str, ...], explicit: Mapping[str, str] | None) -> Columns:
    """The explicit `{header: field}` entries first, then headers recognised by name.

    An explicit entry naming a column that isn't there, an unknown field, or a field mapped
    twice is an error naming `mapping.<header>`; no phone column at all is an error on
    `mapping`. Both are fatal: nothing is imported.
    """
    index: dict[ImportField, int] = {}
    taken: set[int] = set()
    for key, value in (explicit or {}).items():
        field_name = f"mapping.{key}"
        column = _find_column(headers, key, field_name)
        try:
            field = ImportField(value)
        except ValueError as exc:
            choices = ", ".join(f.value for f in ImportField)
            raise InvalidField(field_name, f"unknown field {value!r} (one of: {choices})") from exc
        taken.add(column)
        if field is ImportField.IGNORE:
            continue
        if field in index:
            other = headers[index[field]]
            raise InvalidField(field_name, f"{field.value} is already mapped from {other!r}")
        index[field] = column
    for column, header in enumerate(headers):
        detected = SYNONYMS.get(_normal(header))
        if column in taken or detected is None or detected in index:
            continue
        index[detected] = column
    if ImportField.PHONE not in index:
        names = ", ".join(repr(h) for h in headers if h) or "none"
        raise InvalidField(
            "mapping",
            f"no column is mapped to phone (columns: {names}); map the phone column to 'phone'",
        )
    return Columns(headers, index)


def _find_column(headers: tuple[str, ...], key: str, field_name: str) -> int:
    wanted = key.strip()
    exact = [i for i, h in enumerate(headers) if h == wanted]
    matches = exact or [i for i, h in enumerate(headers) if h and _normal(h) == _normal(wanted)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidField(field_name, f"several columns are named {wanted!r}; rename one")
    names = ", ".join(repr(h) for h in headers if h) or "none"
    raise InvalidField(field_name, f"no column named {wanted!r} (columns: {names})")


def validate_row(record: CsvRecord, columns: Columns) -> RowDraft:
    """Every problem of one row: reasons (the row is rejected) and warnings (it is imported).

    Numbers outside the US (Canada and the other +1 regions included) and toll-free numbers
    are imported with a warning, not rejected: they are valid numbers of real patients (a
    Canadian snowbird is still the practice's patient), the contacts API accepts them too, and
    the compliance gate fails any call to them before dialing (`number_not_us`,
    `number_not_geographic`), so importing them can never lead to a call. Rejecting them would
    drop the rest of the contact's data on every re-import.

    Any other bad value (email, state, ZIP, an over-long name) rejects the row rather than
    being dropped silently: the preview shows it, and a fixed file can be imported again.
    """
    row = _Row(record, columns)
    phone = row.phone()
    first, last = row.text(ImportField.FIRST_NAME), row.text(ImportField.LAST_NAME)
    full = row.cell(ImportField.FULL_NAME)
    if not first and not last and full:
        first, last = split_full_name(full)
        if max(len(first), len(last)) > MAX_LENGTH[ImportField.FIRST_NAME]:
            row.reject(IssueCode.TOO_LONG, "name longer than 100 characters", ImportField.FULL_NAME)
    email = row.text(ImportField.EMAIL).lower() or None
    if email is not None and not _EMAIL.match(email):
        row.reject(IssueCode.INVALID_EMAIL, f"not an email address: {email!r}", ImportField.EMAIL)
    state = row.cell(ImportField.STATE).upper() or None
    if state is not None and not _STATE.match(state):
        row.reject(
            IssueCode.INVALID_STATE, f"not a 2-letter state code: {state!r}", ImportField.STATE
        )
    postal = row.cell(ImportField.POSTAL_CODE) or None
    if postal is not None and not _POSTAL.match(postal):
        hint = " (a leading zero lost by a spreadsheet?)" if postal.isdigit() else ""
        row.reject(
            IssueCode.INVALID_POSTAL_CODE,
            f"not a US ZIP code: {postal!r}{hint}",
            ImportField.POSTAL_CODE,
        )
    tags = split_tags(row.cell(ImportField.TAGS))
    if any(len(tag) > MAX_LENGTH[ImportField.TAGS] for tag in tags):
        row.reject(IssueCode.TOO_LONG, "a tag is longer than 100 characters", ImportField.TAGS)
    extra = [cell for cell in record.cells[len(columns.headers) :] if cell.strip()]
    if extra:
        row.warn(
            IssueCode.EXTRA_CELLS,
            f"{len(extra)} cell(s) beyond the last column were ignored (an unquoted delimiter?)",
        )
    fields = ContactFields(
        first_name=first,
        last_name=last,
        email=email,
        address_line1=row.text(ImportField.ADDRESS_LINE1) or None,
        city=row.text(ImportField.CITY) or None,
        state=state,
        postal_code=postal,
        tags=tags,
    )
    return RowDraft(record.line, phone, fields, tuple(row.reasons), tuple(row.warnings))


class _Row:
    """One record's cells by field, and the issues found so far."""

    def __init__(self, record: CsvRecord, columns: Columns) -> None:
        self.record = record
        self.columns = columns
        self.reasons: list[RowIssue] = []
        self.warnings: list[RowIssue] = []

    def column(self, field: ImportField) -> str | None:
        i = self.columns.index.get(field)
        return None if i is None else self.columns.headers[i]

    def cell(self, field: ImportField) -> str:
        i = self.columns.index.get(field)
        cells = self.record.cells
        return cells[i].strip() if i is not None and i < len(cells) else ""

    def text(self, field: ImportField) -> str:
        value = self.cell(field)
        limit = MAX_LENGTH[field]
        if len(value) <= limit:
            return value
        self.reject(IssueCode.TOO_LONG, f"longer than {limit} characters", field)
        return ""

    def reject(self, code: IssueCode, message: str, field: ImportField | None = None) -> None:
        self.reasons.append(RowIssue(code, message, self.column(field) if field else None))

    def warn(self, code: IssueCode, message: str, field: ImportField | None = None) -> None:
        self.warnings.append(RowIssue(code, message, self.column(field) if field else None))

    def phone(self) -> str | None:
        raw = self.cell(ImportField.PHONE)
        if not raw:
            self.reject(IssueCode.NO_PHONE, "no phone number", ImportField.PHONE)
            return None
        try:
            e164 = to_e164(raw)
        except InvalidPhoneNumber as exc:
            self.reject(IssueCode.INVALID_PHONE, str(exc), ImportField.PHONE)
            return None
        # The gate's own number rule, so the warning says exactly what the gate will decide.
        check, info = check_number(e164, DEFAULT_POLICY)
        if check.reason is ReasonCode.NUMBER_NOT_US:
            where = f"region {info.region}" if info.region else "outside the +1 area"
            self.warn(
                IssueCode.NUMBER_NOT_US,
                f"{e164} is not a US number ({where}): imported, but never called "
                "(outbound AI calls are US-only)",
                ImportField.PHONE,
            )
        elif check.reason is ReasonCode.NUMBER_NOT_GEOGRAPHIC:
            self.warn(
                IssueCode.NUMBER_NOT_GEOGRAPHIC,
                f"{e164} is toll-free or non-geographic: imported, but never called "
                "(it has no time zone to hold the calling window against)",
                ImportField.PHONE,
            )
        elif check.reason is not None:  # pragma: no cover - libphonenumber said it was valid
            self.reject(IssueCode.INVALID_PHONE, f"not a valid phone number: {raw!r}")
            return None
        return e164


def split_full_name(full: str) -> tuple[str, str]:
    """`Last, First` by its comma; otherwise the first word is the first name and the rest
    the last name ("Ava de la Cruz" keeps her surname whole; the agent greets by first name).
    """
    if "," in full:
        last, _, first = full.partition(",")
        return " ".join(first.split()), " ".join(last.split())
    words = full.split()
    return (words[0], " ".join(words[1:])) if words else ("", "")


def split_tags(value: str) -> tuple[str, ...]:
    """Tag names in one cell, separated by commas, semicolons or bars; duplicates once."""
    names = (part.strip() for part in _TAG_SPLIT.split(value))
    return tuple(dict.fromkeys(name for name in names if name))
