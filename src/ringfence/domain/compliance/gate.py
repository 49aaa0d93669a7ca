"""The compliance gate: one prospective call's facts and `now` in, one verdict out.

"Calls that fail compliance are rejected before they dial." `evaluate()` is pure: no I/O, no
clock; it also returns every rule's result (for "why wasn't this patient called?") and the
risk warnings. Failures win over deferrals; a Defer's `until` is the earliest instant at which
every time-curable rule passes at once (see `_verdict`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from ringfence.domain.compliance.facts import (
    CallFacts,
    ConsentFacts,
    ContactFacts,
    Suppression,
    require_aware,
)
from ringfence.domain.compliance.numbers import NumberInfo, classify_e164
from ringfence.domain.compliance.policy import DEFAULT_POLICY, LocalHours, PlatformPolicy
from ringfence.domain.compliance.postal import postal_place
from ringfence.domain.compliance.reasons import ReasonCode, Rule
from ringfence.domain.compliance.risks import risk_warnings
from ringfence.domain.compliance.throttles import (
    check_fourteen_day,
    check_location_daily,
    check_number_daily,
    check_pacing,
    check_state_24h,
    location_day_bounds,
)
from ringfence.domain.compliance.timezones import candidate_zones
from ringfence.domain.compliance.verdicts import (
    DIAL,
    Defer,
    Evaluation,
    Fail,
    Outcome,
    RuleCheck,
    Verdict,
)
from ringfence.domain.compliance.windows import WindowRules, next_allowed
from ringfence.domain.vocabulary import ContactSource, KycStatus

_WHOLE_DAY = LocalHours(0, 24 * 60)


@dataclass(frozen=True, slots=True)
class StateRules:
    """The state rules that apply to one contact, compiled for the window search."""

    states: tuple[str, ...]  # states with a rule row that applies
    state_only: WindowRules  # the state rules alone (for the per-rule check)
    combined: WindowRules  # platform window narrowed by the state rules (for the verdict)
    per_24h_cap: int | None
    label: str  # for explanations


class CompiledPolicy:
    """A policy with its window rules interned, so caches key on cheap identities."""

    def __init__(self, policy: PlatformPolicy) -> None:
        self.policy = policy
        self.platform = WindowRules(policy.window)
        self.label = str(policy.window)
        self._by_states: dict[frozenset[str], StateRules] = {}

    def state_rules(self, states: frozenset[str]) -> StateRules:
        """State rules for a contact placed in `states`; every state's rules when empty."""
        found = self._by_states.get(states)
        if found is None:
            found = self._build(states)
            self._by_states[states] = found
        return found

    def _build(self, states: frozenset[str]) -> StateRules:
        policy = self.policy
        if states:
            rules = tuple(r for r in policy.state_rules if r.state in states)
            label = "/".join(sorted(states))
        else:
            rules = policy.state_rules
            label = "state unknown: every state's rules"
        caps = [r.per_24h_cap for r in rules if r.per_24h_cap is not None]
        return StateRules(
            states=tuple(sorted(r.state for r in rules)),
            state_only=WindowRules(_WHOLE_DAY, rules),
            combined=WindowRules(policy.window, rules),
            per_24h_cap=min(caps) if caps else None,
            label=label,
        )


_COMPILED: dict[int, CompiledPolicy] = {}


def compile_policy(policy: PlatformPolicy) -> CompiledPolicy:
    # Keyed by identity: the entry holds the policy, so its id cannot be reused meanwhile.
    compiled = _COMPILED.get(id(policy))
    if compiled is None or compiled.policy is not policy:
        if len(_COMPILED) > 64:
            _COMPILED.clear()
        compiled = CompiledPolicy(policy)
        _COMPILED[id(policy)] = compiled
    return compiled


@dataclass(frozen=True, slots=True)
class Geography:
    zones: tuple[str, ...]
    states: frozenset[str]
    sorted_states: tuple[str, ...]


@lru_cache(maxsize=1 << 16)
def contact_geography(npa: str, postal_code: str | None) -> Geography:
    """Candidate zones and states of a US number's area code plus its postal address."""
    from ringfence.domain.compliance.npa_states import states_for_npa
    from ringfence.domain.compliance.postal import PostalPlace

    place: PostalPlace | None = postal_place(postal_code) if postal_code else None
    states = set(states_for_npa(npa))
    if place is not None and not place.is_territory:
        states.add(place.state)
    zones = candidate_zones(npa, place.zones if place else frozenset())
    return Geography(zones, frozenset(states), tuple(sorted(states)))


def check_number(phone_e164: str | None, policy: PlatformPolicy) -> tuple[RuleCheck, NumberInfo]:
    """ "International calls (US numbers only)", "Allowed countries | United States only".

    Present, valid, libphonenumber region in `policy.allowed_regions` (US: Canada, the
    Caribbean and the territories share +1 but fail), and geographic: a toll-free or
    premium-rate number has no time zone to hold the calling window against.
    """
    rule = Rule.PHONE_NUMBER
    if phone_e164 is None or not phone_e164.strip():
        return _NO_NUMBER, NumberInfo("", None, None, False, False)
    info = classify_e164(phone_e164.strip())
    if not info.nanp and info.valid:
        reason, note = ReasonCode.NUMBER_NOT_US, "{} is not a +1 number"
    elif not info.valid:
        reason, note = ReasonCode.NUMBER_INVALID, "{} is not a valid phone number"
    elif info.region not in policy.allowed_regions:
        reason, note = ReasonCode.NUMBER_NOT_US, "{} is in region {}"
    elif not info.geographic:
        reason, note = ReasonCode.NUMBER_NOT_GEOGRAPHIC, "{} is toll-free or non-geographic"
    else:
        return RuleCheck(rule, Outcome.PASSED, "{} is a US number", (info.e164,)), info
    return RuleCheck(rule, Outcome.FAILED, note, (info.e164, info.region), reason), info


_NO_NUMBER = RuleCheck(
    Rule.PHONE_NUMBER, Outcome.FAILED, "no phone number", reason=ReasonCode.NUMBER_MISSING
)


def check_consent(
    source: ContactSource, consent: ConsentFacts, now: datetime, policy: PlatformPolicy
) -> tuple[RuleCheck, datetime | None]:
    """ "Documented opt-in. The contact must have opted in via a CRM-hosted form. Contacts
    added by import, manual entry, or external sources [...] you must confirm written consent
    for those records manually."

    `consent` is about the exact number being dialed, within the practice: consent is given
    for a telephone number, so a record for a previous number of the contact does not count
    (CONSENT_FOR_OTHER_NUMBER). A CRM-form opt-in counts only if the form version it came
    through passed the voice-consent scan at the time (CONSENT_FORM_NOT_VALID otherwise), and
    not while it is held for staff confirmation (CONSENT_HELD_FOR_CONFIRMATION). A
    staff-confirmed written consent counts for any source; without either, a form contact
    fails NO_OPT_IN and any other source WRITTEN_CONSENT_UNCONFIRMED. A revocation on any
    channel at or after the latest consent revokes it (FCC 24-24: by any reasonable means); a
    newer consent re-establishes it. Consents recorded after `now` do not count yet.
    """
    rule = Rule.CONSENT
    form = consent.crm_form_opt_in_at
    written = consent.manual_written_at
    if form is not None and form > now:
        form = None
    if written is not None and written > now:
        written = None
    if form is not None and (written is None or form >= written):
        latest: datetime | None = form
        label = "CRM-form opt-in"
    else:
        latest = written
        label = "written consent confirmed by staff"
    revoked = consent.revoked_at
    if revoked is not None and (latest is None or revoked >= latest):
        held = consent.held_at
        if held is not None and revoked < held <= now:
            return _held(held), None  # the newest word on the number: say what it waits for
        return RuleCheck(
            rule, Outcome.FAILED, "consent revoked at {}", (revoked,), ReasonCode.CONSENT_REVOKED
        ), None
    if latest is None:
        return _no_consent(source, consent, now, policy), None
    return RuleCheck(rule, Outcome.PASSED, "{} at {}", (label, latest)), latest


def consent_in_force(
    consent: ConsentFacts, now: datetime, policy: PlatformPolicy = DEFAULT_POLICY
) -> datetime | None:
    """The instant of the consent in force for the number at `now`, or None (none on record,
    revoked, held, through a failing form): `check_consent`'s own reading, for the writers and
    filters that must agree with the gate (is a suppression lifted?). The source only changes
    the reason a failure gives, not the instant."""
    return check_consent(ContactSource.IMPORT, consent, now, policy)[1]


def _held(at: datetime) -> RuleCheck:
    return RuleCheck(
        Rule.CONSENT,
        Outcome.FAILED,
        "a form submission at {} came after the number opted out: held for staff confirmation",
        (at,),
        ReasonCode.CONSENT_HELD_FOR_CONFIRMATION,
    )


def _no_consent(
    source: ContactSource, consent: ConsentFacts, now: datetime, policy: PlatformPolicy
) -> RuleCheck:
    """The most telling reason nothing qualifies: held, invalid form, other number, none."""
    rule = Rule.CONSENT
    if consent.held_at is not None and consent.held_at <= now:
        return _held(consent.held_at)
    if consent.invalid_form_at is not None and consent.invalid_form_at <= now:
        return RuleCheck(
            rule,
            Outcome.FAILED,
            "the form opt-in at {} came through consent text that failed the voice-consent scan",
            (consent.invalid_form_at,),
            ReasonCode.CONSENT_FORM_NOT_VALID,
        )
    if consent.other_number is not None:
        return RuleCheck(
            rule,
            Outcome.FAILED,
            "consent covers {}, not the number to be dialed",
            (consent.other_number,),
            ReasonCode.CONSENT_FOR_OTHER_NUMBER,
        )
    reason = (
        ReasonCode.NO_OPT_IN
        if source in policy.form_sources
        else ReasonCode.WRITTEN_CONSENT_UNCONFIRMED
    )
    note = "no CRM-form opt-in and no confirmed written consent for this number (source: {})"
    return RuleCheck(rule, Outcome.FAILED, note, (source.value,), reason)


_KYC_OK = RuleCheck(Rule.KYC, Outcome.PASSED, "KYC approved")
_OUTBOUND_OK = RuleCheck(Rule.OUTBOUND_ENABLED, Outcome.PASSED, "outbound calling is enabled")
_OUTBOUND_OFF = RuleCheck(
    Rule.OUTBOUND_ENABLED,
    Outcome.FAILED,
    "outbound calling is not enabled",
    reason=ReasonCode.OUTBOUND_DISABLED,
)
_NO_DND = RuleCheck(Rule.DND_VOICE, Outcome.PASSED, "no DND on the voice channel")
_DND = RuleCheck(
    Rule.DND_VOICE, Outcome.FAILED, "DND is set on the voice channel", reason=ReasonCode.DND_VOICE
)
_NO_OPT_OUT = RuleCheck(
    Rule.OPT_OUT, Outcome.PASSED, "no opt-out covering voice; the number is not suppressed"
)
_INFORMATIONAL = "informational call: platform rules only"
_INFORMATIONAL_CHECKS = (
    RuleCheck(Rule.STATE_RULES, Outcome.NOT_APPLICABLE, _INFORMATIONAL),
    RuleCheck(Rule.STATE_24H_CAP, Outcome.NOT_APPLICABLE, _INFORMATIONAL),
)
_NO_NUMBER_TEXT = "no usable US phone number"
_SKIPPED_CHECKS = (
    RuleCheck(Rule.CALLING_WINDOW, Outcome.SKIPPED, _NO_NUMBER_TEXT),
    RuleCheck(Rule.STATE_RULES, Outcome.SKIPPED, _NO_NUMBER_TEXT),
    RuleCheck(Rule.STATE_24H_CAP, Outcome.SKIPPED, _NO_NUMBER_TEXT),
)


def check_dnd(contact: ContactFacts) -> RuleCheck:
    """ "No DND flag on the voice channel for that contact." DND on other channels does not
    block a voice call."""
    return _DND if contact.dnd_voice else _NO_DND


def check_opt_out(
    contact: ContactFacts,
    suppression: Suppression | None,
    consent_at: datetime | None,
    policy: PlatformPolicy,
) -> RuleCheck:
    """ "No prior opt-out from the contact." Three sources, any one fails the call:

    - the number's practice-wide suppression (NUMBER_SUPPRESSED): every opt-out path (the
      agent hearing "stop calling me", the "Opted Out" tag, voice DND, the opt-out flag, a
      revocation on any channel) writes one entry per (account, number), so the same number
      saved as another contact or at another location is suppressed too. Clearing a flag or
      a tag does not lift it; only consent recorded after the opt-out does (`consent_at`,
      the latest qualifying consent for this number, from `check_consent`);
    - the contact's own opt-out flag on a channel in `policy.opt_out_channels_covering_voice`;
    - the contact's "Opted Out" tag.
    """
    # An entry stamped after `now` (another worker's clock ran ahead) counts all the same:
    # counting it can only make the verdict stricter.
    if suppression is not None and suppression.in_force(consent_at):
        return RuleCheck(
            Rule.OPT_OUT,
            Outcome.FAILED,
            "the number is suppressed at this practice since {} ({}); no consent since",
            (suppression.at, suppression.source.value),
            ReasonCode.NUMBER_SUPPRESSED,
        )
    if (
        contact.opted_out_at is not None
        and contact.opted_out_channel in policy.opt_out_channels_covering_voice
    ):
        return RuleCheck(
            Rule.OPT_OUT,
            Outcome.FAILED,
            "opted out ({}) at {}",
            (contact.opted_out_channel or "all channels", contact.opted_out_at),
            ReasonCode.OPTED_OUT,
        )
    if contact.opt_out_tagged:
        return _TAGGED
    return _NO_OPT_OUT


_TAGGED = RuleCheck(
    Rule.OPT_OUT,
    Outcome.FAILED,
    'the contact carries the "Opted Out" tag',
    reason=ReasonCode.OPTED_OUT,
)


def _window_check(
    rules: WindowRules,
    zones: tuple[str, ...],
    now: datetime,
    limit: datetime,
    rule: Rule,
    label: str,
) -> RuleCheck:
    """A window rule at `now` over every candidate zone.

    For the platform window: "Outbound AI calls are only placed between 10:00 AM and 6:00 PM
    in the contact's phone-number time zone." With several candidate zones (multi-zone area
    codes, overlays, the postal address), the window must hold in every one of them, because
    the contact may be in any of them. Passed, deferred to the next opening, or failed when
    it never opens within the search horizon.
    """
    found = next_allowed(rules, zones, now, limit)
    if found is None:
        return RuleCheck(
            rule,
            Outcome.FAILED,
            "{} in {}: no allowed instant within the search horizon",
            (label, zones),
            ReasonCode.NO_CALLABLE_WINDOW,
        )
    start, end = found
    if start == now:
        return RuleCheck(rule, Outcome.PASSED, "{} in {}: open until {}", (label, zones, end))
    reason = rules.block_reason(zones, now) or ReasonCode.OUTSIDE_WINDOW
    return RuleCheck(
        rule,
        Outcome.DEFERRED,
        "{} in {}: closed now, opens {} until {}",
        (label, zones, start, end),
        reason,
        start,
    )


def evaluate(
    facts: CallFacts, now: datetime, policy: PlatformPolicy = DEFAULT_POLICY
) -> Evaluation:
    """Decide Dial, Defer or Fail for one prospective call at `now` (timezone-aware).

    Rules 1-4 (account, number, consent, DND/opt-out) and the 14-day cap fail; the calling
    window, state rules and the other caps defer. Every rule is evaluated and reported, even
    after a failure, so the "why" answer is complete.
    """
    require_aware(now, "now")
    compiled = compile_policy(policy)
    contact = facts.contact
    account = facts.account
    checks: list[RuleCheck] = [
        _KYC_OK
        if account.kyc_status is KycStatus.APPROVED
        else RuleCheck(
            Rule.KYC,
            Outcome.FAILED,
            "KYC status is {}",
            (account.kyc_status.value,),
            ReasonCode.KYC_NOT_APPROVED,
        ),
        _OUTBOUND_OK if account.outbound_enabled else _OUTBOUND_OFF,
    ]
    number_check, number = check_number(contact.phone_e164, policy)
    checks.append(number_check)
    consent_check, consent_at = check_consent(contact.source, facts.consent, now, policy)
    checks.append(consent_check)
    checks.append(check_dnd(contact))
    checks.append(check_opt_out(contact, facts.suppression, consent_at, policy))
    dials = facts.number_dials
    checks.append(check_fourteen_day(dials, now, policy))

    limit = now + policy.search_horizon
    zones: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    state_rules: StateRules | None = None
    if number_check.outcome is Outcome.PASSED and number.npa is not None:
        geography = contact_geography(number.npa, contact.postal_code)
        zones = geography.zones
        states = geography.sorted_states
        checks.append(
            _window_check(compiled.platform, zones, now, limit, Rule.CALLING_WINDOW, compiled.label)
        )
        if facts.purpose.is_marketing:
            state_rules = compiled.state_rules(geography.states)
            checks.append(_state_check(state_rules, zones, now, limit))
            checks.append(check_state_24h(dials, now, state_rules.per_24h_cap, state_rules.label))
        else:
            checks.extend(_INFORMATIONAL_CHECKS)
    else:
        checks.extend(_SKIPPED_CHECKS)

    location = facts.location
    # One dial a day on the contact's calendar: the day of every candidate zone (the
    # location's when the number has none).
    checks.append(check_number_daily(dials, now, zones or (location.time_zone,), policy))
    _, day_end = location_day_bounds(now, location.time_zone)
    checks.append(check_location_daily(location.dials_today, day_end, policy))
    checks.append(check_pacing(location.last_dial_at, now, policy))

    window_rules = state_rules.combined if state_rules is not None else compiled.platform
    verdict = _verdict(checks, window_rules, zones, now, limit)
    deadline_check = _deadline_check(verdict, facts.deadline, now)
    checks.append(deadline_check)
    if deadline_check.outcome is Outcome.FAILED:
        verdict = Fail(ReasonCode.DEADLINE_PASSED)
    warnings = risk_warnings(facts, now, consent_at, policy)
    return Evaluation(verdict, tuple(checks), warnings, zones, states, policy.version)


_NO_DEADLINE = RuleCheck(Rule.CALL_DEADLINE, Outcome.NOT_APPLICABLE, "the call has no deadline")


def _deadline_check(verdict: Verdict, deadline: datetime | None, now: datetime) -> RuleCheck:
    """A call with a deadline dials before it or not at all: placing an appointment
    confirmation 3 hours before the appointment is not what the workflow asked for."""
    if deadline is None:
        return _NO_DEADLINE
    if isinstance(verdict, Fail):
        return RuleCheck(Rule.CALL_DEADLINE, Outcome.SKIPPED, "must dial before {}", (deadline,))
    earliest = verdict.until if isinstance(verdict, Defer) else now
    if earliest >= deadline:
        return RuleCheck(
            Rule.CALL_DEADLINE,
            Outcome.FAILED,
            "must dial before {}; the earliest allowed instant is {}",
            (deadline, earliest),
            ReasonCode.DEADLINE_PASSED,
        )
    return RuleCheck(Rule.CALL_DEADLINE, Outcome.PASSED, "must dial before {}", (deadline,))


def _state_check(
    rules: StateRules, zones: tuple[str, ...], now: datetime, limit: datetime
) -> RuleCheck:
    """State solicitation rules (marketing purposes only): hours, Sunday and holiday bans, in
    every candidate zone. "accounts for state-level rules and consumer-complaint risk"."""
    if not rules.states:
        return RuleCheck(
            Rule.STATE_RULES, Outcome.PASSED, "no state solicitation rule for {}", (rules.label,)
        )
    return _window_check(rules.state_only, zones, now, limit, Rule.STATE_RULES, rules.label)


def _verdict(
    checks: list[RuleCheck],
    rules: WindowRules,
    zones: tuple[str, ...],
    now: datetime,
    limit: datetime,
) -> Verdict:
    """Failures first (report order); else the earliest instant all time-curable rules pass.

    The counting rules only ever free up as time passes, so each deferred one is a lower
    bound (`until`); the window rules are periodic, so the answer is the first allowed instant
    of the zones' intersection at or after the latest bound.
    """
    first_deferred: ReasonCode | None = None
    start = now
    for check in checks:
        if check.outcome is Outcome.FAILED and check.reason is not None:
            return Fail(check.reason)
        if check.outcome is Outcome.DEFERRED:
            if first_deferred is None:
                first_deferred = check.reason
            if check.until is not None and check.until > start:
                start = check.until
    if first_deferred is None:
        # Every rule passed at `now`: the platform window and the state rules each hold, so
        # their intersection (`rules`) does too.
        return DIAL
    found = next_allowed(rules, zones, start, limit)
    if found is None:
        return Fail(ReasonCode.NO_CALLABLE_WINDOW)
    if found[0] == now:
        return DIAL
    return Defer(found[0], first_deferred)
