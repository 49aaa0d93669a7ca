"""What a unit of work holds besides the transaction: named query objects, one small protocol
each, so that a use case says which rows it reads and what it records, never how.

`services/sql_repositories.py` implements them on a SQLAlchemy session (the `UnitOfWork`);
`tests/unit/services/fakes.py` implements them in memory (the `FakeUnitOfWork`), which is how
the CRM's rules (contacts, tags, caller IDs, agents, forms, the records about a contact) are
tested without a database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

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
from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.vocabulary import AppointmentStatus

if TYPE_CHECKING:  # unit_of_work imports this module for its protocol
    from ringfence.services.unit_of_work import TenantScope


class Contacts(Protocol):
    def owned(self, scope: TenantScope, contact_id: int) -> Contact:
        """The caller's contact, else `NotFound` (another account's reads as missing)."""
        ...

    def by_phone(self, *, location_id: int, phone: str) -> Contact | None:
        """The contact at the location with this number (at most one: a table constraint)."""
        ...

    def add(self, contact: Contact) -> None:
        """Store a new contact now, so it has its id."""
        ...

    def delete(self, contact: Contact) -> None: ...

    def consent_records(self, contact: Contact) -> int:
        """How many consent records name the contact (evidence kept for disputes)."""
        ...


class Tags(Protocol):
    def owned(self, scope: TenantScope, tag_id: int) -> Tag:
        """The caller's tag, else `NotFound`."""
        ...

    def named(self, scope: TenantScope, names: Collection[str]) -> list[Tag]:
        """The account's tags with these exact names (those that exist), in no set order."""
        ...

    def add(self, tag: Tag) -> None:
        """Store a new tag now, so it has its id."""
        ...

    def delete(self, tag: Tag) -> None: ...


class Locations(Protocol):
    def owned(self, scope: TenantScope, location_id: int) -> Location:
        """The caller's location, else `NotFound`."""
        ...

    def add(self, location: Location) -> None:
        """Store a new location now, so it has its id."""
        ...


RowT = TypeVar("RowT")


class Rows(Protocol[RowT]):
    """The rows of one plain CRM table whose rules need no query but the caller's own row
    (voice agents, forms, appointments, opportunities, tasks, notes)."""

    def owned(self, scope: TenantScope, row_id: int) -> RowT:
        """The caller's row, else `NotFound` (another account's reads as missing)."""
        ...

    def add(self, row: RowT) -> None:
        """Store a new row now, so it has its id."""
        ...


class Accounts(Protocol):
    def of(self, scope: TenantScope) -> Account:
        """The caller's own account (its names judge a form's consent text)."""
        ...


class CallerIds(Protocol):
    def in_account(self, scope: TenantScope, e164: str) -> PhoneNumber | None:
        """The account's caller ID with this number, at any of its locations (at most one: a
        table constraint)."""
        ...

    def first_at(self, location_id: int) -> str | None:
        """The location's first caller ID (in id order): the callback number of an agent that
        has none of its own."""
        ...

    def add(self, number: PhoneNumber) -> None:
        """Store a new caller ID now, so it has its id."""
        ...


class OptOutLedger(Protocol):
    """The practice-wide suppression ledger (`services/suppression.py`) as the contact rules
    use it."""

    def suppressed_now(self, contact: Contact, now: datetime) -> bool:
        """Whether the contact's number is suppressed at its practice at `now`."""
        ...

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
        """Suppress the number from `at` on (every contact with it tagged "Opted Out", their
        calls canceled, their workflows left); nothing without a number."""
        ...

    def tag_opted_out(self, contact: Contact, at: datetime) -> None:
        """Put the "Opted Out" tag on the contact (created for the account if missing)."""
        ...


class AuditLog(Protocol):
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
        """Append one event (who: the scope's actor) to the account's audit log."""
        ...


class CrmTriggers(Protocol):
    """Workflow triggers of CRM changes (`services/workflows/crm_events.py`)."""

    def contact_saved(
        self,
        scope: TenantScope,
        contact: Contact,
        *,
        tags_before: set[str],
        opted_out_before: bool,
        now: datetime,
    ) -> None:
        """A tag added starts the workflows it triggers; an opt-out leaves every workflow."""
        ...

    def appointment_created(
        self, scope: TenantScope, appointment: Appointment, now: datetime
    ) -> None:
        """An upcoming appointment starts the booking workflows."""
        ...

    def appointment_changed(
        self,
        scope: TenantScope,
        appointment: Appointment,
        *,
        starts_before: datetime,
        status_before: AppointmentStatus,
        now: datetime,
    ) -> None:
        """Canceled, missed or done: its booking workflows stop and the status's own start;
        moved: the booking workflows start over for the new time."""
        ...

    def opportunity_changed(
        self,
        scope: TenantScope,
        opportunity: Opportunity,
        *,
        stage_before: str | None,
        now: datetime,
    ) -> None:
        """A new stage starts the workflows it triggers."""
        ...


class Queries(Protocol):
    """The query objects of one transaction (a unit of work's, or a session's own)."""

    @property
    def contacts(self) -> Contacts: ...
    @property
    def tags(self) -> Tags: ...
    @property
    def locations(self) -> Locations: ...
    @property
    def accounts(self) -> Accounts: ...
    @property
    def caller_ids(self) -> CallerIds: ...
    @property
    def voice_agents(self) -> Rows[VoiceAgent]: ...
    @property
    def forms(self) -> Rows[Form]: ...
    @property
    def appointments(self) -> Rows[Appointment]: ...
    @property
    def opportunities(self) -> Rows[Opportunity]: ...
    @property
    def tasks(self) -> Rows[Task]: ...
    @property
    def notes(self) -> Rows[Note]: ...
    @property
    def opt_outs(self) -> OptOutLedger: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def triggers(self) -> CrmTriggers: ...
