"""Composition root: builds settings, engine, sessions and clock in one place (never at import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.crypto import engine_cipher, install_cipher
from ringfence.adapters.db.engine import make_engine, make_session_factory
from ringfence.adapters.phi_cipher import PhiCipher
from ringfence.adapters.telephony.live_calls import LiveCallResults
from ringfence.clock import Clock, SystemClock
from ringfence.config import Settings
from ringfence.phi_keys import load_phi_cipher
from ringfence.services.call_metrics import CallJobCountsCache
from ringfence.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from ringfence.adapters.telephony.base import TelephonyProvider
    from ringfence.services.live_media import LiveMediaSessions


@dataclass
class ProcessShared:
    """What one process builds once and shares, filled in by `bootstrap/carriers.py`: the
    speech pipeline of live calls (None when its engines are not installed, so `built` says
    whether it was tried), the SIP endpoint, and the call-job counts `/metrics` reads."""

    media_sessions_built: bool = False
    media_sessions: LiveMediaSessions | None = None
    sip_carrier: TelephonyProvider | None = None
    call_job_counts: CallJobCountsCache = field(default_factory=CallJobCountsCache)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    # Live calls' conversations, from the media endpoint to the carrier's reports (database).
    live_calls: LiveCallResults = field(init=False)
    # What one process builds once and shares: see bootstrap/carriers.py.
    shared: ProcessShared = field(default_factory=lambda: ProcessShared())

    def __post_init__(self) -> None:
        self.live_calls = LiveCallResults(self.session_factory, self.clock)

    @property
    def phi_cipher(self) -> PhiCipher:
        """The cipher of transcripts and recordings, installed on the engine by `bootstrap`."""
        return engine_cipher(self.engine)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.clock)

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    engine = make_engine(settings.database_url, echo=settings.sql_echo)
    install_cipher(engine, load_phi_cipher(settings))
    return Container(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=clock or SystemClock(),
    )
