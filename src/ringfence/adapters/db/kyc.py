"""An account's KYC registration for outbound calling (one per account).

`accounts.kyc_status` stays the one value the compliance gate reads; this row holds what was
submitted, the review's outcome and reasons, and the fingerprint of the legal details that
approval vouched for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ringfence.adapters.db.orm import Base, enum_column
from ringfence.domain.vocabulary import KycStatus


class KycRegistration(Base):
    __tablename__ = "kyc_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[KycStatus] = mapped_column(enum_column(KycStatus, "kyc_status"))
    # The application as submitted (domain/kyc.py KycApplication as JSON).
    application: Mapped[dict[str, Any]] = mapped_column(JSON)
    legal_name: Mapped[str] = mapped_column(String(200))
    ein: Mapped[str] = mapped_column(String(10))
    # Why the automatic review left it for an operator, or why an operator decided as they did.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    approved_fingerprint: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))
    # When the account's staff dismissed the "outbound calling approved" confirmation.
    approval_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
