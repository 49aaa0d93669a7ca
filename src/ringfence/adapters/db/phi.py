"""PHI bookkeeping: tombstones of purged recordings and transcripts, and the access log.

Neither table has a foreign key to `call_jobs`: both are evidence kept for the account's
compliance record, and must outlive a call job deleted with its contact. Both are
append-only (only the purge writes tombstones; only reads write access entries).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringfence.adapters.db.orm import Base, enum_column
from ringfence.domain.phi import PhiAccessVia, PhiKind


class PhiTombstone(Base):
    """What a retention purge removed, when, and under which policy."""

    __tablename__ = "phi_tombstones"
    # One tombstone per call and artefact: a purge that runs twice (or in two workers at
    # once) cannot record the same removal twice.
    __table_args__ = (UniqueConstraint("job_id", "what"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[int] = mapped_column(Integer)
    what: Mapped[PhiKind] = mapped_column(enum_column(PhiKind, "phi_kind"))
    purged_at: Mapped[datetime]
    policy: Mapped[str] = mapped_column(String(40))


class PhiAccess(Base):
    """One read of a recording or transcript: who, which call, through which door, when."""

    __tablename__ = "phi_access_log"
    __table_args__ = (Index("ix_phi_access_log_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(200))
    job_id: Mapped[int] = mapped_column(Integer)
    what: Mapped[PhiKind] = mapped_column(enum_column(PhiKind, "phi_kind"))
    via: Mapped[PhiAccessVia] = mapped_column(enum_column(PhiAccessVia, "phi_access_via"))
    at: Mapped[datetime]
