"""The caller's own account, and its audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ringfence.domain.vocabulary import KycStatus
from ringfence.entrypoints.api.schemas.common import Body, Id, ListQuery, Name, Out, ShortText


class AccountUpdate(Body):
    name: Name | None = None


class AccountOut(Out):
    id: int
    name: str
    legal_name: str | None
    kyc_status: KycStatus
    outbound_enabled: bool
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
