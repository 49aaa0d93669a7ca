"""Ready-made workflows for the product description's five use cases.

Each follows the description's "Best practices": the recent-relationship use cases only, the
timing it recommends (24-48 h before, 1-7 days after a consult, a few days after a no-show,
the retreatment interval), CRM-form opt-in audiences without DND, opt-out or complaint tags,
and a branch that hands the calls the agent could not finish to staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ringfence.domain.vocabulary import CallPurpose


@dataclass(frozen=True, slots=True)
class Template:
    key: str
    name: str
    description: str
    purpose: CallPurpose
    # The definition with "{agent_id}" / "{from_number_id}" left for the user's choice.
    trigger: dict[str, Any]
    audience: dict[str, Any]
    before_call: tuple[dict[str, Any], ...]
    action_name: str
    # Tags the template's trigger or filters need (created with the workflow).
    tags: tuple[str, ...] = ()

    def definition(self, *, agent_id: int, from_number_id: int) -> dict[str, Any]:
        call = {
            "type": "voice_ai_call",
            "action_name": self.action_name,
            "agent_id": agent_id,
            "from_number_id": from_number_id,
            "purpose": self.purpose.value,
        }
        return {
            "trigger": self.trigger,
            "audience": self.audience,
            "steps": [*self.before_call, call, _FOLLOW_UP_BRANCH],
        }


_DAY = 24 * 60

_FOLLOW_UP_BRANCH: dict[str, Any] = {
    "type": "branch",
    "cases": [
        {
            "label": "Reached, no answer given",
            "when": ["voicemail", "no_answer"],
            "steps": [
                {
                    "type": "create_task",
                    "title": "Voice AI could not reach the patient: call them back",
                    "due_in_hours": 24,
                }
            ],
        },
        {
            "label": "Could not be placed",
            "when": ["failed", "deferred_then_failed"],
            "steps": [
                {
                    "type": "create_task",
                    "title": "Voice AI call could not be placed: follow up by phone",
                    "due_in_hours": 4,
                }
            ],
        },
        {
            "label": "Opted out",
            "when": ["opted_out"],
            "steps": [{"type": "add_note", "body": "Asked not to be called again (Voice AI)."}],
        },
    ],
    "otherwise": [],
}

TEMPLATES: tuple[Template, ...] = (
    Template(
        key="appointment_confirmation",
        name="Appointment confirmation (24-48 h before)",
        description="Calls patients 24-48 hours before a booked appointment to confirm or "
        "reschedule. Appointments booked less than 24 h ahead are not called.",
        purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
        trigger={"kind": "appointment_scheduled"},
        audience={"appointment_statuses": ["scheduled"]},
        before_call=(
            {
                "type": "wait",
                "until": "before_appointment",
                "earliest_hours_before": 48,
                "latest_hours_before": 24,
                "short_notice": "skip",
            },
        ),
        action_name="Call patient to confirm their appointment",
    ),
    Template(
        key="consult_follow_up",
        name="Consult follow-up (2 days after a consult without booking)",
        description="Re-engages patients who attended a consult but did not book, two days "
        "later (the description's 1-7 day window). Skipped if they have booked since.",
        purpose=CallPurpose.CONSULT_FOLLOW_UP,
        trigger={"kind": "consult_completed_without_booking"},
        audience={"has_upcoming_appointment": False, "last_contacted_more_than_days": 1},
        before_call=({"type": "wait", "until": "duration", "minutes": 2 * _DAY},),
        action_name="Follow up on the consult",
    ),
    Template(
        key="no_show_recovery",
        name="No-show recovery (next day)",
        description="Calls patients the day after a missed appointment to rebook, unless "
        "they have already rebooked.",
        purpose=CallPurpose.NO_SHOW_RECOVERY,
        trigger={"kind": "appointment_no_show"},
        audience={"has_upcoming_appointment": False},
        before_call=({"type": "wait", "until": "duration", "minutes": _DAY},),
        action_name="Call patient to rebook a missed appointment",
    ),
    Template(
        key="treatment_reminder",
        name="Botox retreatment reminder (3 months)",
        description="Reminds patients of their retreatment interval: 90 days after their last "
        "completed Botox treatment, if nothing is booked.",
        purpose=CallPurpose.TREATMENT_REMINDER,
        trigger={"kind": "appointment_completed", "service_contains": "Botox"},
        audience={"has_upcoming_appointment": False, "last_contacted_more_than_days": 14},
        before_call=(
            {
                "type": "wait",
                "until": "after_last_treatment",
                "days": 90,
                "service_contains": "Botox",
            },
        ),
        action_name="Remind patient of their Botox retreatment",
    ),
    Template(
        key="lead_reactivation",
        name="Lead reactivation (tag 'Reactivate')",
        description="Reconnects with leads who expressed interest, when staff tag them "
        "'Reactivate'. Only leads not contacted for 30 days; the description warns against "
        "leads 90+ days cold without re-confirming opt-in (the forecast flags them).",
        purpose=CallPurpose.LEAD_REACTIVATION,
        trigger={"kind": "contact_tag_added", "tag": "Reactivate"},
        audience={"last_contacted_more_than_days": 30},
        before_call=(),
        action_name="Reconnect with an interested lead",
        tags=("Reactivate",),
    ),
)

BY_KEY = {template.key: template for template in TEMPLATES}
