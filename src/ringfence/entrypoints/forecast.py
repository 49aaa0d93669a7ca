"""The workflow forecast as both the API (`GET /workflows/{id}/forecast`) and the workflow
editor's page present it: reasons ordered most frequent first, each with its sentence.

Shared by `entrypoints.api` and `entrypoints.web`, which do not import each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TypeVar

from pydantic import BaseModel, Field

from ringfence.domain.compliance import REASONS, WARNINGS, ReasonCode, ReasonInfo, WarningCode
from ringfence.domain.vocabulary import CallPurpose
from ringfence.services.workflows.forecast import WorkflowForecast


class ReasonCountOut(BaseModel):
    code: str = Field(description="The reason code (warning code for warnings)")
    text: str
    count: int


class NotReachedOut(BaseModel):
    reason: str
    count: int


class ScheduleDayOut(BaseModel):
    day: date = Field(description="The location's local calendar day")
    dials: int


class ForecastOut(BaseModel):
    """What the dispatcher would do with the workflow's calls if its audience enrolled now."""

    workflow_id: int
    as_of: datetime
    call_step: str | None = Field(description="The first Voice AI call step (null: none)")
    purpose: CallPurpose | None
    audience: int = Field(description="Contacts the draft's audience filters admit now")
    calls: int = Field(description="Audience contacts whose path reaches the call step")
    not_reached: list[NotReachedOut] = Field(
        description="Audience contacts whose path ends before the call step, by reason"
    )
    called: int = Field(description="Calls that would dial within the horizon")
    deferred: list[ReasonCountOut] = Field(
        description="Calls deferred at least once, by the reason of their first deferral (they "
        "may still dial later; waiting for the location's next one-minute slot is 'queued', "
        "not deferred)"
    )
    failed: list[ReasonCountOut] = Field(description="Calls that would fail, by reason")
    pending_at_horizon: int = Field(description="Calls neither dialed nor failed by the horizon")
    schedule: list[ScheduleDayOut] = Field(description="Expected dials per location-local day")
    fourteen_day_limit: int = Field(
        description="Calls to numbers whose dials in the last 14 days, plus their queued or "
        "deferred calls from any workflow, plus this call, exceed 4"
    )
    warnings: list[ReasonCountOut] = Field(description="Calls per risk warning (never blocking)")
    competing_jobs: int = Field(
        description="Calls already queued or deferred at the location, simulated first"
    )
    first_dial_at: datetime | None
    last_dial_at: datetime | None
    horizon_end: datetime

    @classmethod
    def build(cls, found: WorkflowForecast) -> ForecastOut:
        result = found.result
        return cls(
            workflow_id=found.workflow_id,
            as_of=found.as_of,
            call_step=found.call_step,
            purpose=found.purpose,
            audience=found.audience,
            calls=found.calls,
            not_reached=[
                NotReachedOut(reason=reason, count=count)
                for reason, count in sorted(found.not_reached.items(), key=_most_first)
            ],
            called=result.called,
            deferred=_counts(result.deferred, REASONS),
            failed=_counts(result.failed, REASONS),
            pending_at_horizon=result.pending,
            schedule=[ScheduleDayOut(day=day, dials=dials) for day, dials in result.schedule],
            fourteen_day_limit=found.fourteen_day_limit,
            warnings=_counts(result.warnings, WARNINGS),
            competing_jobs=found.competing_jobs,
            first_dial_at=result.first_dial_at,
            last_dial_at=result.last_dial_at,
            horizon_end=result.horizon_end,
        )


def _most_first(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


CodeT = TypeVar("CodeT", ReasonCode, WarningCode)


def _counts(counts: Mapping[CodeT, int], info: Mapping[CodeT, ReasonInfo]) -> list[ReasonCountOut]:
    """Most frequent first, then by code, each with its sentence."""
    return [
        ReasonCountOut(code=code.value, text=info[code].sentence, count=count)
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0].value))
    ]
