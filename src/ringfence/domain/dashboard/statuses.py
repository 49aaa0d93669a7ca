"""The dashboard's Call Status: how a placed call ended, in the four words staff see.

"Connected Calls" counts live conversations *and* voicemail (the call reached the patient's
line); the call log's Call Status keeps the two apart. A busy line is a No Answer: nobody
picked up, and nothing about the number or the caller ID is wrong. "Failed" is the carrier's
refusal or an unreachable number, the figure that points at spam-flagged caller IDs.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from ringfence.domain.vocabulary import CallOutcome


class DashStatus(StrEnum):
    CONNECTED = "connected"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: Final = {
    DashStatus.CONNECTED: "Connected",
    DashStatus.VOICEMAIL: "Voicemail",
    DashStatus.NO_ANSWER: "No Answer",
    DashStatus.FAILED: "Failed",
}

STATUS_OF: Final[dict[CallOutcome, DashStatus]] = {
    CallOutcome.CONNECTED: DashStatus.CONNECTED,
    CallOutcome.VOICEMAIL: DashStatus.VOICEMAIL,
    CallOutcome.NO_ANSWER: DashStatus.NO_ANSWER,
    CallOutcome.BUSY: DashStatus.NO_ANSWER,
    CallOutcome.FAILED: DashStatus.FAILED,
}

# The Connected Calls tile: a live person or voicemail.
REACHED: Final = frozenset({DashStatus.CONNECTED, DashStatus.VOICEMAIL})


def outcomes_for(statuses: frozenset[DashStatus]) -> frozenset[CallOutcome]:
    """The stored outcomes behind a set of dashboard statuses (for a WHERE clause)."""
    return frozenset(outcome for outcome, status in STATUS_OF.items() if status in statuses)


def status_of(outcome: CallOutcome | None) -> DashStatus | None:
    """None while the call is still in progress (or its dial is under review)."""
    return STATUS_OF[outcome] if outcome is not None else None


# Actions a call triggered, as the Actions Triggered tile lists them.
ACTION_LABELS: Final = {
    "tag_applied": "Tag applied",
    "tag_removed": "Tag removed",
    "task_created": "Task created",
    "opportunity_moved": "Opportunity moved",
    "note_added": "Note added",
    "webhook_sent": "Webhook sent",
    "appointment_confirmed": "Appointment confirmed",
    "opt_out_applied": "Opt-out applied",
    "calls_canceled": "Pending calls canceled",
    "call_transferred": "Transferred to staff",
}


def action_label(kind: str) -> str:
    return ACTION_LABELS.get(kind, kind.replace("_", " ").capitalize())
