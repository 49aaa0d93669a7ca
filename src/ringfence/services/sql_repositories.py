"""The unit of work's query objects (`services/repositories.py`) on a SQLAlchemy session.

They live in services, not in `adapters/db/`, because they answer in the service layer's terms
(`TenantScope`, `NotFound`) and the ledger, audit and trigger ones wrap services that still take
a session (`suppression`, `audit`, `workflows.crm_events`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import ConsentRecord, Contact, Location, Tag
from ringfence.domain.compliance import SuppressionSource
from ringfence.services import audit, suppression
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


class SqlQueries:
    """All of a session's query objects, as `UnitOfWork` hands them out."""

    def __init__(self, session: Session) -> None:
        self.contacts = SqlContacts(session)
        self.tags = SqlTags(session)
        self.locations = SqlLocations(session)
        self.opt_outs = SqlOptOutLedger(session)
        self.audit = SqlAuditLog(session)
        self.triggers = SqlCrmTriggers(session)
