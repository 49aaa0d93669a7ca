"""The sandbox carrier's own durable record of the calls it placed.

A real carrier keeps its own call records, independent of Ringfence's transactions; the
sandbox imitates that with its own table, written in its own committed transaction at dial
time. After a crash, the dispatcher reconciles jobs stuck in `dialing` against it by key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ringfence.adapters.db.orm import Base, enum_column
from ringfence.domain.vocabulary import CallOutcome


class SandboxCall(Base):
    __tablename__ = "sandbox_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    carrier_call_id: Mapped[str] = mapped_column(String(64), unique=True)
    job_id: Mapped[int] = mapped_column(Integer, index=True)
    contact_id: Mapped[int] = mapped_column(Integer)
    to_e164: Mapped[str] = mapped_column(String(20))
    from_e164: Mapped[str] = mapped_column(String(20))
    dialed_at: Mapped[datetime]
    # Decided at dial time, deterministically from the seed and the contact.
    accepted: Mapped[bool] = mapped_column(Boolean)
    ring_seconds: Mapped[int] = mapped_column(Integer)
    talk_seconds: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[CallOutcome] = mapped_column(enum_column(CallOutcome, "call_outcome"))
    carrier_reason: Mapped[str | None] = mapped_column(String(200))
    persona: Mapped[str | None] = mapped_column(String(50))
    hung_up_at: Mapped[datetime | None]
