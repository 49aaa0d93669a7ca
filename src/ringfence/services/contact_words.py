"""What the Contacts pages say, in words a front-desk person reads: the calling status of a
patient, the gate's reasons, how a number opted out, how a contact was added, what became
of a call.

The compliance engine's own sentences (`domain/compliance/reasons.REASONS`) explain a rule to
someone who knows the rules; these say the same thing to someone who does not. Every mapping
is total over its enum (a unit test holds them to it), so a new reason code or opt-out path
cannot reach the page as a raw code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import phonenumbers

from ringfence.domain.compliance import Evaluation, Outcome, ReasonCode, Rule, SuppressionSource
from ringfence.domain.compliance.reasons import WarningCode
from ringfence.domain.dashboard.statuses import status_of
from ringfence.domain.phone import US_REGIONS
from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.domain.vocabulary import CallOutcome, CallStatus, Channel, ContactSource


class CallingStatus(StrEnum):
    """A patient's standing for AI calls, read from the gate's consent and opt-out checks of
    their number (not from the contact row's own flags alone)."""

    CAN_BE_CALLED = "can_be_called"
    OPTED_OUT = "opted_out"
    NO_CONSENT = "no_consent"
    CONSENT_HELD = "consent_held"
    NO_NUMBER = "no_number"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def tone(self) -> str:
        """The badge's look (`badge--<tone>` in app.css); the label says it in words too."""
        return _STATUS_TONES[self]


_STATUS_LABELS: Final = {
    CallingStatus.CAN_BE_CALLED: "Can be called",
    CallingStatus.OPTED_OUT: "Opted out",
    CallingStatus.NO_CONSENT: "No consent on file",
    CallingStatus.CONSENT_HELD: "Consent held for staff confirmation",
    CallingStatus.NO_NUMBER: "No usable US phone number",
}
_STATUS_TONES: Final = {
    CallingStatus.CAN_BE_CALLED: "ready",
    CallingStatus.OPTED_OUT: "cannot_call",
    CallingStatus.NO_CONSENT: "needs_attention",
    CallingStatus.CONSENT_HELD: "needs_attention",
    CallingStatus.NO_NUMBER: "cannot_call",
}


def calling_status(evaluation: Evaluation) -> CallingStatus:
    """The status the gate's own checks give: its consent check (the ledger for the number
    within the practice), its DND and opt-out checks (the number's suppression) and its number
    check. Time, caps and the account's KYC do not change a patient's standing, so they are
    left to the eligibility answer.

    A held form submission comes first: it only exists because the number opted out, and it
    is the one state staff can act on (confirm the consent, or not)."""
    consent = evaluation.check(Rule.CONSENT)
    if consent.reason is ReasonCode.CONSENT_HELD_FOR_CONFIRMATION:
        return CallingStatus.CONSENT_HELD
    blocked = (evaluation.check(Rule.OPT_OUT), evaluation.check(Rule.DND_VOICE))
    if (
        any(check.outcome is Outcome.FAILED for check in blocked)
        or consent.reason is ReasonCode.CONSENT_REVOKED
    ):
        return CallingStatus.OPTED_OUT
    if evaluation.check(Rule.PHONE_NUMBER).outcome is Outcome.FAILED:
        return CallingStatus.NO_NUMBER
    if consent.outcome is Outcome.FAILED:
        return CallingStatus.NO_CONSENT
    return CallingStatus.CAN_BE_CALLED


# Every code the gate can emit, as a sentence for staff. Numbers that come from the platform
# policy (caps, hours) are left out where they could drift, or named as the description does.
PLAIN_REASONS: Final[dict[ReasonCode, str]] = {
    ReasonCode.KYC_NOT_APPROVED: (
        "The practice's business verification (KYC) is not approved yet, so no AI calls can "
        "be placed."
    ),
    ReasonCode.OUTBOUND_DISABLED: "Outbound AI calling is not switched on for this practice.",
    ReasonCode.NUMBER_MISSING: "There is no phone number on file for this patient.",
    ReasonCode.NUMBER_INVALID: "The phone number on file is not a real, dialable number.",
    ReasonCode.NUMBER_NOT_US: "The phone number is not a US number: only US numbers are called.",
    ReasonCode.NUMBER_NOT_GEOGRAPHIC: (
        "The phone number is toll-free or a special-service number, not a patient's own line."
    ),
    ReasonCode.NO_OPT_IN: (
        "The patient has not agreed to AI calls through one of the practice's online forms."
    ),
    ReasonCode.WRITTEN_CONSENT_UNCONFIRMED: (
        "The patient was imported or typed in, and nobody has confirmed their written consent "
        "to AI calls yet."
    ),
    ReasonCode.CONSENT_REVOKED: "The patient withdrew their consent to be called.",
    ReasonCode.CONSENT_FORM_NOT_VALID: (
        "The patient signed up through a form whose wording did not cover AI calls, so it "
        "does not count as consent."
    ),
    ReasonCode.CONSENT_FOR_OTHER_NUMBER: (
        "The consent on file is for a different phone number; a new number needs new consent."
    ),
    ReasonCode.CONSENT_HELD_FOR_CONFIRMATION: (
        "A form sign-up arrived after this number opted out. It is on hold until a member of "
        "staff confirms the patient really gave consent (anyone can type a number into a form)."
    ),
    ReasonCode.DND_VOICE: "Do Not Disturb is switched on for phone calls.",
    ReasonCode.OPTED_OUT: "The patient opted out of calls.",
    ReasonCode.NUMBER_SUPPRESSED: (
        "This number asked the practice to stop calling (at any of its locations). Calls "
        "resume only after the patient gives consent again."
    ),
    ReasonCode.FOURTEEN_DAY_CAP: (
        "This number already had the most calls allowed in any 14 days (4)."
    ),
    ReasonCode.NO_CALLABLE_WINDOW: (
        "No time in the next two weeks falls inside calling hours everywhere this number could be."
    ),
    ReasonCode.DEADLINE_PASSED: (
        "It is too late for this call: it could only be placed after its deadline (for an "
        "appointment confirmation, 24 hours before the appointment)."
    ),
    ReasonCode.OUTSIDE_WINDOW: "It is outside calling hours (10 am to 6 pm where the patient is).",
    ReasonCode.STATE_HOURS: "The patient's state does not allow marketing calls at this hour.",
    ReasonCode.STATE_SUNDAY_BAN: "The patient's state does not allow marketing calls on Sundays.",
    ReasonCode.STATE_HOLIDAY_BAN: (
        "The patient's state does not allow marketing calls on its public holidays."
    ),
    ReasonCode.STATE_24H_CAP: (
        "The patient's state limits marketing calls to a number in any 24 hours, and the "
        "limit is reached."
    ),
    ReasonCode.NUMBER_DAILY_CAP: "This number was already called today: one call a day at most.",
    ReasonCode.LOCATION_DAILY_CAP: (
        "This location has placed all its calls for today; the call moves to tomorrow."
    ),
    ReasonCode.LOCATION_PACING: (
        "This location placed a call less than a minute ago; the call waits for the next "
        "free minute."
    ),
}

PLAIN_WARNINGS: Final[dict[WarningCode, str]] = {
    WarningCode.COLD_LEAD: (
        "A lead reactivation call to someone not in touch for 90 days or more: check they "
        "still want to hear from the practice."
    ),
    WarningCode.STALE_CONSENT: "The consent on file is more than 18 months old.",
    WarningCode.IMPORTED_CONTACT: "This patient came from an imported or outside list.",
}

# How a number came to be opted out, finishing "Opted out on <date>: ...".
SUPPRESSION_HOW: Final[dict[SuppressionSource, str]] = {
    SuppressionSource.CALL_OPT_OUT: "said “stop calling me” on a call",
    SuppressionSource.OPT_OUT_TAG: f"the “{OPT_OUT_TAG}” tag was added",
    SuppressionSource.OPT_OUT_FLAG: "the opt-out box was set on the patient's record",
    SuppressionSource.DND_VOICE: "Do Not Disturb for calls was switched on",
    SuppressionSource.REVOCATION: "consent was withdrawn",
    SuppressionSource.IMPORT: "arrived opted out (or on Do Not Disturb) in an import",
    SuppressionSource.BACKFILL: "was already opted out when the opt-out list was set up",
}

CONTACT_SOURCES: Final[dict[ContactSource, str]] = {
    ContactSource.FORM: "Signed up through an online form",
    ContactSource.IMPORT: "Imported from a file",
    ContactSource.MANUAL: "Entered by staff",
    ContactSource.API: "Added through the API",
    ContactSource.EXTERNAL: "From an outside source",
}

# Why a call job stopped, for the codes that are not the gate's (cancellations, carriers).
_JOB_REASONS: Final = {
    "opted_out": "the number opted out",
    "canceled_by_user": "canceled by staff",
    "workflow_exit": "the patient left the workflow",
    "workflow_unpublished": "the workflow was switched off",
    "carrier_error": "the phone carrier reported an error",
    "dial_not_placed": "the phone carrier did not place the call",
    "carrier_lost_call": "the phone carrier lost track of the call",
}

_WAITING: Final = {
    CallStatus.QUEUED: "Waiting to be placed",
    CallStatus.DEFERRED: "Postponed",
    CallStatus.DIALING: "Being placed now",
    CallStatus.RINGING: "Ringing",
    CallStatus.IN_PROGRESS: "In progress",
    CallStatus.FAILED: "Not placed",
    CallStatus.CANCELED: "Canceled",
    CallStatus.NEEDS_REVIEW: "Needs a check by staff",
}


def call_status_words(status: CallStatus, outcome: CallOutcome | None, reason: str | None) -> str:
    """A call job's state as staff read it: how a placed call ended (the dashboard's words),
    or where a call that was not placed stands, and why, never as a raw code."""
    ended = status_of(outcome)
    if status is CallStatus.COMPLETED and ended is not None:
        return ended.label
    words = _WAITING.get(status, "In progress")
    why = job_reason_words(reason)
    return f"{words}: {why}" if why else words


def job_reason_words(reason: str | None) -> str | None:
    if reason is None:
        return None
    if reason in _JOB_REASONS:
        return _JOB_REASONS[reason]
    try:
        sentence = PLAIN_REASONS[ReasonCode(reason)]
    except ValueError:
        return None  # a code this page does not know is left out, not shown raw
    return sentence[0].lower() + sentence[1:].rstrip(".")


def phone_display(e164: str | None) -> str:
    """A stored number as staff write it: "(212) 555-0147" for a US number, else the number
    in international notation; "—" for none."""
    if not e164:
        return "—"
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(parsed) in US_REGIONS:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


CHANNELS: Final = {
    Channel.VOICE: "phone calls",
    Channel.SMS: "text messages",
    Channel.EMAIL: "email",
}


def full_name(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part) or "(no name)"
