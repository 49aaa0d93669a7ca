"""KYC registration for outbound calling (the Enable Outbound Calls flow)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from ringfence.domain.kyc import MAX_DAILY_VOLUME, MAX_OWNERS, ReviewOutcome
from ringfence.domain.vocabulary import CallPurpose, KycStatus
from ringfence.entrypoints.api.schemas.common import Body, Out

Text200 = Annotated[str, Field(max_length=200)]


class AddressIn(Body):
    street: Text200
    city: Annotated[str, Field(max_length=100)]
    state: Annotated[str, Field(max_length=2, description="US state code, e.g. NY")]
    postal_code: Annotated[str, Field(max_length=10)]


class OwnerIn(Body):
    name: Text200
    title: Text200 = ""
    ownership_percent: Annotated[float, Field(ge=0, le=100)]
    control_person: bool = False


class RepresentativeIn(Body):
    name: Text200
    title: Text200
    email: Text200
    phone_e164: Annotated[str, Field(max_length=16)]


class KycApplicationIn(Body):
    legal_name: Text200
    dba: Text200 = ""
    ein: Annotated[str, Field(max_length=12, description="12-3456789")]
    address: AddressIn
    website: Annotated[str, Field(max_length=300)]
    owners: Annotated[list[OwnerIn], Field(max_length=MAX_OWNERS)]
    representative: RepresentativeIn
    use_cases: Annotated[list[CallPurpose], Field(max_length=5)]
    expected_daily_volume: Annotated[int, Field(ge=0, le=MAX_DAILY_VOLUME * 10)]


class KycOut(Out):
    status: KycStatus
    outbound_enabled: bool
    reasons: list[str]
    submitted_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    approval_seen: bool
    application: KycApplicationIn | None


class DecisionIn(Body):
    outcome: ReviewOutcome
    reasons: Annotated[list[Annotated[str, Field(max_length=500)]], Field(max_length=20)] = Field(
        default_factory=list
    )
    operator: Annotated[str, Field(min_length=1, max_length=100)]


class PendingOut(Out):
    account_id: int
    account_name: str
    legal_name: str
    submitted_at: datetime | None
    reasons: list[str]
