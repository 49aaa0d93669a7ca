"""Importing contacts from a CSV file into one location: preview (dry run) or commit.

The product description: contacts "added by import [...] do not pass automated opt-in checks
at launch — you must confirm written consent for those records manually". So an import never
creates consent records: imported contacts have source `import` and stay uncallable until
staff confirm written consent (`services.written_consent`).

Rows are matched on the phone number (E.164) within the location, the same key the contacts
table is unique on. A row whose number is already a contact of the location, or appears on an
earlier line of the file, is *merged*: it fills the contact's empty fields, never overwrites
a non-empty one (a `kept_existing_value` warning shows the difference) and adds its tags. A
merge never changes a contact's source, DND, opt-out or consent evidence.

An import fires no workflow triggers (a tag it adds enrolls nobody): it is a bulk data load,
and one file enrolling thousands of contacts at once is exactly the "full contact database"
launch the product description warns against.

Everything is written in the caller's transaction; the caller commits. Any fatal error (an
unreadable file, no phone column, a database error mid-way) raises, so nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Contact, Location, Tag
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.domain.vocabulary import ContactSource
from ringfence.services import audit
from ringfence.services.contact_import_csv import (
    MAX_ROWS,
    Columns,
    ContactFields,
    RowDraft,
    read_table,
    resolve_columns,
    validate_row,
)
from ringfence.services.contact_import_report import (
    ImportField,
    ImportPhase,
    ImportReport,
    IssueCode,
    RowIssue,
    RowReport,
    RowStatus,
)
from ringfence.services.suppression_bulk import lock_account, suppress_numbers, tag_suppressed
from ringfence.services.tenancy import referenced
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

ProgressCallback = Callable[[ImportPhase, int, int], None]
"""Called with (phase, rows done, rows in all) as the import advances."""

FLUSH_EVERY = 500
_IN_CHUNK = 500  # ids/phones per IN (...) list: well under every driver's parameter limit

# Filled when empty, never overwritten: a CRM record edited by staff wins over a file.
MERGEABLE = ("first_name", "last_name", "email", "address_line1", "city", "state", "postal_code")


def run_import(
    *,
    uow: UnitOfWork,
    scope: TenantScope,
    location_id: int,
    csv_text: str,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """`import_contacts` as one use case: committed unless `dry_run` (then nothing is)."""
    report = import_contacts(
        uow.session,
        scope,
        location_id=location_id,
        csv_text=csv_text,
        mapping=mapping,
        dry_run=dry_run,
        now=uow.clock.now(),
        progress=progress,
    )
    if not dry_run:
        uow.commit()
    return report


def import_contacts(
    session: Session,
    scope: TenantScope,
    *,
    location_id: int,
    csv_text: str,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool,
    now: datetime,
    progress: ProgressCallback | None = None,
    max_rows: int = MAX_ROWS,
) -> ImportReport:
    """Validate every row of `csv_text`, plan creates and merges, and unless `dry_run` write
    them with one audit entry for the import. Returns the per-row report either way."""
    location = referenced(session, Location, location_id, scope, field="location_id")
    table = read_table(csv_text, max_rows=max_rows)
    columns = resolve_columns(table.headers, mapping)
    report_progress = progress or _no_progress
    drafts: list[RowDraft] = []
    for done, record in enumerate(table.records, start=1):
        drafts.append(validate_row(record, columns))
        report_progress(ImportPhase.VALIDATING, done, len(table.records))
    tags = _account_tags(
        session, scope, (t for d in drafts if not d.rejected for t in d.fields.tags)
    )
    drafts = [_check_tags(draft, tags, columns) for draft in drafts]
    existing = _existing_contacts(session, location, (d.phone for d in drafts if not d.rejected))
    plan = plan_merges(
        drafts,
        {phone: (c.id, _fields_of(c)) for phone, c in existing.items()},
        columns,
    )
    contact_ids = {phone: target.existing_id for phone, target in plan.targets.items()}
    if not dry_run:
        # The account's numbers are locked before any row is written (advisory locks before
        # row locks, as every other writer takes them), held to the end of the transaction.
        lock_account(session, scope.account_id)
        contact_ids = _write(
            session, scope, location, plan, existing, tags, now=now, progress=report_progress
        )
    report = ImportReport(
        location_id=location.id,
        dry_run=dry_run,
        delimiter=table.delimiter,
        mapping=columns.mapping,
        ignored_columns=columns.ignored,
        rows=tuple(
            RowReport(
                line=row.draft.line,
                status=row.status,
                phone=row.draft.phone,
                contact_id=_contact_id(row, contact_ids),
                duplicate_of_line=row.duplicate_of_line,
                reasons=row.draft.reasons,
                warnings=row.warnings,
            )
            for row in plan.rows
        ),
    )
    if not dry_run:
        totals = report.totals
        audit.record(
            session,
            scope,
            entity_type="location",
            entity_id=location.id,
            action="contacts.imported",
            at=now,
            after={
                "rows": totals.rows,
                "created": totals.created,
                "merged": totals.merged,
                "rejected": totals.rejected,
                "warnings": totals.warnings,
                "contacts_updated": sum(1 for t in plan.targets.values() if t.changes_existing),
                "mapping": {header: f.value for header, f in report.mapping.items()},
            },
        )
        session.flush()
    return report


def _contact_id(row: PlannedRow, contact_ids: Mapping[str, int | None]) -> int | None:
    if row.status is RowStatus.REJECTED or row.draft.phone is None:
        return None
    return contact_ids.get(row.draft.phone)


def _no_progress(_phase: ImportPhase, _done: int, _total: int) -> None:
    return None


# --- planning (pure) ---------------------------------------------------------------------


@dataclass
class Target:
    """One contact the import creates (`existing_id` None) or merges rows into."""

    phone: str
    first_line: int
    existing_id: int | None
    before: ContactFields
    fields: ContactFields

    @property
    def changes_existing(self) -> bool:
        return self.existing_id is not None and self.fields != self.before


@dataclass(frozen=True, slots=True)
class PlannedRow:
    draft: RowDraft
    status: RowStatus
    duplicate_of_line: int | None = None
    warnings: tuple[RowIssue, ...] = ()


@dataclass
class MergePlan:
    targets: dict[str, Target] = field(default_factory=dict)  # by phone, first line first
    rows: list[PlannedRow] = field(default_factory=list)


def plan_merges(
    drafts: Sequence[RowDraft],
    existing: Mapping[str, tuple[int, ContactFields]],
    columns: Columns,
) -> MergePlan:
    """Each accepted row becomes a new contact or merges into the contact with its number
    (one already at the location, or one an earlier line creates). Rejected rows only keep
    their reasons; they reserve no number."""
    plan = MergePlan()
    for draft in drafts:
        if draft.rejected or draft.phone is None:
            plan.rows.append(PlannedRow(draft, RowStatus.REJECTED, warnings=draft.warnings))
            continue
        target = plan.targets.get(draft.phone)
        if target is None:
            found = existing.get(draft.phone)
            if found is None:
                plan.targets[draft.phone] = Target(
                    draft.phone, draft.line, None, ContactFields(), draft.fields
                )
                warnings = draft.warnings
                if not draft.fields.first_name:
                    warnings = (*warnings, _NO_FIRST_NAME)
                plan.rows.append(PlannedRow(draft, RowStatus.CREATED, warnings=warnings))
                continue
            contact_id, fields = found
            target = Target(draft.phone, draft.line, contact_id, fields, fields)
            plan.targets[draft.phone] = target
            source = f"contact {contact_id}"
            duplicate_of = None
        else:
            source = f"line {target.first_line}"
            duplicate_of = target.first_line
        target.fields, kept = merge_fields(target.fields, draft.fields, columns, source)
        plan.rows.append(
            PlannedRow(draft, RowStatus.MERGED, duplicate_of, (*draft.warnings, *kept))
        )
    return plan


_NO_FIRST_NAME = RowIssue(
    IssueCode.NO_FIRST_NAME, "no first name: the agent will not ask for the patient by name"
)


def merge_fields(
    current: ContactFields, incoming: ContactFields, columns: Columns, source: str
) -> tuple[ContactFields, list[RowIssue]]:
    """Fill `current`'s empty fields from `incoming`, union the tags; a differing non-empty
    value is kept and reported (`source` says where it came from)."""
    updates: dict[str, str] = {}
    kept: list[RowIssue] = []
    for name in MERGEABLE:
        have, new = getattr(current, name), getattr(incoming, name)
        if not new or have == new:
            continue
        if not have:
            updates[name] = new
            continue
        kept.append(
            RowIssue(
                IssueCode.KEPT_EXISTING_VALUE,
                f"kept {name} {have!r} from {source}; this row has {new!r}",
                _column_of(columns, name),
            )
        )
    tags = tuple(dict.fromkeys((*current.tags, *incoming.tags)))
    return replace(current, **updates, tags=tags), kept


def _column_of(columns: Columns, name: str) -> str | None:
    index = columns.index.get(ImportField(name))
    if index is None and name in ("first_name", "last_name"):
        index = columns.index.get(ImportField.FULL_NAME)
    return None if index is None else columns.headers[index]


# --- the database side ---------------------------------------------------------------------


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), _IN_CHUNK):
        yield ordered[start : start + _IN_CHUNK]


def _account_tags(session: Session, scope: TenantScope, names: Iterable[str]) -> dict[str, Tag]:
    found: dict[str, Tag] = {}
    for chunk in _chunks(names):
        query = select(Tag).where(Tag.account_id == scope.account_id, Tag.name.in_(chunk))
        found.update((tag.name, tag) for tag in session.scalars(query))
    return found


def _check_tags(draft: RowDraft, tags: Mapping[str, Tag], columns: Columns) -> RowDraft:
    """Unknown tag names reject the row, as on the contacts API: tags drive workflow audiences
    (and opt-out exclusions), so a typo in a file must not create a tag no filter matches."""
    missing = [name for name in draft.fields.tags if name not in tags]
    if draft.rejected or not missing:
        return draft
    issue = RowIssue(
        IssueCode.UNKNOWN_TAG,
        f"unknown tag(s): {', '.join(missing)} (create them first)",
        _column_of_tags(columns),
    )
    return replace(draft, reasons=(*draft.reasons, issue))


def _column_of_tags(columns: Columns) -> str | None:
    index = columns.index.get(ImportField.TAGS)
    return None if index is None else columns.headers[index]


def _existing_contacts(
    session: Session, location: Location, phones: Iterable[str | None]
) -> dict[str, Contact]:
    found: dict[str, Contact] = {}
    for chunk in _chunks(p for p in phones if p is not None):
        # The numbers are inlined (validated E.164 text): a bound 500-value list is prepared by
        # psycopg after a few runs and PostgreSQL's generic plan then compares every row of
        # the location against every value, which took a re-import of 50,000 rows from
        # seconds to minutes right after the first import (before ANALYZE caught up).
        phones_in: BindParameter[list[str]] = bindparam(
            "phones", chunk, expanding=True, literal_execute=True
        )
        query = select(Contact).where(
            Contact.account_id == location.account_id,
            Contact.location_id == location.id,
            Contact.phone_e164.in_(phones_in),
        )
        for contact in session.scalars(query):
            if contact.phone_e164 is not None:
                found[contact.phone_e164] = contact
    return found


def _fields_of(contact: Contact) -> ContactFields:
    return ContactFields(
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        address_line1=contact.address_line1,
        city=contact.city,
        state=contact.state,
        postal_code=contact.postal_code,
        tags=tuple(tag.name for tag in contact.tags),
    )


def _write(
    session: Session,
    scope: TenantScope,
    location: Location,
    plan: MergePlan,
    existing: Mapping[str, Contact],
    tags: Mapping[str, Tag],
    *,
    now: datetime,
    progress: ProgressCallback,
) -> dict[str, int | None]:
    """Create and update the contacts; returns each number's contact id."""
    contacts: dict[str, Contact] = {}
    total = len(plan.targets)
    for done, target in enumerate(plan.targets.values(), start=1):
        contact = existing.get(target.phone)
        if contact is None:
            contact = Contact(
                account_id=scope.account_id,
                location_id=location.id,
                phone_e164=target.phone,
                source=ContactSource.IMPORT,
                dnd_voice=False,
                dnd_sms=False,
                dnd_email=False,
                created_at=now,
                updated_at=now,
                **{name: getattr(target.fields, name) for name in MERGEABLE},
            )
            if target.fields.tags:
                contact.tags = [tags[name] for name in target.fields.tags]
            session.add(contact)
        elif target.changes_existing:
            _assign(contact, target.fields, tags)
            contact.updated_at = now
        contacts[target.phone] = contact
        if done % FLUSH_EVERY == 0 or done == total:
            session.flush()
            progress(ImportPhase.WRITING, done, total)
    # A row tagged "Opted Out" is an opt-out like any other: the number is suppressed for the
    # whole practice (set-based: a file may hold thousands of them), and every other contact
    # with the number, this file's new ones included, gets the tag.
    suppress_numbers(
        session,
        scope,
        {
            target.phone: contacts[target.phone].id
            for target in plan.targets.values()
            if OPT_OUT_TAG in target.fields.tags
        },
        at=now,
        source=SuppressionSource.IMPORT,
        note="imported with the opt-out tag",
    )
    # A new contact for a number already suppressed at the practice carries the tag too.
    created = [c for phone, c in contacts.items() if phone not in existing]
    tag_suppressed(session, scope.account_id, created, now)
    return {phone: contact.id for phone, contact in contacts.items()}


def _assign(contact: Contact, fields: ContactFields, tags: Mapping[str, Tag]) -> None:
    for name in MERGEABLE:
        setattr(contact, name, getattr(fields, name))
    have = {tag.name for tag in contact.tags}
    contact.tags = [*contact.tags, *(tags[n] for n in fields.tags if n not in have)]
