"""The editor's trigger and audience forms: their fields, the posted values as the
definition's JSON, and a saved trigger or audience back as form values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ringfence.domain.tags import QA_TEST_TAG
from ringfence.domain.vocabulary import AppointmentStatus
from ringfence.domain.workflows.definition import (
    MAX_NAME_LENGTH,
    MAX_NAMES,
    MAX_SERVICE_LENGTH,
    TriggerKind,
)
from ringfence.entrypoints.web.routes.workflows.step_forms import (
    Choice,
    FormField,
    Submitted,
    Widget,
    choices_of,
    label_of,
    text_of,
)

# A comma-separated list of names, as typed: every name at its longest, with ", " between.
NAMES_TEXT_LENGTH: Final = MAX_NAMES * (MAX_NAME_LENGTH + 2)

TRIGGER_LABELS: Final = {
    TriggerKind.APPOINTMENT_SCHEDULED: "Appointment scheduled",
    TriggerKind.APPOINTMENT_RESCHEDULED: "Appointment rescheduled",
    TriggerKind.APPOINTMENT_CANCELED: "Appointment canceled",
    TriggerKind.APPOINTMENT_NO_SHOW: "Appointment no-show",
    TriggerKind.APPOINTMENT_COMPLETED: "Appointment completed",
    TriggerKind.CONTACT_TAG_ADDED: "Contact tag added",
    TriggerKind.OPPORTUNITY_STAGE_CHANGED: "Opportunity stage changed",
    TriggerKind.FORM_SUBMITTED: "Form submitted",
    TriggerKind.CONSULT_COMPLETED_WITHOUT_BOOKING: "Consult completed without booking",
    TriggerKind.CUSTOM: "Custom event",
}

TRIGGER_FIELDS: Final = (
    FormField(
        "kind",
        "Trigger",
        Widget.SELECT,
        required=True,
        choices=choices_of((kind.value, label) for kind, label in TRIGGER_LABELS.items()),
    ),
    FormField(
        "tag",
        "Tag",
        hint="Contact tag added: the tag that starts the workflow.",
        max_length=MAX_NAME_LENGTH,
    ),
    FormField(
        "stage",
        "Stage",
        hint="Opportunity stage changed: the stage moved to.",
        max_length=MAX_NAME_LENGTH,
    ),
    FormField("form_id", "Form id", Widget.NUMBER, hint="Form submitted: only this form."),
    FormField(
        "event_name", "Event name", hint="Custom event: its name.", max_length=MAX_NAME_LENGTH
    ),
    FormField(
        "service_contains",
        "Service contains",
        hint='Appointment triggers: only appointments whose service contains this, e.g. "Botox".',
        max_length=MAX_SERVICE_LENGTH,
    ),
)


def trigger_data(form: Submitted) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": form.get("kind").strip()}
    for f in TRIGGER_FIELDS[1:]:
        value = form.get(f.name).strip()
        if value:
            data[f.name] = value
    return data


_UPCOMING_CHOICES: Final = (
    Choice("", "Either"),
    Choice("true", "Must have one"),
    Choice("false", "Must not have one"),
)

AUDIENCE_FIELDS: Final = (
    FormField(
        "has_tags",
        "Has all of these tags",
        hint=f'Comma-separated. For a first run, point it at "{QA_TEST_TAG}".',
        max_length=NAMES_TEXT_LENGTH,
    ),
    FormField(
        "lacks_tags",
        "Has none of these tags",
        hint="Comma-separated.",
        max_length=NAMES_TEXT_LENGTH,
    ),
    FormField(
        "require_crm_form_consent",
        "Opted in through a CRM-hosted form",
        Widget.CHECKBOX,
        hint="External-source contacts do not pass the automated compliance checks.",
    ),
    FormField("exclude_voice_dnd", "Exclude contacts with voice DND", Widget.CHECKBOX),
    FormField("exclude_opt_out_tag", 'Exclude the "Opted Out" tag', Widget.CHECKBOX),
    FormField("exclude_complaint_tag", 'Exclude the "Recent Complaint" tag', Widget.CHECKBOX),
    FormField(
        "last_contacted_more_than_days",
        "Last contacted more than (days) ago",
        Widget.NUMBER,
        hint="Keeps contacts clear of the 4-calls-in-14-days limit across workflows.",
    ),
    FormField(
        "appointment_statuses",
        "The trigger's appointment is",
        Widget.CHECKBOXES,
        hint="Appointment triggers only; none ticked: any status.",
        choices=choices_of((s.value, label_of(s.value)) for s in AppointmentStatus),
    ),
    FormField(
        "opportunity_stages",
        "Open opportunity in one of these stages",
        hint="Comma-separated; empty: no opportunity needed.",
        max_length=NAMES_TEXT_LENGTH,
    ),
    FormField(
        "has_upcoming_appointment",
        "Upcoming appointment",
        Widget.SELECT,
        choices=_UPCOMING_CHOICES,
    ),
    FormField(
        "test_mode",
        f'Test mode: only contacts tagged "{QA_TEST_TAG}", every call a Test call',
        Widget.CHECKBOX,
    ),
)

_LISTS: Final = ("has_tags", "lacks_tags", "opportunity_stages")
_FLAGS: Final = (
    "require_crm_form_consent",
    "exclude_voice_dnd",
    "exclude_opt_out_tag",
    "exclude_complaint_tag",
)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def audience_data(form: Submitted) -> tuple[dict[str, Any], bool]:
    """The audience's JSON and the test-mode flag."""
    data: dict[str, Any] = {name: _split(form.get(name)) for name in _LISTS}
    data.update({name: bool(form.get(name)) for name in _FLAGS})
    data["appointment_statuses"] = list(form.getall("appointment_statuses"))
    days = form.get("last_contacted_more_than_days").strip()
    data["last_contacted_more_than_days"] = days or None
    upcoming = form.get("has_upcoming_appointment")
    data["has_upcoming_appointment"] = {"true": True, "false": False}.get(upcoming)
    return data, bool(form.get("test_mode"))


def audience_values(audience: Mapping[str, Any], test_mode: bool) -> dict[str, str]:
    values = {name: ", ".join(audience.get(name, ())) for name in _LISTS}
    values.update({name: text_of(audience.get(name, True)) for name in _FLAGS})
    values["last_contacted_more_than_days"] = text_of(audience.get("last_contacted_more_than_days"))
    upcoming = audience.get("has_upcoming_appointment")
    values["has_upcoming_appointment"] = "" if upcoming is None else str(upcoming).lower()
    values["test_mode"] = text_of(test_mode)
    return values


def audience_checked(audience: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(audience.get("appointment_statuses", ()))
