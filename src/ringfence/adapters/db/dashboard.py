"""Read-only share links to a location's outbound dashboard.

The link's token is signed (itsdangerous) and names this row; the row is what makes it
revocable and gives it an expiry the signer cannot extend. A link carries the dashboard
filters it was made with and whether its creator chose to include recordings and
transcripts (PHI), which it never does by default.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
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
