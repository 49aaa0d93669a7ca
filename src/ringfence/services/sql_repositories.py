"""The unit of work's query objects (`services/repositories.py`) on a SQLAlchemy session.

They live in services, not in `adapters/db/`, because they answer in the service layer's terms
(`TenantScope`, `NotFound`) and the ledger, audit, trigger and caller-ID ones wrap services that
still take a session (`suppression`, `audit`, `workflows.crm_events`, `agent_sessions`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import (
    Account,
    Appointment,
    ConsentRecord,
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
from ringfence.services import audit, suppression
from ringfence.services.agent_sessions import location_callback
from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows import crm_events


class SqlContacts:
    def __init__(self, session: Session) -> None:
        self._session = session

    def owned(self, scope: TenantScope, contact_id: int) -> Contact:
        return get_owned(self._session, Contact, contact_id, scope)

    def by_phone(self, *, location_id: int, phone: str) -> Contact | None:
        return self._session.scalars(
            select(Contact).where(Contact.location_id == location_id, Contact.phone_e164 == phone)
        ).first()

    def add(self, contact: Contact) -> None:
        self._session.add(contact)
        self._session.flush()

    def delete(self, contact: Contact) -> None:
        self._session.delete(contact)

    def consent_records(self, contact: Contact) -> int:
        count = self._session.scalar(
            select(func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.contact_id == contact.id)
        )
        return count or 0


class SqlTags:
    def __init__(self, session: Session) -> None:
        self._session = session

    def owned(self, scope: TenantScope, tag_id: int) -> Tag:
        return get_owned(self._session, Tag, tag_id, scope)

    def named(self, scope: TenantScope, names: Collection[str]) -> list[Tag]:
        if not names:
            return []
        return list(
            self._session.scalars(
                select(Tag).where(Tag.account_id == scope.account_id, Tag.name.in_(names))
            )
        )

    def add(self, tag: Tag) -> None:
        self._session.add(tag)
        self._session.flush()

    def delete(self, tag: Tag) -> None:
        self._session.delete(tag)


class SqlLocations:
    def __init__(self, session: Session) -> None:
        self._session = session

    def owned(self, scope: TenantScope, location_id: int) -> Location:
        return get_owned(self._session, Location, location_id, scope)

    def add(self, location: Location) -> None:
        self._session.add(location)
        self._session.flush()


RowT = TypeVar("RowT")


class SqlRows(Generic[RowT]):
    def __init__(self, session: Session, model: type[RowT]) -> None:
        self._session = session
        self._model = model

    def owned(self, scope: TenantScope, row_id: int) -> RowT:
        return get_owned(self._session, self._model, row_id, scope)

    def add(self, row: RowT) -> None:
        self._session.add(row)
        self._session.flush()


class SqlAccounts:
    def __init__(self, session: Session) -> None:
        self._session = session

    def of(self, scope: TenantScope) -> Account:
        account = self._session.get(Account, scope.account_id)
        assert account is not None  # the key's account
        return account


class SqlCallerIds:
    def __init__(self, session: Session) -> None:
        self._session = session

    def in_account(self, scope: TenantScope, e164: str) -> PhoneNumber | None:
        return self._session.scalars(
            select(PhoneNumber).where(
                PhoneNumber.account_id == scope.account_id, PhoneNumber.e164 == e164
            )
        ).first()

    def first_at(self, location_id: int) -> str | None:
        return location_callback(self._session, location_id)

    def add(self, number: PhoneNumber) -> None:
        self._session.add(number)
        self._session.flush()


class SqlOptOutLedger:
    def __init__(self, session: Session) -> None:
        self._session = session

    def suppressed_now(self, contact: Contact, now: datetime) -> bool:
        return suppression.suppressed_now(self._session, contact, now)

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
        suppression.suppress_number(
            self._session, scope, phone, at=at, source=source, contact_id=contact_id, note=note
        )

    def tag_opted_out(self, contact: Contact, at: datetime) -> None:
        suppression.tag_contact(self._session, contact, at)


class SqlAuditLog:
    def __init__(self, session: Session) -> None:
        self._session = session

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
        audit.record(
            self._session,
            scope,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            at=at,
            before=before,
            after=after,
        )


class SqlCrmTriggers:
    def __init__(self, session: Session) -> None:
        self._session = session

    def contact_saved(
        self,
        scope: TenantScope,
        contact: Contact,
        *,
        tags_before: set[str],
        opted_out_before: bool,
        now: datetime,
    ) -> None:
        crm_events.on_contact_saved(
            self._session,
            scope,
            contact,
            tags_before=tags_before,
            opted_out_before=opted_out_before,
            now=now,
        )

    def appointment_created(
        self, scope: TenantScope, appointment: Appointment, now: datetime
    ) -> None:
        crm_events.on_appointment_created(self._session, scope, appointment, now)

    def appointment_changed(
        self,
        scope: TenantScope,
        appointment: Appointment,
        *,
        starts_before: datetime,
        status_before: AppointmentStatus,
        now: datetime,
    ) -> None:
        # Written first: the triggers' statements are partly Core, which does not autoflush,
        # and must see the change (`workflows/events.py`).
        self._session.flush()
        crm_events.on_appointment_changed(
            self._session,
            scope,
            appointment,
            starts_before=starts_before,
            status_before=status_before,
            now=now,
        )

    def opportunity_changed(
        self,
        scope: TenantScope,
        opportunity: Opportunity,
        *,
        stage_before: str | None,
        now: datetime,
    ) -> None:
        self._session.flush()  # as above
        crm_events.on_opportunity_changed(
            self._session, scope, opportunity, stage_before=stage_before, now=now
        )


class SqlQueries:
    """All of a session's query objects, as `UnitOfWork` hands them out."""

    def __init__(self, session: Session) -> None:
        self.contacts = SqlContacts(session)
        self.tags = SqlTags(session)
        self.locations = SqlLocations(session)
        self.accounts = SqlAccounts(session)
        self.caller_ids = SqlCallerIds(session)
        self.voice_agents = SqlRows(session, VoiceAgent)
        self.forms = SqlRows(session, Form)
        self.appointments = SqlRows(session, Appointment)
        self.opportunities = SqlRows(session, Opportunity)
        self.tasks = SqlRows(session, Task)
        self.notes = SqlRows(session, Note)
        self.opt_outs = SqlOptOutLedger(session)
        self.audit = SqlAuditLog(session)
        self.triggers = SqlCrmTriggers(session)
