"""Risk warnings: surfaced to the user, never blocking.

The product description lists "The use cases that create the most risk": old leads, patients
who have not engaged for a long time, lists from third-party sources. The engine flags them on
every evaluation so the dashboard and the "why" answer can show them next to the verdict.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ringfence.domain.compliance.facts import CallFacts
from ringfence.domain.compliance.policy import PlatformPolicy
from ringfence.domain.compliance.reasons import WarningCode
from ringfence.domain.compliance.verdicts import RiskWarning
from ringfence.domain.vocabulary import CallPurpose


def months_before(instant: datetime, months: int) -> datetime:
    """The same wall-clock instant `months` calendar months earlier (day clamped to the
    month's end: 31 August minus 18 months is 28 February)."""
    index = instant.year * 12 + instant.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in (instant.day, 30, 29, 28):
        try:
            return instant.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")  # pragma: no cover


def risk_warnings(
    facts: CallFacts, now: datetime, consent_at: datetime | None, policy: PlatformPolicy
) -> tuple[RiskWarning, ...]:
    """Lead reactivation to a contact cold for 90+ days ("Calling old leads (90+ days cold)
    without re-confirming opt-in"); consent older than 18 months (the Telemarketing Sales
    Rule's 18-month established-business-relationship horizon); imported or external
    contacts ("Calling lists from third-party sources")."""
    found: list[RiskWarning] = []
    contact = facts.contact
    if facts.purpose is CallPurpose.LEAD_REACTIVATION:
        engaged = contact.last_engaged_at
        if engaged is None:
            found.append(RiskWarning(WarningCode.COLD_LEAD, "no recorded engagement"))
        elif now - engaged >= policy.cold_lead_after:
            days = (now - engaged).days
            found.append(
                RiskWarning(WarningCode.COLD_LEAD, "last engaged {} ({} days ago)", (engaged, days))
            )
    if (
        consent_at is not None
        # Cheap pre-check: any N calendar months span at least N * 28 days.
        and now - consent_at > timedelta(days=28 * policy.stale_consent_months)
        and consent_at < months_before(now, policy.stale_consent_months)
    ):
        found.append(
            RiskWarning(
                WarningCode.STALE_CONSENT,
                "consent from {} is older than {} months",
                (consent_at, policy.stale_consent_months),
            )
        )
    if contact.source in policy.warn_sources:
        found.append(
            RiskWarning(WarningCode.IMPORTED_CONTACT, "contact source: {}", (contact.source.value,))
        )
    return tuple(found)
