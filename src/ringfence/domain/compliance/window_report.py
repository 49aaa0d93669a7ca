"""`ringfence window NUMBER [--at] [--purpose] [--postal]`: when may this number be called?

Only the time rules: the platform's 10:00-18:00 over the candidate zones, and, when a marketing
purpose is given, the state solicitation rules. Consent, DND and the caps need a contact and
its history, which the CLI does not have; `evaluate()` covers those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import phonenumbers

from ringfence.domain.compliance.facts import require_aware
from ringfence.domain.compliance.gate import check_number, compile_policy, contact_geography
from ringfence.domain.compliance.policy import DEFAULT_POLICY, PlatformPolicy
from ringfence.domain.compliance.reasons import ReasonCode
from ringfence.domain.compliance.windows import next_allowed
from ringfence.domain.vocabulary import CallPurpose


@dataclass(frozen=True, slots=True)
class WindowReport:
    """`callable` is False when the number can never be called (not a US number, invalid,
    toll-free, or no instant in the search horizon). `next_start` is `at` itself when the
    window holds now; `window_end` ends that continuous allowed stretch. `reason` says why
    the number is not callable, or not callable now; None when `allowed_now`."""

    number: str
    region: str | None
    time_zones: tuple[str, ...]
    states: tuple[str, ...]
    callable: bool
    allowed_now: bool
    next_start: datetime | None
    window_end: datetime | None
    reason: ReasonCode | None


def _to_e164(raw: str) -> tuple[str | None, str | None]:
    """E.164 text and region of whatever the user typed (national notation read as US)."""
    try:
        parsed = phonenumbers.parse(raw.strip(), "US")
    except phonenumbers.NumberParseException:
        return None, None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.region_code_for_number(parsed)


def calling_window(
    number: str,
    *,
    at: datetime,
    purpose: CallPurpose | None = None,
    postal_code: str | None = None,
    policy: PlatformPolicy = DEFAULT_POLICY,
) -> WindowReport:
    """The calling window for `number` as seen at `at` (timezone-aware)."""
    require_aware(at, "at")
    e164, parsed_region = _to_e164(number)
    check, info = check_number(e164, policy)
    if e164 is None:
        return WindowReport(
            number, None, (), (), False, False, None, None, ReasonCode.NUMBER_INVALID
        )
    region = info.region if info.nanp else parsed_region
    if check.reason is not None or info.npa is None:
        return WindowReport(
            e164,
            region,
            (),
            (),
            False,
            False,
            None,
            None,
            check.reason or ReasonCode.NUMBER_INVALID,
        )
    geography = contact_geography(info.npa, postal_code)
    compiled = compile_policy(policy)
    rules = compiled.platform
    states: tuple[str, ...] = tuple(sorted(geography.states))
    if purpose is not None and purpose.is_marketing:
        rules = compiled.state_rules(geography.states).combined
    found = next_allowed(rules, geography.zones, at, at + policy.search_horizon)
    if found is None:
        return WindowReport(
            e164,
            region,
            geography.zones,
            states,
            False,
            False,
            None,
            None,
            ReasonCode.NO_CALLABLE_WINDOW,
        )
    start, end = found
    allowed_now = start == at
    reason = None if allowed_now else rules.block_reason(geography.zones, at)
    return WindowReport(
        e164,
        region,
        geography.zones,
        states,
        True,
        allowed_now,
        start,
        end,
        None if allowed_now else (reason or ReasonCode.OUTSIDE_WINDOW),
    )
