"""AI Agents → Voice AI → Edit: every field the API's PATCH /voice-agents/{id} takes, as a form.

The route translates only. Text becomes the values the API's schema would produce (a US
callback number as E.164, staff hours as `domain/staff_hours` reads them), then
`services/agents.update_agent` changes the agent, runs the same guardrail check as the API and
writes the same audit entry (before and after of what changed). Errors come back named by
the service's field names; this module turns each into the form's label, so staff never read a
field name or an enum code.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.adapters.db.orm import VoiceAgent
from ringfence.agent.profile import PolicyName
from ringfence.domain.phone import InvalidPhoneNumber, to_e164, to_us_e164
from ringfence.domain.staff_hours import DAYS, StaffHoursError, is_sip_uri, parse_staff_hours
from ringfence.domain.vocabulary import CallPurpose
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.pages import Viewer
from ringfence.services.agent_sessions import location_callback
from ringfence.services.agent_words import POLICY_LABELS
from ringfence.services.agents import AgentFields, update_agent
from ringfence.services.contact_words import phone_display
from ringfence.services.errors import InvalidField, NotFound
from ringfence.services.tenancy import get_owned

router = APIRouter()

EDIT: Final = "/app/voice-ai/agents/{agent_id}/edit"
AgentId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_WHAT: Final = "That voice agent"
# The API schema's limits (Name, LongText, the transfer target's column).
_SHORT: Final = 200
_LONG: Final = 20_000
RANGES_PER_DAY: Final = 2  # the grid's open periods per day (e.g. a lunch break between)

DAY_NAMES: Final = dict(
    zip(
        DAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
LABELS: Final[dict[str, str]] = {
    "name": "Agent name",
    "practice_name": "Practice name",
    "system_prompt": "Instructions for the AI",
    "inbound_greeting": "Greeting for incoming calls",
    "outbound_opening": "Default opening for outbound calls",
    **{f"opening.{p.value}": f"Opening for {p.label.lower()} calls" for p in CallPurpose},
    "callback_number": "Callback number",
    "voicemail_script": "Voicemail script",
    "dialogue_policy": "How the agent talks",
    "transfer_number": "Transfer (staff) number",
    "hours": "Staff hours",
    **{f"hours.{day}": f"Staff hours, {name}" for day, name in DAY_NAMES.items()},
    "form": "This agent",
}
_TEXTS: Final = ("system_prompt", "inbound_greeting", "outbound_opening", "voicemail_script")
# The service's field names, as they may appear inside its messages ("required with
# transfer_number"); a placeholder such as {callback_number} (or 'callback_number' in a list of
# allowed placeholders) is the script's own syntax and stays as written.
_FIELD_WORD: Final = re.compile(
    r"(?<![{'\w])(transfer_number|staff_hours|callback_number)(?![}'\w])"
)
_HOURS_MESSAGES: Final = {
    'a range like "09:00-17:00"': "enter times as hours and minutes, e.g. 09:00 and 17:00",
    "ends before it starts (one range per day part)": "it closes before it opens",
    "ranges overlap": "the two open periods overlap",
    "not a time of day": "that is not a time of day",
}


def _plain(message: str) -> str:
    return _FIELD_WORD.sub(
        lambda m: LABELS["hours" if m.group(1) == "staff_hours" else m.group(1)].lower(), message
    )


def _form_key(field: str) -> str:
    """The form input a service error field belongs to ("form": none of them)."""
    if field.startswith("outbound_openings."):
        return "opening." + field.removeprefix("outbound_openings.")
    if field.startswith("staff_hours."):
        day = field.removeprefix("staff_hours.").split("[", 1)[0]
        return f"hours.{day}" if day in DAY_NAMES else "hours"
    if field == "staff_hours":
        return "hours"
    return field if field in LABELS else "form"


def _values_of(agent: VoiceAgent) -> dict[str, str]:
    """The form's fields as the agent is saved."""
    values = {
        "name": agent.name,
        "practice_name": agent.practice_name,
        **{key: getattr(agent, key) or "" for key in _TEXTS},
        "callback_number": phone_display(agent.callback_number) if agent.callback_number else "",
        "dialogue_policy": agent.dialogue_policy,
        "transfer_number": (
            phone_display(agent.transfer_number)
            if agent.transfer_number and not is_sip_uri(agent.transfer_number)
            else agent.transfer_number or ""
        ),
    }
    for purpose, text in (agent.outbound_openings or {}).items():
        values[f"opening.{purpose}"] = text
    for day, ranges in (agent.staff_hours or {}).items():
        for index, span in enumerate(ranges[:RANGES_PER_DAY]):
            opens, _, closes = span.partition("-")
            suffix = "" if index == 0 else str(index + 1)
            values[f"hours.{day}.opens{suffix}"] = opens.strip()
            values[f"hours.{day}.closes{suffix}"] = closes.strip()
    return values


def _hours_fit_grid(agent: VoiceAgent) -> bool:
    return all(len(ranges) <= RANGES_PER_DAY for ranges in (agent.staff_hours or {}).values())


def _text(values: dict[str, str], key: str, errors: dict[str, str], *, limit: int) -> str:
    text = values.get(key, "")
    if len(text) > limit:
        errors[key] = f"keep it to {limit:,} characters or fewer"
    return text


def _changes(values: dict[str, str], *, with_hours: bool) -> tuple[AgentFields, dict[str, str]]:
    """The form as the service's fields (what a PATCH body would carry), or the problems
    with what was typed, by form key."""
    errors: dict[str, str] = {}
    name = _text(values, "name", errors, limit=_SHORT).strip()
    practice = _text(values, "practice_name", errors, limit=_SHORT).strip()
    for key, text in (("name", name), ("practice_name", practice)):
        if not text:
            errors[key] = "required"
    fields: AgentFields = {
        "name": name,
        "practice_name": practice,
        "system_prompt": _text(values, "system_prompt", errors, limit=_LONG),
        "inbound_greeting": _text(values, "inbound_greeting", errors, limit=_LONG),
        "outbound_opening": _text(values, "outbound_opening", errors, limit=_LONG),
        "voicemail_script": _text(values, "voicemail_script", errors, limit=_LONG),
    }
    openings: dict[CallPurpose, str] = {}
    for purpose in CallPurpose:
        text = _text(values, f"opening.{purpose.value}", errors, limit=_LONG)
        if text.strip():
            openings[purpose] = text
    fields["outbound_openings"] = openings

    callback = values.get("callback_number", "").strip()
    fields["callback_number"] = None
    if callback:
        try:
            fields["callback_number"] = to_us_e164(callback[:_SHORT])
        except InvalidPhoneNumber:
            errors["callback_number"] = _us_only(callback, "the callback number")
    transfer = values.get("transfer_number", "").strip()
    fields["transfer_number"] = None
    if transfer.lower().startswith(("sip:", "sips:")):
        if len(transfer) <= _SHORT and is_sip_uri(transfer):
            fields["transfer_number"] = transfer
        else:
            errors["transfer_number"] = (
                "not a SIP address like sip:frontdesk@pbx.example.com (a PBX extension)"
            )
    elif transfer:
        try:
            fields["transfer_number"] = to_e164(transfer[:_SHORT])
        except InvalidPhoneNumber:
            errors["transfer_number"] = "not a valid phone number: check the area code and digits"

    policy = values.get("dialogue_policy", "")
    if policy in {p.value for p in PolicyName}:
        fields["dialogue_policy"] = policy
    else:
        errors["dialogue_policy"] = "choose one of the listed ways of talking"
    if with_hours:
        hours = _hours(values, errors)
        if "hours" not in errors and not any(k.startswith("hours.") for k in errors):
            fields["staff_hours"] = hours
    return fields, errors


def _us_only(text: str, what: str) -> str:
    try:
        elsewhere = to_e164(text[:_SHORT])
    except InvalidPhoneNumber:
        return "not a valid US phone number: check the area code and the digits"
    return f"only US phone numbers can be used as {what} ({phone_display(elsewhere)} is not one)"


def _hours(values: dict[str, str], errors: dict[str, str]) -> dict[str, list[str]] | None:
    """The grid as the saved form of staff hours (None: closed every day, i.e. no hours)."""
    data: dict[str, list[str]] = {}
    for day in DAYS:
        for index in range(RANGES_PER_DAY):
            suffix = "" if index == 0 else str(index + 1)
            opens = values.get(f"hours.{day}.opens{suffix}", "").strip()[:20]
            closes = values.get(f"hours.{day}.closes{suffix}", "").strip()[:20]
            if not opens and not closes:
                continue
            if not opens or not closes:
                errors[f"hours.{day}"] = (
                    "give both the opening and the closing time, or leave both empty for closed"
                )
                continue
            data.setdefault(day, []).append(f"{opens}-{closes}")
    try:
        parsed = parse_staff_hours(data)
    except StaffHoursError as exc:
        errors.setdefault(_form_key(exc.field), _HOURS_MESSAGES.get(exc.message, exc.message))
        return None
    return parsed.to_json() or None


def _changed(agent: VoiceAgent, fields: AgentFields) -> AgentFields:
    """Only what differs from the saved agent: the same PATCH the API would get."""
    saved: dict[str, Any] = {key: getattr(agent, key) for key in fields}
    saved["outbound_openings"] = dict(agent.outbound_openings or {})
    return {  # type: ignore[return-value]  # a subset of an AgentFields is one
        key: value for key, value in fields.items() if saved[key] != value
    }


def _render(
    request: Request,
    web: Web,
    viewer: Viewer,
    agent: dict[str, Any],
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    return web.pages.render(
        request,
        "agent_edit.html",
        viewer=viewer,
        context={
            "agent": agent,
            "values": values,
            "errors": errors or {},
            "labels": LABELS,
            "purposes": list(CallPurpose),
            "days": DAY_NAMES,
            "ranges_per_day": RANGES_PER_DAY,
            "policies": {p.value: label for p, label in POLICY_LABELS.items()},
        },
        status_code=status_code,
    )


def _about(uow: Uow, agent: VoiceAgent) -> dict[str, Any]:
    """What the page says about the agent as saved, read before any change is tried."""
    fallback = location_callback(uow.session, agent.location_id)
    return {
        "id": agent.id,
        "name": agent.name,
        "location_id": agent.location_id,
        "location_number": phone_display(fallback) if fallback else None,
        "hours_fit_grid": _hours_fit_grid(agent),
        "hours_summary": (
            parse_staff_hours(agent.staff_hours).summary() if agent.staff_hours else ""
        ),
    }


@router.get(EDIT, name="agent_edit")
def edit_form(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, agent_id: AgentId
) -> Response:
    try:
        agent = get_owned(uow.session, VoiceAgent, agent_id, viewer.scope)
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what=_WHAT)
    return _render(request, web, viewer, _about(uow, agent), values=_values_of(agent))


@router.post(EDIT, name="agent_save")
async def save(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, agent_id: AgentId
) -> Response:
    try:
        agent = get_owned(uow.session, VoiceAgent, agent_id, viewer.scope)
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what=_WHAT)
    about = _about(uow, agent)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    fields, errors = _changes(values, with_hours=about["hours_fit_grid"])
    changes = _changed(agent, fields) if not errors else {}
    if not errors and changes:
        try:
            update_agent(uow=uow, scope=viewer.scope, agent_id=agent_id, changes=changes)
        except NotFound:
            return web.pages.not_found(request, viewer=viewer, what=_WHAT)
        except InvalidField as exc:
            errors[_form_key(exc.field)] = _plain(exc.message)
    if errors:
        return _render(
            request,
            web,
            viewer,
            about,
            values=values,
            errors=errors,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    response = RedirectResponse(
        f"/app/voice-ai?location={about['location_id']}#agent-{agent_id}",
        status_code=status.HTTP_303_SEE_OTHER,
    )
    web.flashes.add(request, response, Flash(FlashLevel.SUCCESS, _saved(about["name"], changes)))
    return response


def _saved(name: str, changes: AgentFields) -> str:
    if not changes:
        return f"Nothing changed for “{name}”."
    words = {"outbound_openings": "the outbound openings", "staff_hours": "the staff hours"}
    said = [words.get(key) or LABELS[key].lower() for key in changes]
    return f"Saved “{name}”: {', '.join(said)} changed."
