"""Who a workflow may enroll and still call: the audience filters, as one pure check.

Evaluated at enrollment and again before every call step, because a contact's tags, consent
and appointments change while they wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ringfence.domain.tags import COMPLAINT_TAG, OPT_OUT_TAG, QA_TEST_TAG
from ringfence.domain.workflows.definition import Audience
from ringfence.domain.workflows.timing import AppointmentView


@dataclass(frozen=True, slots=True)
class ContactView:
    contact_id: int
    tags: frozenset[str]
    has_crm_form_consent: bool  # an unrevoked opt-in from a CRM-hosted form
    dnd_voice: bool
    opted_out: bool
    last_contacted_at: datetime | None
    has_upcoming_appointment: bool
    opportunity_stages: frozenset[str]
    appointment: AppointmentView | None = None  # the trigger's appointment, if any


@dataclass(frozen=True, slots=True)
class Admission:
    admitted: bool
    reasons: tuple[str, ...] = ()  # why not, one sentence per failed filter

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)


def admit(audience: Audience, contact: ContactView, now: datetime, *, test_mode: bool) -> Admission:
    """Every failed filter, not just the first, so the enrollment log answers "why not?"."""
    reasons: list[str] = []
    if contact.opted_out:
        # Not a filter anyone can switch off: an opt-out leaves every workflow.
        reasons.append("the contact opted out")
    if test_mode and QA_TEST_TAG not in contact.tags:
        reasons.append(f"test mode: only contacts tagged {QA_TEST_TAG!r} are enrolled")
    reasons += [f"lacks tag {tag!r}" for tag in audience.has_tags if tag not in contact.tags]
    reasons += [f"has tag {tag!r}" for tag in audience.lacks_tags if tag in contact.tags]
    if audience.require_crm_form_consent and not contact.has_crm_form_consent:
        reasons.append("no opt-in through a CRM-hosted form")
    if audience.exclude_voice_dnd and contact.dnd_voice:
        reasons.append("DND is set on the voice channel")
    if audience.exclude_opt_out_tag and OPT_OUT_TAG in contact.tags:
        reasons.append(f"has the opt-out tag {OPT_OUT_TAG!r}")
    if audience.exclude_complaint_tag and COMPLAINT_TAG in contact.tags:
        reasons.append(f"has the complaint tag {COMPLAINT_TAG!r}")
    days = audience.last_contacted_more_than_days
    last = contact.last_contacted_at
    if days is not None and last is not None and now - last <= timedelta(days=days):
        reasons.append(
            f"last contacted {_ago(now - last)} ago (the filter wants more than {days} days)"
        )
    if audience.appointment_statuses:
        status = contact.appointment.status if contact.appointment else None
        if status not in audience.appointment_statuses:
            wanted = ", ".join(s.value for s in audience.appointment_statuses)
            shown = f"the appointment is {status.value}" if status else "there is no appointment"
            reasons.append(f"{shown} (the filter wants {wanted})")
    if audience.opportunity_stages and not (
        contact.opportunity_stages & set(audience.opportunity_stages)
    ):
        reasons.append(
            "no opportunity in stage " + " / ".join(repr(s) for s in audience.opportunity_stages)
        )
    if audience.has_upcoming_appointment is not None:
        if audience.has_upcoming_appointment and not contact.has_upcoming_appointment:
            reasons.append("no upcoming appointment")
        elif not audience.has_upcoming_appointment and contact.has_upcoming_appointment:
            reasons.append("already has an upcoming appointment")
    return Admission(not reasons, tuple(reasons))


def _ago(delta: timedelta) -> str:
    if delta >= timedelta(days=1):
        return f"{delta.days} day(s)"
    return f"{int(delta.total_seconds() // 3600)} hour(s)"
