"""An agent session: the profile and the call context one call is held with, as JSON.

The dispatcher snapshots the session on the call job when it dials (what the agent was set
up to say on this very call is part of the compliance trail), passes it to the carrier (a live
carrier's media pipeline runs the runtime with it; the sandbox plays the conversation with its
simulated callee) and reads it back when the call ends. The profile and the context are
converted apart: a job stores its context, and its profile once per content
(services/stored_sessions.py).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ringfence.agent.profile import (
    AgentProfile,
    CallContext,
    CallDirection,
    PolicyName,
    ReplyTemplates,
)
from ringfence.domain.staff_hours import StaffLine
from ringfence.domain.vocabulary import CallPurpose


@dataclass(frozen=True, slots=True)
class AgentSession:
    profile: AgentProfile
    context: CallContext


# The reply templates are strings: read field by field, they make the dict `asdict` makes
# without its recursive deep copy (which was most of the cost of snapshotting a dialed call's
# session, paid for every dial).
_REPLY_FIELDS = tuple(f.name for f in fields(ReplyTemplates))


def session_to_json(session: AgentSession) -> dict[str, Any]:
    return {
        "profile": profile_to_json(session.profile),
        "context": context_to_json(session.context),
    }


def profile_to_json(profile: AgentProfile) -> dict[str, Any]:
    return {
        "practice_name": profile.practice_name,
        "callback_number": profile.callback_number,
        "system_prompt": profile.system_prompt,
        "inbound_greeting": profile.inbound_greeting,
        "outbound_openings": {p.value: t for p, t in profile.outbound_openings.items()},
        "voicemail_script": profile.voicemail_script,
        "policy": profile.policy.value,
        "opt_out_number": profile.opt_out_number,
        "replies": {name: getattr(profile.replies, name) for name in _REPLY_FIELDS},
    }


def context_to_json(context: CallContext) -> dict[str, Any]:
    return {
        "direction": context.direction.value,
        "purpose": context.purpose.value if context.purpose else None,
        "patient_first_name": context.patient_first_name,
        "appointment_service": context.appointment_service,
        "appointment_local_time": context.appointment_local_time,
        "is_test": context.is_test,
        "staff": (
            None
            if context.staff is None
            else {
                "transfer_to": context.staff.transfer_to,
                "call_back_when": context.staff.call_back_when,
            }
        ),
    }


def session_from_json(data: dict[str, Any]) -> AgentSession:
    return AgentSession(profile_from_json(data["profile"]), context_from_json(data["context"]))


def profile_from_json(p: dict[str, Any]) -> AgentProfile:
    return AgentProfile(
        practice_name=p["practice_name"],
        callback_number=p["callback_number"],
        system_prompt=p["system_prompt"],
        inbound_greeting=p["inbound_greeting"],
        outbound_openings={CallPurpose(k): v for k, v in p["outbound_openings"].items()},
        voicemail_script=p["voicemail_script"],
        policy=PolicyName(p["policy"]),
        opt_out_number=p["opt_out_number"],
        replies=ReplyTemplates(**p["replies"]),
    )


def context_from_json(c: dict[str, Any]) -> CallContext:
    staff = c.get("staff")  # sessions snapshotted before transfers existed have none
    return CallContext(
        direction=CallDirection(c["direction"]),
        purpose=CallPurpose(c["purpose"]) if c["purpose"] else None,
        patient_first_name=c["patient_first_name"],
        appointment_service=c["appointment_service"],
        appointment_local_time=c["appointment_local_time"],
        is_test=c["is_test"],
        staff=None if staff is None else StaffLine(staff["transfer_to"], staff["call_back_when"]),
    )
