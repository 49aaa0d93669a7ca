"""Read-only share links to a location's outbound dashboard.

The link's token is signed (itsdangerous) and names this row; the row is what makes it
revocable and gives it an expiry the signer cannot extend. A link carries the dashboard
filters it was made with and whether its creator chose to include recordings and
transcripts (PHI), which it never does by default.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ringfence.adapters.db.orm import Base


class DashboardShareLink(Base):
    __tablename__ = "dashboard_share_links"
    __table_args__ = (Index("ix_dashboard_share_links_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(200), default="")
    # The dashboard's URL query (time range, call type, workflow, status) the link shows.
    filters: Mapped[str] = mapped_column(Text, default="")
    include_phi: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    last_viewed_at: Mapped[datetime | None]
    views: Mapped[int] = mapped_column(default=0, server_default="0")


# --- the dashboard's rollups -------------------------------------------------------------
#
# One row per (location, call type, local day, workflow, caller ID, outcome): how many dials,
# their seconds and the sentiment of their transcripts; and per action kind, how many actions
# those calls triggered. Database triggers (migration 0008) keep both exact on every write
# to call_jobs, call_transcripts and call_actions, whichever code path makes it, so the tiles
# and trend read a few hundred rows instead of every call. `workflow_key` / `number_key` are
# 0 for "none" and `outcome_key` is "" for a dial without an outcome yet (in progress or
# under review): key columns stay NOT NULL so the unique constraint can be the upsert target.


class _Bucket:
    """The key both rollups share: one location's calls of a type, day, workflow, caller ID
    and outcome."""

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    call_type: Mapped[str] = mapped_column(String(32))
    local_day: Mapped[date] = mapped_column(Date)
    workflow_key: Mapped[int] = mapped_column(Integer)
    number_key: Mapped[int] = mapped_column(Integer)
    outcome_key: Mapped[str] = mapped_column(String(32))


_BUCKET_KEY = (
    "location_id",
    "call_type",
    "local_day",
    "workflow_key",
    "number_key",
    "outcome_key",
)


class CallDayStats(_Bucket, Base):
    __tablename__ = "call_day_stats"
    __table_args__ = (UniqueConstraint(*_BUCKET_KEY, name="uq_call_day_stats_bucket"),)

    calls: Mapped[int] = mapped_column(Integer)
    duration_seconds: Mapped[int] = mapped_column(BigInteger)
    positive: Mapped[int] = mapped_column(Integer)
    neutral: Mapped[int] = mapped_column(Integer)
    negative: Mapped[int] = mapped_column(Integer)


class CallDayActions(_Bucket, Base):
    __tablename__ = "call_day_actions"
    __table_args__ = (UniqueConstraint(*_BUCKET_KEY, "kind", name="uq_call_day_actions_bucket"),)

    kind: Mapped[str] = mapped_column(String(40))
    actions: Mapped[int] = mapped_column(Integer)
