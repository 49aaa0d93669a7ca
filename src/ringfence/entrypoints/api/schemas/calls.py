"""Call jobs (the call log's rows), their compliance trail, and the minutes ledger."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ConfigDict, Field

from ringfence.domain.vocabulary import (
    CallDirection,
    CallOutcome,
    CallPurpose,
    CallStatus,
    CallType,
)
from ringfence.entrypoints.api.schemas.common import Id, ListQuery, Out


class CallJobOut(Out):
    # `phone` reads the row's phone_e164, and accepts its own name when re-validated.
    model_config = ConfigDict(from_attributes=True, validate_by_name=True)

    id: int
    location_id: int
    contact_id: int
    agent_id: int | None
    from_number_id: int | None
    workflow_id: int | None
    action_name: str
    purpose: CallPurpose
    call_type: CallType
    direction: CallDirection = Field(
        description=(
            "outbound: a call Ringfence placed; inbound: a caller rang a practice number and "
            "the agent answered. Inbound calls are never dialed (dialed_at is null), take no "
            "pacing slot, count toward no per-number cap and book no minutes in the ledger"
        )
    )
    status: CallStatus
    outcome: CallOutcome | None
    reason_code: str | None = Field(description="Why it is deferred/failed/canceled")
    reason_text: str | None
    next_attempt_at: datetime | None
    phone: str | None = Field(validation_alias="phone_e164", description="The number dialed")
    dialed_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    billable_seconds: int | None
    carrier_reason: str | None
    evaluations: int
    created_at: datetime
    updated_at: datetime


class CallEventOut(Out):
    at: datetime
    from_status: CallStatus | None
    to_status: CallStatus
    reason_code: str | None
    detail: str | None


class CallJobDetailOut(CallJobOut):
    events: list[CallEventOut] = Field(description="Every transition with its reason")


class CallJobQuery(ListQuery):
    location_id: Id | None = None
    contact_id: Id | None = None
    workflow_id: Id | None = None
    status: CallStatus | None = None
    call_type: CallType | None = None
    direction: CallDirection | None = None


class MinutesQuery(ListQuery):
    location_id: Id | None = None
    since: date | None = Field(default=None, description="First local day (inclusive)")
    until: date | None = Field(default=None, description="Last local day (inclusive)")


class MinutesDayOut(Out):
    location_id: int
    day: date = Field(description="The location's local calendar day of the dials")
    dials: int = Field(description="Completed dials (connected, voicemail, no answer, failed)")
    billable_seconds: int
    minutes: int = Field(description="Billable minutes, each call rounded up to a minute")
    rejected_before_dial: int = Field(
        description="Calls the compliance gate failed that day: they consumed nothing"
    )


class TurnOut(Out):
    speaker: str = Field(description="agent | callee")
    text: str
    start: float = Field(description="Seconds from the answer")
    end: float


class TranscriptOut(Out):
    job_id: int
    turns: list[TurnOut]
    sentiment: str | None = Field(description="positive | neutral | negative; live calls only")
    sentiment_score: float | None = Field(description="VADER compound score of the callee")
    recording_seconds: float | None
    has_recording: bool
    purged_at: datetime | None = Field(
        description="When a retention purge emptied the turns and deleted the recording"
    )
