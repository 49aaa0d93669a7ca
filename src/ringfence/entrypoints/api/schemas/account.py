"""The caller's own account, and its audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from ringfence.domain.vocabulary import KycStatus
from ringfence.entrypoints.api.schemas.common import Body, Id, ListQuery, Name, Out, ShortText

RetentionDays = Literal[30, 90, 365]
_RETENTION = (
    "How long call recordings and transcripts are kept: 30, 90 or 365 days after the call "
    "ended, then purged (a tombstone records each removal); null keeps them"
)


class AccountUpdate(Body):
    name: Name | None = None
    phi_retention_days: RetentionDays | None = Field(default=None, description=_RETENTION)


class AccountOut(Out):
    id: int
    name: str
    legal_name: str | None
    kyc_status: KycStatus
    outbound_enabled: bool
    phi_retention_days: RetentionDays | None = Field(description=_RETENTION)
    created_at: datetime
    updated_at: datetime


class AuditEventOut(Out):
    id: int
    actor: str
    entity_type: str
    entity_id: int
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    occurred_at: datetime


class AuditEventQuery(ListQuery):
    entity_type: ShortText | None = None
    entity_id: Id | None = None
    action: ShortText | None = None
