"""The compliance engine: may this call dial now, later, or never? Pure; see docs/compliance.md.

evaluation = evaluate(facts, now)          # Dial | Defer(until, reason) | Fail(reason)
evaluation.checks                          # every rule's result, with its numbers
calling_window("+1 541 555 0100", at=now)  # the CLI's `ringfence window`
"""

from __future__ import annotations

from ringfence.domain.compliance.facts import (
    AccountFacts,
    CallFacts,
    ConsentFact,
    ConsentFacts,
    ContactFacts,
    LocationFacts,
    NaiveDatetimeError,
    Suppression,
    SuppressionSource,
)
from ringfence.domain.compliance.gate import evaluate
from ringfence.domain.compliance.numbers import NumberInfo, classify_e164
from ringfence.domain.compliance.policy import (
    DEFAULT_POLICY,
    POLICY_VERSION,
    Confidence,
    LocalHours,
    PlatformPolicy,
    StateRule,
)
from ringfence.domain.compliance.postal import PostalPlace, postal_place
from ringfence.domain.compliance.reasons import (
    REASONS,
    WARNINGS,
    Effect,
    ReasonCode,
    ReasonInfo,
    Rule,
    WarningCode,
)
from ringfence.domain.compliance.throttles import location_day_bounds
from ringfence.domain.compliance.timezones import (
    FIFTY_STATES_ZONES,
    OVERLAY_GROUPS,
    candidate_zones,
    zones_for_npa,
)
from ringfence.domain.compliance.verdicts import (
    Defer,
    Dial,
    Evaluation,
    Fail,
    Outcome,
    RiskWarning,
    RuleCheck,
    Verdict,
)
from ringfence.domain.compliance.window_report import WindowReport, calling_window
from ringfence.domain.compliance.windows import zone

__all__ = [
    "DEFAULT_POLICY",
    "FIFTY_STATES_ZONES",
    "OVERLAY_GROUPS",
    "POLICY_VERSION",
    "REASONS",
    "WARNINGS",
    "AccountFacts",
    "CallFacts",
    "Confidence",
    "ConsentFact",
    "ConsentFacts",
    "ContactFacts",
    "Defer",
    "Dial",
    "Effect",
    "Evaluation",
    "Fail",
    "LocalHours",
    "LocationFacts",
    "NaiveDatetimeError",
    "NumberInfo",
    "Outcome",
    "PlatformPolicy",
    "PostalPlace",
    "ReasonCode",
    "ReasonInfo",
    "RiskWarning",
    "Rule",
    "RuleCheck",
    "StateRule",
    "Suppression",
    "SuppressionSource",
    "Verdict",
    "WarningCode",
    "WindowReport",
    "calling_window",
    "candidate_zones",
    "classify_e164",
    "evaluate",
    "location_day_bounds",
    "postal_place",
    "zone",
    "zones_for_npa",
]
