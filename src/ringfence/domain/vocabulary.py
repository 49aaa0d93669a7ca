"""The product's shared vocabulary: the enums every layer speaks.

These are plain `StrEnum`s so they store as readable strings in the database, travel as
strings in JSON, and compare equal to their values in tests.
"""

from __future__ import annotations

from enum import StrEnum


class ContactSource(StrEnum):
    """How a contact entered the CRM.

    The product description: contacts "added by import, manual entry, or external sources do
    not pass automated opt-in checks" - only a CRM-hosted form (or manually confirmed written
    consent) counts as documented opt-in.
    """

    FORM = "form"
    IMPORT = "import"
    MANUAL = "manual"
    API = "api"
    EXTERNAL = "external"


class Channel(StrEnum):
    VOICE = "voice"
    SMS = "sms"
    EMAIL = "email"


class ConsentKind(StrEnum):
    """What a consent record is evidence of. Records are append-only; a revocation is a record."""

    CRM_FORM = "crm_form"
    MANUAL_WRITTEN = "manual_written"
    REVOCATION = "revocation"


class KycStatus(StrEnum):
    NOT_STARTED = "not_started"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    NEEDS_CHANGES = "needs_changes"


class AppointmentStatus(StrEnum):
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    CANCELED = "canceled"
    NO_SHOW = "no_show"
    COMPLETED = "completed"


class CallPurpose(StrEnum):
    """The five use cases of the product description.

    Informational purposes (health care messages) obey the platform rules only; marketing
    purposes additionally obey state solicitation rules (see docs/compliance.md).
    """

    APPOINTMENT_CONFIRMATION = "appointment_confirmation"
    NO_SHOW_RECOVERY = "no_show_recovery"
    CONSULT_FOLLOW_UP = "consult_follow_up"
    TREATMENT_REMINDER = "treatment_reminder"
    LEAD_REACTIVATION = "lead_reactivation"

    @property
    def is_marketing(self) -> bool:
        return self not in _INFORMATIONAL

    @property
    def label(self) -> str:
        """What staff read ("Appointment confirmation"), never the code."""
        return _PURPOSE_LABELS[self]


_PURPOSE_LABELS = {
    CallPurpose.APPOINTMENT_CONFIRMATION: "Appointment confirmation",
    CallPurpose.NO_SHOW_RECOVERY: "No-show recovery",
    CallPurpose.CONSULT_FOLLOW_UP: "Consult follow-up",
    CallPurpose.TREATMENT_REMINDER: "Treatment reminder",
    CallPurpose.LEAD_REACTIVATION: "Lead reactivation",
}
_INFORMATIONAL = frozenset({CallPurpose.APPOINTMENT_CONFIRMATION, CallPurpose.NO_SHOW_RECOVERY})


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class TaskPriority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class CallDirection(StrEnum):
    """Who placed the call: we dialed out, or a caller rang a practice number (issue 19).

    Only outbound calls count toward pacing, the per-number caps, the outbound dashboard and
    the minutes ledger; an inbound call is never "dialed" (its `dialed_at` stays empty). The
    values equal `agent.profile.CallDirection`'s (the agent layer's own word for it)."""

    OUTBOUND = "outbound"
    INBOUND = "inbound"


class CallType(StrEnum):
    """Test calls (QA tag or test-mode workflow) never count in dashboard metrics."""

    TEST = "test"
    LIVE = "live"


class CarrierKind(StrEnum):
    """Which carrier places the calls of a caller ID. Stored as a plain string (no database
    constraint), so adding a carrier is a code change: a member here and its builder in
    `bootstrap/carriers.py` (docs/architecture.md, "Add a carrier")."""

    SANDBOX = "sandbox"
    SIP = "sip"
    TWILIO = "twilio"


class CallStatus(StrEnum):
    """Where a call job is in its lifecycle (see domain/calls.py for the allowed moves)."""

    QUEUED = "queued"
    DEFERRED = "deferred"
    DIALING = "dialing"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"  # rejected before dialing (a compliance reason); never retried
    CANCELED = "canceled"
    NEEDS_REVIEW = "needs_review"  # dial state unknown after a crash: a human decides


class CallOutcome(StrEnum):
    """How a placed call ended (the dashboard's Call Status)."""

    CONNECTED = "connected"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"  # carrier rejected or number unreachable
