"""Unit of work: one database transaction per use case, committed explicitly.

Nothing is committed unless the use case reaches `commit()`; leaving the block any other way
rolls back, which is how "nothing half-written survives an error" is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from ringfence.clock import Clock


@dataclass(frozen=True)
class TenantScope:
    """Who is acting, and the one account whose data they may see and change."""

    account_id: int
    actor: str


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self._session_factory = session_factory
        self.clock = clock
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its `with` block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._session_factory()
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

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
