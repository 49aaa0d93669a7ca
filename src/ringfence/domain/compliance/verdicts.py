"""What the engine answers: one verdict, every rule's result, and the risk warnings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from ringfence.domain.compliance.reasons import ReasonCode, Rule, WarningCode


def iso_utc(instant: datetime) -> str:
    """`2026-12-03T15:00Z`-style text for explanations (seconds only when not zero)."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ" if utc.second else "%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True, slots=True)
class Dial:
    """Every rule passes now: place the call."""

    @property
    def status(self) -> str:
        return "dial"


@dataclass(frozen=True, slots=True)
class Defer:
    """The call may be placed at `until`, the earliest instant at which every rule that time
    can cure passes at once. `reason` is the first such rule (in report order) blocking now.

    Pacing (one dial per minute per location) is a Defer whose reason is LOCATION_PACING;
    `queued` is then True and the call log shows it as "queued", not "Deferred".
    """

    until: datetime
    reason: ReasonCode

    @property
    def queued(self) -> bool:
        return self.reason is ReasonCode.LOCATION_PACING

    @property
    def status(self) -> str:
        return "queued" if self.queued else "deferred"


@dataclass(frozen=True, slots=True)
class Fail:
    """A condition time will not fix; the call is rejected before dialling and not retried."""

    reason: ReasonCode

    @property
    def status(self) -> str:
        return "failed"


Verdict = Dial | Defer | Fail

DIAL = Dial()


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    DEFERRED = "deferred"
    NOT_APPLICABLE = "not_applicable"  # e.g. state rules for an informational call
    SKIPPED = "skipped"  # could not be evaluated: an earlier fact is missing (no usable number)


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One rule's result, with its numbers, for the "why wasn't this patient called?" answer.

    `until` is when this rule alone would pass (deferred checks only). The human text is
    `detail`, rendered on demand from `note` (a `str.format` template) and `values`, so the
    dispatcher's hot path never formats strings it will not show.
    """

    rule: Rule
    outcome: Outcome
    note: str
    values: tuple[object, ...] = ()
    reason: ReasonCode | None = None
    until: datetime | None = None

    @property
    def detail(self) -> str:
        return self.note.format(*(_text(value) for value in self.values))


def _text(value: object) -> object:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    return value


@dataclass(frozen=True, slots=True)
class RiskWarning:
    """A non-blocking risk; `detail` is rendered on demand like `RuleCheck.detail`."""

    code: WarningCode
    note: str
    values: tuple[object, ...] = ()

    @property
    def detail(self) -> str:
        return self.note.format(*(_text(value) for value in self.values))


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The engine's full answer for one prospective call."""

    verdict: Verdict
    checks: tuple[RuleCheck, ...]
    warnings: tuple[RiskWarning, ...]
    time_zones: tuple[str, ...]
    states: tuple[str, ...]
    policy_version: str

    def check(self, rule: Rule) -> RuleCheck:
        for item in self.checks:
            if item.rule is rule:
                return item
        raise KeyError(rule)
