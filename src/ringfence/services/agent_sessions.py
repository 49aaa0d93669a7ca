"""Build the agent session (profile + call context) for calls about to be dialed.

The profile comes from the voice agent as saved; an opening that fails the guardrail
validation is never used (the built-in safe opening for that purpose, which always names the
practice and states the reason, replaces it), so no call can open without identifying the
practice. The context names the patient and, for appointment calls, the service and time
(the only clinical detail ever said, after the patient confirms who they are).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Appointment, Contact, Location, PhoneNumber, VoiceAgent
from ringfence.agent.profile import AgentProfile, CallContext, CallDirection, PolicyName
from ringfence.agent.session import AgentSession
from ringfence.agent.validation import validate_agent
from ringfence.domain.compliance import zone
from ringfence.domain.staff_hours import StaffLine, parse_staff_hours, staff_line
from ringfence.domain.vocabulary import AppointmentStatus, CallPurpose


@dataclass(frozen=True, slots=True)
class SessionRequest:
    job_id: int
    contact_id: int
    location_id: int
    agent_id: int | None
    from_number_id: int | None
    purpose: CallPurpose
    is_test: bool


def location_callback(session: Session, location_id: int) -> str | None:
    """The location's first caller ID: the callback number of an agent that has none."""
    return session.scalar(
        select(PhoneNumber.e164)
        .where(PhoneNumber.location_id == location_id)
        .order_by(PhoneNumber.id)
        .limit(1)
    )


def saved_profile(agent: VoiceAgent, callback_number: str) -> AgentProfile:
    """The agent's profile exactly as saved (what `validate_agent` judges on save)."""
    openings: dict[CallPurpose, str] = {}
    if agent.outbound_opening:
        # The single default opening speaks about an appointment: it serves the informational
        # purposes; marketing purposes need the opt-out offer and use their own or the default.
        openings[CallPurpose.APPOINTMENT_CONFIRMATION] = agent.outbound_opening
    for purpose, text in (agent.outbound_openings or {}).items():
        openings[CallPurpose(purpose)] = text
    return AgentProfile(
        practice_name=agent.practice_name,
        callback_number=agent.callback_number or callback_number,
        system_prompt=agent.system_prompt,
        inbound_greeting=agent.inbound_greeting or None,
        outbound_openings=openings,
        voicemail_script=agent.voicemail_script or None,
        policy=PolicyName(agent.dialogue_policy),
    )


def profile_of(agent: VoiceAgent, callback_number: str) -> AgentProfile:
    """The agent's profile for a call, keeping only the texts that pass validation."""
    profile = saved_profile(agent, callback_number)
    bad = {p.field.removeprefix("outbound_openings.") for p in validate_agent(profile)}
    return replace(
        profile,
        inbound_greeting=None if "inbound_greeting" in bad else profile.inbound_greeting,
        outbound_openings={
            p: t for p, t in profile.outbound_openings.items() if p.value not in bad
        },
        voicemail_script=None if "voicemail_script" in bad else profile.voicemail_script,
    )


def spoken_time(instant: datetime, time_zone: str) -> str:
    """'Friday at 2 PM' / 'Friday at 2:30 PM', in the practice's time zone."""
    local = instant.astimezone(zone(time_zone))
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{local:%A} at {hour}{minutes} {'AM' if local.hour < 12 else 'PM'}"


def build_sessions(
    session: Session, requests: Sequence[SessionRequest], *, now: datetime
) -> dict[int, AgentSession]:
    """Sessions by job id, with a handful of queries for the whole batch. Jobs without an
    agent, or whose agent cannot be made valid (no callback number at all), get none."""
    if not requests:
        return {}
    agents = {
        a.id: a
        for a in session.scalars(
            _AGENTS, {"ids": sorted({r.agent_id for r in requests if r.agent_id})}
        )
    }
    numbers = dict(
        session.execute(
            _NUMBERS, {"ids": sorted({r.from_number_id for r in requests if r.from_number_id})}
        ).all()
    )
    contact_ids = sorted({r.contact_id for r in requests})
    names = dict(session.execute(_NAMES, {"ids": contact_ids}).all())
    zones = dict(session.execute(_ZONES, {"ids": sorted({r.location_id for r in requests})}).all())
    upcoming: dict[int, _Appointment] = {}
    missed: dict[int, _Appointment] = {}
    for row in session.execute(_APPOINTMENTS, {"ids": contact_ids}):
        if row.status in (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED):
            if row.starts_at >= now:
                upcoming.setdefault(row.contact_id, row)
        elif row.status is AppointmentStatus.NO_SHOW:
            missed[row.contact_id] = row  # the latest wins
    sessions: dict[int, AgentSession] = {}
    fallback: dict[int, str | None] = {}
    # An agent's profile is the same for every call of the batch with the same callback
    # number: validated once, not once a call.
    profiles: dict[tuple[int, str], AgentProfile] = {}
    for request in requests:
        agent = agents.get(request.agent_id or 0)
        if agent is None:
            continue
        callback = numbers.get(request.from_number_id or 0)
        if not (agent.callback_number or callback):
            if agent.location_id not in fallback:
                fallback[agent.location_id] = location_callback(session, agent.location_id)
            callback = fallback[agent.location_id]
        if not (agent.callback_number or callback):
            continue
        key = (agent.id, callback or "")
        profile = profiles.get(key)
        if profile is None:
            profile = profiles[key] = profile_of(agent, key[1])
        appointment = (
            missed.get(request.contact_id)
            if request.purpose is CallPurpose.NO_SHOW_RECOVERY
            else upcoming.get(request.contact_id)
        )
        sessions[request.job_id] = AgentSession(
            profile=profile,
            context=CallContext(
                direction=CallDirection.OUTBOUND,
                purpose=request.purpose,
                patient_first_name=names.get(request.contact_id) or None,
                appointment_service=appointment.service if appointment else None,
                appointment_local_time=spoken_time(
                    appointment.starts_at, zones[request.location_id]
                )
                if appointment
                else None,
                is_test=request.is_test,
                staff=staff_of(agent, now=now, time_zone=zones[request.location_id]),
            ),
        )
    return sessions


# Built once, the id lists bound at each execution (expanding IN): building the statements
# cost more than running them, once per dispatcher tick. Appointments are read as columns
# (a batch reads hundreds; only these are used).
_AGENTS = select(VoiceAgent).where(VoiceAgent.id.in_(bindparam("ids", expanding=True)))
_NUMBERS = select(PhoneNumber.id, PhoneNumber.e164).where(
    PhoneNumber.id.in_(bindparam("ids", expanding=True))
)
_NAMES = select(Contact.id, Contact.first_name).where(
    Contact.id.in_(bindparam("ids", expanding=True))
)
_ZONES = select(Location.id, Location.time_zone).where(
    Location.id.in_(bindparam("ids", expanding=True))
)
_APPOINTMENTS = (
    select(
        Appointment.contact_id,
        Appointment.status,
        Appointment.starts_at,
        Appointment.service,
    )
    .where(Appointment.contact_id.in_(bindparam("ids", expanding=True)))
    .order_by(Appointment.starts_at)
)


_Appointment = Row[int, AppointmentStatus, datetime, str]


def staff_of(agent: VoiceAgent, *, now: datetime, time_zone: str) -> StaffLine:
    """What a caller who asks for a person is offered on a call placed `now`."""
    hours = parse_staff_hours(agent.staff_hours) if agent.staff_hours else None
    return staff_line(agent.transfer_number, hours, now=now, time_zone=time_zone)
