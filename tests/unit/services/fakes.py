"""An in-memory unit of work, as cosmicpython's `FakeUnitOfWork`: the services' query objects
(`services/repositories.py`) over dicts, and `commits` counted instead of a transaction.

The row repositories behave like the SQL ones (`tests/integration/test_unit_of_work_queries.py`
runs the contact, tag and location ones through the same checks); the ledger, audit log and
triggers record what they were asked, for the tests to assert on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from types import TracebackType
from typing import Generic, TypeVar

from ringfence.adapters.db.orm import (
    Account,
    Appointment,
    Contact,
    Form,
    Location,
    Note,
    Opportunity,
    PhoneNumber,
    Tag,
    Task,
    VoiceAgent,
)
from ringfence.clock import VirtualClock
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.domain.vocabulary import AppointmentStatus, ContactSource
from ringfence.services.errors import NotFound
from ringfence.services.unit_of_work import TenantScope

START = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


class FakeContacts:
    def __init__(self) -> None:
        self.rows: dict[int, Contact] = {}
        self.evidence: dict[int, int] = {}  # contact id -> consent records naming it
        self._ids = count(1)

    def owned(self, scope: TenantScope, contact_id: int) -> Contact:
        row = self.rows.get(contact_id)
        if row is None or row.account_id != scope.account_id:
            raise NotFound(f"contacts {contact_id} not found")
        return row

    def by_phone(self, *, location_id: int, phone: str) -> Contact | None:
        return next(
            (
                c
                for c in self.rows.values()
                if (c.location_id, c.phone_e164) == (location_id, phone)
            ),
            None,
        )

    def add(self, contact: Contact) -> None:
        contact.id = next(self._ids)
        self.rows[contact.id] = contact

    def delete(self, contact: Contact) -> None:
        del self.rows[contact.id]

    def consent_records(self, contact: Contact) -> int:
        return self.evidence.get(contact.id, 0)


class FakeTags:
    def __init__(self) -> None:
        self.rows: dict[int, Tag] = {}
        self._ids = count(1)

    def owned(self, scope: TenantScope, tag_id: int) -> Tag:
        row = self.rows.get(tag_id)
        if row is None or row.account_id != scope.account_id:
            raise NotFound(f"tags {tag_id} not found")
        return row

    def named(self, scope: TenantScope, names: Collection[str]) -> list[Tag]:
        return [
            t for t in self.rows.values() if t.account_id == scope.account_id and t.name in names
        ]

    def add(self, tag: Tag) -> None:
        tag.id = next(self._ids)
        self.rows[tag.id] = tag

    def delete(self, tag: Tag) -> None:
        del self.rows[tag.id]


class FakeLocations:
    def __init__(self) -> None:
        self.rows: dict[int, Location] = {}
        self._ids = count(1000)  # clear of the ids a test gives the locations it starts from

    def owned(self, scope: TenantScope, location_id: int) -> Location:
        row = self.rows.get(location_id)
        if row is None or row.account_id != scope.account_id:
            raise NotFound(f"locations {location_id} not found")
        return row

    def add(self, location: Location) -> None:
        location.id = next(self._ids)
        self.rows[location.id] = location


RowT = TypeVar("RowT")


class FakeRows(Generic[RowT]):
    """One plain table (`repositories.Rows`): rows by id, NotFound worded as `get_owned`'s."""

    def __init__(self, model: type[RowT]) -> None:
        self.rows: dict[int, RowT] = {}
        self._table: str = getattr(model, "__tablename__")  # noqa: B009 - generic model
        self._ids = count(1)

    def owned(self, scope: TenantScope, row_id: int) -> RowT:
        row = self.rows.get(row_id)
        if row is None or getattr(row, "account_id") != scope.account_id:  # noqa: B009
            raise NotFound(f"{self._table} {row_id} not found")
        return row

    def add(self, row: RowT) -> None:
        row_id = next(self._ids)
        setattr(row, "id", row_id)  # noqa: B010 - generic model
        self.rows[row_id] = row


class FakeAccounts:
    def __init__(self) -> None:
        self.rows: dict[int, Account] = {}

    def of(self, scope: TenantScope) -> Account:
        return self.rows[scope.account_id]


class FakeCallerIds:
    def __init__(self) -> None:
        self.rows: dict[int, PhoneNumber] = {}
        self._ids = count(1)

    def in_account(self, scope: TenantScope, e164: str) -> PhoneNumber | None:
        return next(
            (n for n in self.rows.values() if (n.account_id, n.e164) == (scope.account_id, e164)),
            None,
        )

    def first_at(self, location_id: int) -> str | None:
        return next(
            (n.e164 for _, n in sorted(self.rows.items()) if n.location_id == location_id), None
        )

    def add(self, number: PhoneNumber) -> None:
        number.id = next(self._ids)
        self.rows[number.id] = number


@dataclass(frozen=True)
class Suppressed:
    phone: str | None
    at: datetime
    source: SuppressionSource
    contact_id: int | None


class FakeOptOutLedger:
    """Numbers in `suppressed` are suppressed; `suppress` adds one and records the call."""

    def __init__(self, tags: FakeTags) -> None:
        self.suppressed: set[str] = set()
        self.calls: list[Suppressed] = []
        self.tagged: list[int] = []  # contacts given the "Opted Out" tag by `tag_opted_out`
        self._tags = tags

    def suppressed_now(self, contact: Contact, now: datetime) -> bool:
        return contact.phone_e164 in self.suppressed

    def suppress(
        self,
        scope: TenantScope,
        phone: str | None,
        *,
        at: datetime,
        source: SuppressionSource,
        contact_id: int | None,
        note: str | None,
    ) -> None:
        self.calls.append(Suppressed(phone, at, source, contact_id))
        if phone:
            self.suppressed.add(phone)

    def tag_opted_out(self, contact: Contact, at: datetime) -> None:
        scope = TenantScope(account_id=contact.account_id, actor="ledger")
        found = self._tags.named(scope, [OPT_OUT_TAG])
        if found:
            tag = found[0]
        else:
            tag = Tag(account_id=contact.account_id, name=OPT_OUT_TAG, created_at=at, updated_at=at)
            self._tags.add(tag)
        if tag not in contact.tags:
            contact.tags.append(tag)
        self.tagged.append(contact.id)


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    entity_type: str
    entity_id: int
    action: str
    before: Mapping[str, object] | None
    after: Mapping[str, object] | None


class FakeAuditLog:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(
        self,
        scope: TenantScope,
        *,
        entity_type: str,
        entity_id: int,
        action: str,
        at: datetime,
        before: Mapping[str, object] | None = None,
        after: Mapping[str, object] | None = None,
    ) -> None:
        self.entries.append(AuditEntry(scope.actor, entity_type, entity_id, action, before, after))


@dataclass(frozen=True)
class Saved:
    contact_id: int
    tags_before: frozenset[str]
    opted_out_before: bool


@dataclass(frozen=True)
class Booked:
    """An appointment trigger: `starts_before` and `status_before` are None when created."""

    appointment_id: int
    starts_before: datetime | None
    status_before: AppointmentStatus | None


@dataclass(frozen=True)
class Staged:
    opportunity_id: int
    stage_before: str | None
    stage: str


class FakeCrmTriggers:
    def __init__(self) -> None:
        self.saved: list[Saved] = []
        self.appointments: list[Booked] = []
        self.opportunities: list[Staged] = []

    def contact_saved(
        self,
        scope: TenantScope,
        contact: Contact,
        *,
        tags_before: set[str],
        opted_out_before: bool,
        now: datetime,
    ) -> None:
        self.saved.append(Saved(contact.id, frozenset(tags_before), opted_out_before))

    def appointment_created(
        self, scope: TenantScope, appointment: Appointment, now: datetime
    ) -> None:
        self.appointments.append(Booked(appointment.id, None, None))

    def appointment_changed(
        self,
        scope: TenantScope,
        appointment: Appointment,
        *,
        starts_before: datetime,
        status_before: AppointmentStatus,
        now: datetime,
    ) -> None:
        self.appointments.append(Booked(appointment.id, starts_before, status_before))

    def opportunity_changed(
        self,
        scope: TenantScope,
        opportunity: Opportunity,
        *,
        stage_before: str | None,
        now: datetime,
    ) -> None:
        self.opportunities.append(Staged(opportunity.id, stage_before, opportunity.stage))


@dataclass
class FakeUnitOfWork:
    clock: VirtualClock = field(default_factory=lambda: VirtualClock(START))
    contacts: FakeContacts = field(default_factory=FakeContacts)
    tags: FakeTags = field(default_factory=FakeTags)
    locations: FakeLocations = field(default_factory=FakeLocations)
    accounts: FakeAccounts = field(default_factory=FakeAccounts)
    caller_ids: FakeCallerIds = field(default_factory=FakeCallerIds)
    voice_agents: FakeRows[VoiceAgent] = field(default_factory=lambda: FakeRows(VoiceAgent))
    forms: FakeRows[Form] = field(default_factory=lambda: FakeRows(Form))
    appointments: FakeRows[Appointment] = field(default_factory=lambda: FakeRows(Appointment))
    opportunities: FakeRows[Opportunity] = field(default_factory=lambda: FakeRows(Opportunity))
    tasks: FakeRows[Task] = field(default_factory=lambda: FakeRows(Task))
    notes: FakeRows[Note] = field(default_factory=lambda: FakeRows(Note))
    audit: FakeAuditLog = field(default_factory=FakeAuditLog)
    triggers: FakeCrmTriggers = field(default_factory=FakeCrmTriggers)
    commits: int = 0
    rollbacks: int = 0

    def __post_init__(self) -> None:
        self.opt_outs = FakeOptOutLedger(self.tags)

    @property
    def committed(self) -> bool:
        return self.commits > 0

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        self.rollbacks += 1

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    # -- rows a test starts from (stored without a commit) --------------------------------

    def add_location(self, account_id: int, location_id: int) -> Location:
        now = self.clock.now()
        location = Location(
            id=location_id,
            account_id=account_id,
            name=f"Location {location_id}",
            time_zone="America/New_York",
            created_at=now,
            updated_at=now,
        )
        self.locations.rows[location_id] = location
        return location

    def add_account(self, account_id: int, name: str, legal_name: str | None = None) -> Account:
        now = self.clock.now()
        account = Account(
            id=account_id, name=name, legal_name=legal_name, created_at=now, updated_at=now
        )
        self.accounts.rows[account_id] = account
        return account

    def add_caller_id(self, account_id: int, location_id: int, e164: str) -> PhoneNumber:
        now = self.clock.now()
        number = PhoneNumber(
            account_id=account_id,
            location_id=location_id,
            e164=e164,
            label="",
            created_at=now,
            updated_at=now,
        )
        self.caller_ids.add(number)
        return number

    def add_contact(self, account_id: int, location_id: int) -> Contact:
        now = self.clock.now()
        contact = Contact(
            account_id=account_id,
            location_id=location_id,
            first_name="Ava",
            last_name="",
            source=ContactSource.API,
            created_at=now,
            updated_at=now,
        )
        self.contacts.add(contact)
        return contact

    def add_tag(self, account_id: int, name: str) -> Tag:
        now = self.clock.now()
        tag = Tag(account_id=account_id, name=name, created_at=now, updated_at=now)
        self.tags.add(tag)
        return tag


# The practice most service tests start from: two locations of the account, one of another.
ACCOUNT, OTHER = 1, 2
SCOPE = TenantScope(account_id=ACCOUNT, actor="api_key:test")
HERE, THERE, ELSEWHERE = 10, 11, 20


def two_locations_and_a_rival() -> FakeUnitOfWork:
    """A unit of work holding locations HERE and THERE of ACCOUNT, and ELSEWHERE of OTHER."""
    fake = FakeUnitOfWork()
    fake.add_location(ACCOUNT, HERE)
    fake.add_location(ACCOUNT, THERE)
    fake.add_location(OTHER, ELSEWHERE)
    return fake
