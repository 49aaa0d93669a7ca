"""Stable reason codes: what the engine says, which rule it enforces, and why.

Codes are `StrEnum`s so they store and travel as plain strings; never rename a member's value
(the call log keeps them). docs/compliance.md lists the same table with the covering tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Rule(StrEnum):
    """One per-rule check in an `Evaluation`, in the order the engine reports them."""

    KYC = "kyc"
    OUTBOUND_ENABLED = "outbound_enabled"
    PHONE_NUMBER = "phone_number"
    CONSENT = "consent"
    DND_VOICE = "dnd_voice"
    OPT_OUT = "opt_out"
    NUMBER_14_DAY_CAP = "number_14_day_cap"
    CALLING_WINDOW = "calling_window"
    STATE_RULES = "state_rules"
    STATE_24H_CAP = "state_24h_cap"
    NUMBER_DAILY_CAP = "number_daily_cap"
    LOCATION_DAILY_CAP = "location_daily_cap"
    LOCATION_PACING = "location_pacing"
    CALL_DEADLINE = "call_deadline"


class Effect(StrEnum):
    FAIL = "fail"
    DEFER = "defer"
    WARN = "warn"


class ReasonCode(StrEnum):
    # Fail: time will not fix these.
    KYC_NOT_APPROVED = "kyc_not_approved"
    OUTBOUND_DISABLED = "outbound_disabled"
    NUMBER_MISSING = "number_missing"
    NUMBER_INVALID = "number_invalid"
    NUMBER_NOT_US = "number_not_us"
    NUMBER_NOT_GEOGRAPHIC = "number_not_geographic"
    NO_OPT_IN = "no_opt_in"
    WRITTEN_CONSENT_UNCONFIRMED = "written_consent_unconfirmed"
    CONSENT_REVOKED = "consent_revoked"
    CONSENT_FORM_NOT_VALID = "consent_form_not_valid"
    CONSENT_FOR_OTHER_NUMBER = "consent_for_other_number"
    CONSENT_HELD_FOR_CONFIRMATION = "consent_held_for_confirmation"
    DND_VOICE = "dnd_voice"
    OPTED_OUT = "opted_out"
    NUMBER_SUPPRESSED = "number_suppressed"
    FOURTEEN_DAY_CAP = "fourteen_day_cap"
    NO_CALLABLE_WINDOW = "no_callable_window"
    DEADLINE_PASSED = "deadline_passed"
    # Defer: time will fix these.
    OUTSIDE_WINDOW = "outside_window"
    STATE_HOURS = "state_hours"
    STATE_SUNDAY_BAN = "state_sunday_ban"
    STATE_HOLIDAY_BAN = "state_holiday_ban"
    STATE_24H_CAP = "state_24h_cap"
    NUMBER_DAILY_CAP = "number_daily_cap"
    LOCATION_DAILY_CAP = "location_daily_cap"
    # Pacing: a Defer the call log shows as "queued", not "Deferred".
    LOCATION_PACING = "location_pacing"

    @property
    def info(self) -> ReasonInfo:
        return REASONS[self]

    @property
    def sentence(self) -> str:
        return REASONS[self].sentence


class WarningCode(StrEnum):
    """Risks surfaced to the user; they never block a call."""

    COLD_LEAD = "cold_lead"
    STALE_CONSENT = "stale_consent"
    IMPORTED_CONTACT = "imported_contact"

    @property
    def info(self) -> ReasonInfo:
        return WARNINGS[self]

    @property
    def sentence(self) -> str:
        return WARNINGS[self].sentence


@dataclass(frozen=True, slots=True)
class ReasonInfo:
    """A code's human sentence, the rule it enforces and the product-description line behind it."""

    sentence: str
    rule: Rule | None
    effect: Effect
    spec_line: str


_FAILED_LINE = (
    "Failed — A condition prevented the call from ever placing (missing number, no opt-in, "
    "DND flag, exceeded the 4-calls-in-14-days limit, etc.)."
)
_WINDOW_LINE = (
    "Outbound AI calls are only placed between 10:00 AM and 6:00 PM in the contact's "
    "phone-number time zone."
)
_STATE_LINE = (
    "This is stricter than the federal TCPA window (8 AM – 9 PM) and accounts for state-level "
    "rules and consumer-complaint risk."
)
_OPT_OUT_LINE = "No prior opt-out from the contact."

REASONS: dict[ReasonCode, ReasonInfo] = {
    ReasonCode.KYC_NOT_APPROVED: ReasonInfo(
        "The account's KYC registration is not approved.",
        Rule.KYC,
        Effect.FAIL,
        "KYC approval is required. You must complete the Know Your Customer registration "
        "when you click Enable Outbound Calls.",
    ),
    ReasonCode.OUTBOUND_DISABLED: ReasonInfo(
        "Outbound calling is not enabled for this account.",
        Rule.OUTBOUND_ENABLED,
        Effect.FAIL,
        "Outbound calling must be explicitly enabled for your account. Inbound Voice AI "
        "access does not automatically grant outbound permissions.",
    ),
    ReasonCode.NUMBER_MISSING: ReasonInfo(
        "The contact has no phone number.", Rule.PHONE_NUMBER, Effect.FAIL, _FAILED_LINE
    ),
    ReasonCode.NUMBER_INVALID: ReasonInfo(
        "The contact's phone number is not a valid, dialable number.",
        Rule.PHONE_NUMBER,
        Effect.FAIL,
        _FAILED_LINE,
    ),
    ReasonCode.NUMBER_NOT_US: ReasonInfo(
        "The phone number is not a United States number (Canada, the Caribbean, US "
        "territories and other countries are not called).",
        Rule.PHONE_NUMBER,
        Effect.FAIL,
        "Allowed countries | United States only |",
    ),
    ReasonCode.NUMBER_NOT_GEOGRAPHIC: ReasonInfo(
        "The phone number is toll-free, premium-rate or otherwise non-geographic: it has no "
        "time zone to check the calling window against.",
        Rule.PHONE_NUMBER,
        Effect.FAIL,
        "The platform calculates the contact's time zone automatically based on their phone "
        "number area code.",
    ),
    ReasonCode.NO_OPT_IN: ReasonInfo(
        "The contact has no documented opt-in from a CRM-hosted form.",
        Rule.CONSENT,
        Effect.FAIL,
        "Documented opt-in. The contact must have opted in via a CRM-hosted form.",
    ),
    ReasonCode.WRITTEN_CONSENT_UNCONFIRMED: ReasonInfo(
        "The contact was imported, entered manually or came from an external source, and "
        "staff have not confirmed their written consent.",
        Rule.CONSENT,
        Effect.FAIL,
        "Contacts added by import, manual entry, or external sources do not pass automated "
        "opt-in checks at launch — you must confirm written consent for those records manually.",
    ),
    ReasonCode.CONSENT_REVOKED: ReasonInfo(
        "The contact revoked their consent after giving it.",
        Rule.CONSENT,
        Effect.FAIL,
        _OPT_OUT_LINE,
    ),
    ReasonCode.CONSENT_FORM_NOT_VALID: ReasonInfo(
        "The only opt-in came through a form whose consent text failed the voice-consent scan "
        "when the person opted in, so it is not consent to AI voice calls.",
        Rule.CONSENT,
        Effect.FAIL,
        "Your forms and consent language are scanned automatically. The system reviews your "
        "existing forms for valid opt-in language.",
    ),
    ReasonCode.CONSENT_FOR_OTHER_NUMBER: ReasonInfo(
        "The contact's consent covers another phone number than the one to be dialed; a "
        "changed number needs new consent.",
        Rule.CONSENT,
        Effect.FAIL,
        "Documented opt-in. The contact must have opted in via a CRM-hosted form.",
    ),
    ReasonCode.CONSENT_HELD_FOR_CONFIRMATION: ReasonInfo(
        "A form submission arrived after this number opted out; it is held until staff "
        "confirm the consent (anyone can type someone else's number into a form).",
        Rule.CONSENT,
        Effect.FAIL,
        _OPT_OUT_LINE,
    ),
    ReasonCode.DND_VOICE: ReasonInfo(
        "The contact has Do Not Disturb set on the voice channel.",
        Rule.DND_VOICE,
        Effect.FAIL,
        "No DND flag on the voice channel for that contact.",
    ),
    ReasonCode.OPTED_OUT: ReasonInfo(
        "The contact opted out on a channel that covers voice calls.",
        Rule.OPT_OUT,
        Effect.FAIL,
        _OPT_OUT_LINE,
    ),
    ReasonCode.NUMBER_SUPPRESSED: ReasonInfo(
        "The phone number opted out at this practice (on a call, by tag, DND, flag or a "
        "revocation, from any contact or location with that number); only consent recorded "
        "after the opt-out lifts it.",
        Rule.OPT_OUT,
        Effect.FAIL,
        'The agent should handle "stop calling me" / "remove me" / "I don\'t want '
        'this" requests immediately with no objection-handling, and should automatically '
        "apply an opt-out tag that excludes the contact from future workflows.",
    ),
    ReasonCode.FOURTEEN_DAY_CAP: ReasonInfo(
        "This phone number already had the maximum calls in the last 14 days.",
        Rule.NUMBER_14_DAY_CAP,
        Effect.FAIL,
        "Calls per phone number in any 14-day window | 4 (calls beyond this fail) |",
    ),
    ReasonCode.NO_CALLABLE_WINDOW: ReasonInfo(
        "No instant in the next two weeks satisfies the calling window in every one of the "
        "contact's time zones and states.",
        Rule.CALLING_WINDOW,
        Effect.FAIL,
        _WINDOW_LINE,
    ),
    ReasonCode.DEADLINE_PASSED: ReasonInfo(
        "The call cannot be placed before its deadline (for an appointment confirmation, "
        "24 hours before the appointment), so it is not placed late.",
        Rule.CALL_DEADLINE,
        Effect.FAIL,
        "Appointment confirmations — call patients 24–48 hours before their appointment to "
        "confirm or reschedule.",
    ),
    ReasonCode.OUTSIDE_WINDOW: ReasonInfo(
        "It is outside 10:00-18:00 local time in at least one of the contact's time zones.",
        Rule.CALLING_WINDOW,
        Effect.DEFER,
        _WINDOW_LINE,
    ),
    ReasonCode.STATE_HOURS: ReasonInfo(
        "A marketing call is outside the solicitation hours of the contact's state.",
        Rule.STATE_RULES,
        Effect.DEFER,
        _STATE_LINE,
    ),
    ReasonCode.STATE_SUNDAY_BAN: ReasonInfo(
        "The contact's state bans marketing calls on Sundays.",
        Rule.STATE_RULES,
        Effect.DEFER,
        _STATE_LINE,
    ),
    ReasonCode.STATE_HOLIDAY_BAN: ReasonInfo(
        "The contact's state bans marketing calls on its legal holidays.",
        Rule.STATE_RULES,
        Effect.DEFER,
        _STATE_LINE,
    ),
    ReasonCode.STATE_24H_CAP: ReasonInfo(
        "The contact's state caps marketing calls to one number in any 24 hours.",
        Rule.STATE_24H_CAP,
        Effect.DEFER,
        _STATE_LINE,
    ),
    ReasonCode.NUMBER_DAILY_CAP: ReasonInfo(
        "This phone number was already called on today's date in one of its time zones "
        "(the contact's calendar day, wherever the location is).",
        Rule.NUMBER_DAILY_CAP,
        Effect.DEFER,
        "Calls per day per phone number | 1 |",
    ),
    ReasonCode.LOCATION_DAILY_CAP: ReasonInfo(
        "The location reached its daily call cap; the call moves to the next day.",
        Rule.LOCATION_DAILY_CAP,
        Effect.DEFER,
        "Calls per day per location | 100 (overflow defers to next day) |",
    ),
    ReasonCode.LOCATION_PACING: ReasonInfo(
        "The location placed a call less than a minute ago; the call is queued for the next slot.",
        Rule.LOCATION_PACING,
        Effect.DEFER,
        "Calls per minute per location | 1 |",
    ),
}

WARNINGS: dict[WarningCode, ReasonInfo] = {
    WarningCode.COLD_LEAD: ReasonInfo(
        "Lead reactivation to a contact with no engagement in 90 days or more: re-confirm opt-in.",
        None,
        Effect.WARN,
        "Calling old leads (90+ days cold) without re-confirming opt-in",
    ),
    WarningCode.STALE_CONSENT: ReasonInfo(
        "The consent relied on is more than 18 months old.",
        None,
        Effect.WARN,
        "Calling patients who haven't engaged in over a year",
    ),
    WarningCode.IMPORTED_CONTACT: ReasonInfo(
        "The contact came from an import or an external source.",
        None,
        Effect.WARN,
        "Calling lists from third-party sources (purchased leads, vendor exports)",
    ),
}
