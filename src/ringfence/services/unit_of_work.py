"""Unit of work: one database transaction per use case, committed explicitly.

Nothing is committed unless the use case reaches `commit()`; leaving the block any other way
rolls back, which is how "nothing half-written survives an error" is kept.

The entrypoint opens the unit of work (`with container.uow() as uow:`) and hands it to the use
case, which reads and writes through its named query objects (`uow.contacts`, `uow.tags`, ...,
see `services/repositories.py`) and commits itself. A use case typed with `AbstractUnitOfWork`
never touches the session, so it also runs on the tests' in-memory `FakeUnitOfWork`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.orm import Appointment, Form, Note, Opportunity, Task, VoiceAgent
from ringfence.clock import Clock
from ringfence.services.repositories import (
    Accounts,
    AuditLog,
    CallerIds,
    Contacts,
    CrmTriggers,
    Locations,
    OptOutLedger,
    Queries,
    Rows,
    Tags,
)

if TYPE_CHECKING:
    from ringfence.services.sql_repositories import SqlQueries


@dataclass(frozen=True)
class TenantScope:
    """Who is acting, and the one account whose data they may see and change."""

    account_id: int
    actor: str


class AbstractUnitOfWork(Queries, Protocol):
    """What a use case may use of a unit of work: the clock, the query objects and the
    transaction (`UnitOfWork` on SQLAlchemy; `FakeUnitOfWork` in memory, in the unit tests)."""

    @property
    def clock(self) -> Clock: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self._session_factory = session_factory
        self.clock = clock
        self._session: Session | None = None
        self._queries: SqlQueries | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its `with` block")
        return self._session

    @property
    def _bound(self) -> SqlQueries:
        if self._queries is None:
            raise RuntimeError("UnitOfWork used outside its `with` block")
        return self._queries

    @property
    def contacts(self) -> Contacts:
        return self._bound.contacts

    @property
    def tags(self) -> Tags:
        return self._bound.tags

    @property
    def locations(self) -> Locations:
        return self._bound.locations

    @property
    def accounts(self) -> Accounts:
        return self._bound.accounts

    @property
    def caller_ids(self) -> CallerIds:
        return self._bound.caller_ids

    @property
    def voice_agents(self) -> Rows[VoiceAgent]:
        return self._bound.voice_agents

    @property
    def forms(self) -> Rows[Form]:
        return self._bound.forms

    @property
    def appointments(self) -> Rows[Appointment]:
        return self._bound.appointments

    @property
    def opportunities(self) -> Rows[Opportunity]:
        return self._bound.opportunities

    @property
    def tasks(self) -> Rows[Task]:
        return self._bound.tasks

    @property
    def notes(self) -> Rows[Note]:
        return self._bound.notes

    @property
    def opt_outs(self) -> OptOutLedger:
        return self._bound.opt_outs

    @property
    def audit(self) -> AuditLog:
        return self._bound.audit

    @property
    def triggers(self) -> CrmTriggers:
        return self._bound.triggers

    def __enter__(self) -> UnitOfWork:
        # Imported here, not at the top: the query objects wrap services (suppression, audit,
        # workflow triggers) that import `TenantScope` from this module.
        from ringfence.services.sql_repositories import SqlQueries

        self._session = self._session_factory()
        self._queries = SqlQueries(self._session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            session.rollback()
        finally:
            session.close()
            self._session = None
            self._queries = None

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


@contextmanager
def all_or_nothing(uow: AbstractUnitOfWork) -> Iterator[None]:
    """Commit what the block did; if it raises, roll back before the error goes on.

    The unit of work would roll back on exit anyway; rolling back at once matters to a caller
    that goes on reading through the same unit of work after a refusal (a page shown again with
    the form's errors), which must see the rows as stored, not the refused change."""
    try:
        yield
    except Exception:
        uow.rollback()
        raise
    uow.commit()
