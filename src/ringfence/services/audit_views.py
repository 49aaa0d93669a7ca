"""The audit log as staff read it: who did what to which record, in plain words.

Read side only. The API lists the same rows with the same filters (`audit_event_filters`)
and the same cursor format (`services/paging.py`); the page shows them newest first, and
turns each stored action, actor and field into a sentence a front-desk person understands.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.dashboard import DashboardShareLink
from ringfence.adapters.db.orm import AuditEvent, Form, Location
from ringfence.adapters.db.workflows import Workflow
from ringfence.domain.compliance import zone
from ringfence.services.agent_words import FIELD_LABELS as AGENT_FIELD_LABELS
from ringfence.services.agent_words import POLICY_WORDS
from ringfence.services.paging import newest_first_page

# Every action the code writes, as the sentence staff read. tests/unit/services/
# test_audit_sentences.py fails when a new `action=` is written without one here.
ACTION_SENTENCES: Final[Mapping[str, str]] = {
    "api_key.created": "Made a new API key",
    "api_key.revoked": "Revoked an API key: it no longer opens anything",
    "web_sessions.ended": "Signed every browser out of the account (sign out everywhere)",
    "phi_retention_changed": "Changed how long call recordings and transcripts are kept",
    "contact.created_with_flags": "Added a contact already marked do-not-contact or opted out",
    "contact.flags_changed": "Changed a contact's phone number, do-not-contact or opt-out settings",
    "contact.opted_out_on_call": "The patient asked on a call not to be called again",
    "contacts.imported": "Imported contacts from a spreadsheet",
    "consent.crm_form": "Recorded the patient's consent to calls from a web form",
    "consent.manual_written": "Recorded the patient's written consent to calls (entered by staff)",
    "consent.revocation": "Recorded that the patient withdrew consent to calls",
    "consent.manual_written_batch": "Confirmed written consent for several contacts at once",
    "form.submitted": "A web form was filled in for this contact",
    "form.consent_scanned": "Checked a form's consent wording for call opt-in",
    "number.suppressed": "Put a phone number on the do-not-call list",
    "number.suppression_lifted": "Took a phone number off the do-not-call list (new consent)",
    "kyc.updated": "Edited the business verification application",
    "kyc.submitted": "Sent the business verification application for review",
    "kyc.resubmitted_after_material_change": (
        "Sent the business verification for review again after changing key business details"
    ),
    "kyc.approved": "Business verification approved: outbound calls may start",
    "kyc.rejected": "Business verification turned down",
    "kyc.needs_changes": "Business verification sent back for changes",
    "dashboard_share_link.created": "Made a read-only share link to the call dashboard",
    "dashboard_share_link.revoked": "Revoked a dashboard share link",
    "workflow.created": "Created a workflow (as a draft: it calls nobody yet)",
    "workflow.edited": "Changed a workflow's draft (its name, steps, trigger or audience)",
    "workflow.test_mode_on": (
        "Turned test mode on for a workflow: it only calls contacts tagged for testing"
    ),
    "workflow.test_mode_off": (
        "Turned test mode off for a workflow: once published it calls real patients"
    ),
    "workflow.published": "Published a workflow: it can now start calling patients",
    "workflow.unpublished": (
        "Unpublished a workflow: it stopped and its waiting calls were canceled"
    ),
    "workflow.deleted": "Deleted a draft workflow",
    "voice_agent.created": "Created a voice agent",
    "voice_agent.updated": "Changed a voice agent (what it says or how it calls)",
}

# What each kind of record is called, and where its page is (when it has one).
ENTITY_NAMES: Final[Mapping[str, str]] = {
    "account": "This account",
    "api_key": "API key",
    "contact": "Contact",
    "dashboard_share_link": "Dashboard share link",
    "form": "Web form",
    "kyc_registration": "Business verification",
    "location": "Location",
    "number_suppression": "Do-not-call list entry",
    "voice_agent": "Voice agent",
    "workflow": "Workflow",
}
_ENTITY_PAGES: Final[Mapping[str, str]] = {
    "contact": "/app/contacts/{id}",
    "workflow": "/app/workflows/{id}",
    "voice_agent": "/app/voice-ai/agents/{id}/edit",
    "api_key": "/app/security",
    "dashboard_share_link": "/app/voice-ai/dashboards/outbound/shares",
    "kyc_registration": "/app/voice-ai/outbound",
}

_FIELD_NAMES: Final[Mapping[str, str]] = {
    "phone_e164": "Phone number",
    "dnd_voice": "Do not call",
    "dnd_sms": "Do not text",
    "dnd_email": "Do not email",
    "opted_out_at": "Opted out on",
    "opted_out_channel": "Opted out by",
    "phi_retention_days": "Recordings and transcripts kept (days)",
    "prefix": "Key starts with",
    "expires_at": "Expires",
    "revoked_at": "Revoked on",
    "revoked_by": "Revoked by",
    "include_phi": "Shows recordings and transcripts",
    "location_id": "Location number",
    "filters": "Dashboard filters",
    "sessions_ended": "Browsers signed out",
    "suppressed_at": "On the do-not-call list since",
    "canceled_calls": "Calls canceled",
    "consent_record_id": "Consent record number",
    "held_for_staff_confirmation": "Waiting for staff to confirm",
    "voice_consent_refused": "Call consent refused because",
    "valid_for_voice_opt_in": "Valid for call opt-in",
    # Workflows (services/workflows/audit_trail.py keeps a summary, not the definition).
    "name": "Name",
    "step_count": "Number of steps",
    "changed_parts": "Parts changed",
    "test_mode": "Test mode",
    "trigger": "Starts when",
    "version": "Published version",
    "audience": "Contacts it could call right now",
    "status": "Status",
    # Voice agents (services/agents.py): the edit page's own labels, but a generic "Name".
    **{key: label for key, label in AGENT_FIELD_LABELS.items() if key != "name"},
}
# Stored codes that read better as words (the channel a patient opted out through).
_VALUE_WORDS: Final[Mapping[str, Mapping[str, str]]] = {
    "opted_out_channel": {"voice": "a phone call", "sms": "a text message", "email": "email"},
    "channel": {"voice": "phone calls", "sms": "text messages", "email": "email"},
    "changed_parts": {
        "trigger": "what starts it",
        "audience": "who it calls",
        "steps": "the steps",
        "test_mode": "test mode",
    },
    "status": {"draft": "Draft", "published": "Published"},
    "dialogue_policy": dict(POLICY_WORDS),
}
_ISO_INSTANT: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def describe_action(action: str) -> str:
    """The sentence for `action`; an action from an older release reads as itself."""
    return ACTION_SENTENCES.get(action, f"Recorded “{action.replace('_', ' ')}”")


def action_choices() -> tuple[tuple[str, str], ...]:
    """The action filter's options: (stored action, its sentence), by sentence."""
    return tuple(sorted(ACTION_SENTENCES.items(), key=lambda item: item[1]))


def entity_choices() -> tuple[tuple[str, str], ...]:
    return tuple(sorted(ENTITY_NAMES.items(), key=lambda item: item[1]))


@dataclass(frozen=True, slots=True)
class DisplayZone:
    """The zone the logs' times are shown in: the account's locations' one zone, else UTC."""

    name: str
    why: str


def display_zone(session: Session, *, account_id: int) -> DisplayZone:
    zones = set(
        session.scalars(select(Location.time_zone).where(Location.account_id == account_id))
    )
    if len(zones) == 1:
        return DisplayZone(zones.pop(), "your practice's time zone")
    if not zones:
        return DisplayZone("UTC", "this account has no location yet")
    return DisplayZone("UTC", "your locations are in more than one time zone")


@dataclass(frozen=True, slots=True)
class ActorNames:
    """Names the actor strings point at, looked up in the reader's account only."""

    share_links: Mapping[int, str]
    workflows: Mapping[int, str]
    forms: Mapping[int, str]


def actor_names(session: Session, *, account_id: int, actors: set[str]) -> ActorNames:
    def ids(prefix: str) -> set[int]:
        found = (a.removeprefix(prefix) for a in actors if a.startswith(prefix))
        return {int(i) for i in found if i.isdigit()}

    def names(model: Any, wanted: set[int], column: Any) -> dict[int, str]:
        if not wanted:
            return {}
        rows = session.execute(
            select(model.id, column).where(model.account_id == account_id, model.id.in_(wanted))
        )
        return dict(rows.all())

    return ActorNames(
        share_links=names(DashboardShareLink, ids("share_link:"), DashboardShareLink.label),
        workflows=names(Workflow, ids("workflow:"), Workflow.name),
        forms=names(Form, ids("form:"), Form.name),
    )


_PLAIN_ACTORS: Final[Mapping[str, str]] = {
    "voice_agent": "The voice agent, on a call",
    "cli": "An administrator, from the command line",
    "demo_seed": "The demo data set-up",
    "simulation": "The call simulator",
}


def actor_in_words(actor: str, names: ActorNames) -> str:
    """Who `actor` is, as staff read it ("Signed-in staff (key “Front desk”)")."""
    if actor in _PLAIN_ACTORS:
        return _PLAIN_ACTORS[actor]
    kind, _, rest = actor.partition(":")
    if kind == "web" and rest.startswith("api_key:"):
        return f"Signed-in staff (key “{rest.removeprefix('api_key:')}”)"
    if kind == "api_key":
        return f"The API, with key “{rest}”"
    if kind == "operator":
        return f"Ringfence's verification team ({rest})"
    if rest.isdigit():
        named = {
            "share_link": ("Share link", names.share_links),
            "workflow": ("Workflow", names.workflows),
            "form": ("Web form", names.forms),
        }.get(kind)
        if named is not None:
            label = named[1].get(int(rest))
            return f"{named[0]} “{label}”" if label else f"{named[0]} #{rest}"
    return f"System ({actor})"


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class AuditRow:
    event_id: int
    at: datetime
    who: str
    what: str
    action: str
    entity: str
    entity_href: str | None
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class AuditFilters:
    action: str | None = None
    entity_type: str | None = None
    since: datetime | None = None  # from this instant on
    until: datetime | None = None  # before this instant


@dataclass(frozen=True, slots=True)
class AuditPage:
    rows: tuple[AuditRow, ...]
    next_cursor: str | None
    zone: DisplayZone


def audit_event_filters(
    *, entity_type: str | None, entity_id: int | None, action: str | None
) -> list[ColumnElement[bool]]:
    """The API's filters (and the page's): each given one narrows, combined with AND."""
    clauses: list[ColumnElement[bool]] = []
    if entity_type is not None:
        clauses.append(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        clauses.append(AuditEvent.entity_id == entity_id)
    if action is not None:
        clauses.append(AuditEvent.action == action)
    return clauses


def audit_page(
    session: Session, *, account_id: int, filters: AuditFilters, cursor: str | None, limit: int
) -> AuditPage:
    """One page of the account's audit log, newest first. InvalidField("cursor") for a
    cursor we did not make."""
    clauses = audit_event_filters(
        entity_type=filters.entity_type, entity_id=None, action=filters.action
    )
    if filters.since is not None:
        clauses.append(AuditEvent.occurred_at >= filters.since)
    if filters.until is not None:
        clauses.append(AuditEvent.occurred_at < filters.until)
    events, next_cursor = newest_first_page(
        session,
        AuditEvent,
        clauses=[AuditEvent.account_id == account_id, *clauses],
        cursor=cursor,
        limit=limit,
    )
    where = display_zone(session, account_id=account_id)
    names = actor_names(session, account_id=account_id, actors={e.actor for e in events})
    rows = tuple(_row(event, names, where.name) for event in events)
    return AuditPage(rows=rows, next_cursor=next_cursor, zone=where)


def _row(event: AuditEvent, names: ActorNames, time_zone: str) -> AuditRow:
    kind = ENTITY_NAMES.get(event.entity_type, event.entity_type.replace("_", " ").capitalize())
    page = _ENTITY_PAGES.get(event.entity_type)
    return AuditRow(
        event_id=event.id,
        at=event.occurred_at,
        who=actor_in_words(event.actor, names),
        what=describe_action(event.action),
        action=event.action,
        entity=kind if event.entity_type == "account" else f"{kind} #{event.entity_id}",
        entity_href=page.format(id=event.entity_id) if page else None,
        changes=field_changes(event.before, event.after, time_zone),
    )


def field_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, time_zone: str
) -> tuple[FieldChange, ...]:
    """Each field either side names, before -> after, in words."""
    before, after = before or {}, after or {}
    fields = list(dict.fromkeys([*before, *after]))
    return tuple(
        FieldChange(
            field=_FIELD_NAMES.get(name, name.replace("_", " ").capitalize()),
            before=value_in_words(name, before.get(name), time_zone),
            after=value_in_words(name, after.get(name), time_zone),
        )
        for name in fields
    )


def value_in_words(field: str, value: object, time_zone: str) -> str:
    if value is None:
        return "kept for good (no purge)" if field == "phi_retention_days" else "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value in _VALUE_WORDS.get(field, {}):
        return _VALUE_WORDS[field][value]
    if isinstance(value, list):
        words = _VALUE_WORDS.get(field, {})
        return ", ".join(words.get(str(v), str(v)) for v in value) if value else "none"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and _ISO_INSTANT.match(value):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return value
        if at.tzinfo is not None:
            return at.astimezone(zone(time_zone)).strftime("%Y-%m-%d %H:%M %Z")
    if field == "trigger" and isinstance(value, str):
        return value.replace("_", " ").capitalize()
    return str(value)
