"""An in-memory unit of work, as cosmicpython's `FakeUnitOfWork`: the services' query objects
(`services/repositories.py`) over dicts, and `commits` counted instead of a transaction.

The row repositories behave like the SQL ones (`tests/integration/test_unit_of_work_queries.py`
runs both through the same checks); the ledger, audit log and triggers record what they were
asked, for the tests to assert on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from types import TracebackType

from ringfence.adapters.db.orm import Contact, Location, Tag
from ringfence.clock import VirtualClock
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.tags import OPT_OUT_TAG
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

    def owned(self, scope: TenantScope, location_id: int) -> Location:
        row = self.rows.get(location_id)
        if row is None or row.account_id != scope.account_id:
            raise NotFound(f"locations {location_id} not found")
        return row


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


class FakeCrmTriggers:
    def __init__(self) -> None:
        self.saved: list[Saved] = []

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


@dataclass
class FakeUnitOfWork:
    clock: VirtualClock = field(default_factory=lambda: VirtualClock(START))
    contacts: FakeContacts = field(default_factory=FakeContacts)
    tags: FakeTags = field(default_factory=FakeTags)
    locations: FakeLocations = field(default_factory=FakeLocations)
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

    def add_tag(self, account_id: int, name: str) -> Tag:
        now = self.clock.now()
        tag = Tag(account_id=account_id, name=name, created_at=now, updated_at=now)
        self.tags.add(tag)
        return tag
