"""The "why wasn't this patient called?" answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ringfence.domain.compliance import REASONS, Defer, Evaluation, Fail, ReasonCode
from ringfence.domain.vocabulary import CallPurpose


class EligibilityQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: CallPurpose = Field(description="Why the call would be made (one of the 5 use cases)")
    at: AwareDatetime | None = Field(
        default=None, description="Evaluate at this instant instead of now (ISO 8601 with zone)"
    )


class VerdictOut(BaseModel):
    status: str = Field(description="dial | queued | deferred | failed")
    reason: ReasonCode | None
    reason_text: str | None
    until: datetime | None = Field(description="Deferred/queued: earliest instant it may dial")


class CheckOut(BaseModel):
    rule: str
    outcome: str = Field(description="passed | failed | deferred | not_applicable | skipped")
    detail: str
    reason: ReasonCode | None
    until: datetime | None


class WarningOut(BaseModel):
    code: str
    detail: str


class EligibilityOut(BaseModel):
    contact_id: int
    purpose: CallPurpose
    at: datetime
    verdict: VerdictOut
    checks: list[CheckOut]
    warnings: list[WarningOut]
    time_zones: list[str]
    states: list[str]
    policy_version: str

    @classmethod
    def build(
        cls, *, contact_id: int, purpose: CallPurpose, at: datetime, evaluation: Evaluation
    ) -> EligibilityOut:
        verdict = evaluation.verdict
        reason = verdict.reason if isinstance(verdict, Defer | Fail) else None
        return cls(
            contact_id=contact_id,
            purpose=purpose,
            at=at,
            verdict=VerdictOut(
                status=verdict.status,
                reason=reason,
                reason_text=REASONS[reason].sentence if reason is not None else None,
                until=verdict.until if isinstance(verdict, Defer) else None,
            ),
            checks=[
                CheckOut(
                    rule=check.rule.value,
                    outcome=check.outcome.value,
                    detail=check.detail,
                    reason=check.reason,
                    until=check.until,
                )
                for check in evaluation.checks
            ],
            warnings=[WarningOut(code=w.code.value, detail=w.detail) for w in evaluation.warnings],
            time_zones=list(evaluation.time_zones),
            states=list(evaluation.states),
            policy_version=evaluation.policy_version,
        )
