"""`validate_agent`: the checks run when an agent is saved (and again when a call starts).

Each problem names the field it is about, so the form can show it next to that field.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, fields
from typing import Final

from ringfence.agent.guardrails.disclosure import claims_human
from ringfence.agent.guardrails.opening import first_sentence_names, opening_problems
from ringfence.agent.guardrails.phi import phi_terms_in
from ringfence.agent.profile import (
    DEFAULT_VOICEMAIL,
    AgentProfile,
    ReplyTemplates,
)
from ringfence.domain.phone import InvalidPhoneNumber, to_e164
from ringfence.domain.vocabulary import CallPurpose

_BEFORE_IDENTITY: Final = frozenset({"practice"})
_VOICEMAIL: Final = frozenset({"practice", "callback_number"})
_REPLIES: Final = frozenset(
    {"practice", "first_name", "service", "time", "callback_number", "proposed"}
)
_POSES_AS_HUMAN: Final = re.compile(
    r"(pretend|claim|say|act|pose)\w* (to be|you are|that you are|you're|as) (a )?"
    r"(human|real person|person|staff member|receptionist)|never (reveal|admit|say|disclose)\w* "
    r"(that )?(you are|you're|being) (an? )?(ai|bot|robot|machine|automated)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class AgentProblem:
    field: str  # e.g. "outbound_openings.lead_reactivation"
    message: str


def validate_agent(profile: AgentProfile) -> list[AgentProblem]:
    """Every problem with `profile`; an empty list means it may be saved and used.

    Memoized by the profile's content: every call of a campaign starts a runtime with the
    same profile, and the checks (each template through every guardrail) cost milliseconds.
    """
    key = _fingerprint(profile)
    found = _VALIDATED.get(key)
    if found is None:
        found = tuple(_validate(profile))
        if len(_VALIDATED) >= _CACHE_SIZE:
            _VALIDATED.pop(next(iter(_VALIDATED)))  # the oldest entry
        _VALIDATED[key] = found
    return list(found)


_CACHE_SIZE: Final = 1024
_VALIDATED: dict[tuple[object, ...], tuple[AgentProblem, ...]] = {}


def _fingerprint(profile: AgentProfile) -> tuple[object, ...]:
    return (
        profile.practice_name,
        profile.callback_number,
        profile.system_prompt,
        profile.inbound_greeting,
        tuple(sorted((p.value, t) for p, t in profile.outbound_openings.items())),
        profile.voicemail_script,
        profile.policy,
        profile.opt_out_number,
        profile.replies,
    )


def _validate(profile: AgentProfile) -> list[AgentProblem]:
    problems: list[AgentProblem] = []
    if not profile.practice_name.strip():
        problems.append(AgentProblem("practice_name", "the practice name is required"))
    problems += _number_problems("callback_number", profile.callback_number)
    if profile.opt_out_number is not None:
        problems += _number_problems("opt_out_number", profile.opt_out_number)
    for purpose in CallPurpose:
        name = f"outbound_openings.{purpose.value}"
        template = profile.opening_template(purpose)
        bad = _placeholder_problems(name, template, _BEFORE_IDENTITY)
        problems += bad
        if bad or not profile.practice_name.strip():
            continue
        rendered = profile.render(template)
        problems += [
            AgentProblem(name, message)
            for message in opening_problems(
                rendered, profile.practice_name, marketing=purpose.is_marketing
            )
        ]
        problems += _content_problems(name, rendered)
    if profile.inbound_greeting is not None:
        problems += _greeting_problems(profile)
    voicemail = profile.voicemail_script or DEFAULT_VOICEMAIL
    bad = _placeholder_problems("voicemail_script", voicemail, _VOICEMAIL)
    problems += bad
    if not bad:
        rendered = profile.render(voicemail)
        if profile.practice_name.lower() not in rendered.lower():
            problems.append(
                AgentProblem("voicemail_script", "the voicemail must name the practice")
            )
        if "{callback_number}" not in voicemail:
            problems.append(
                AgentProblem("voicemail_script", "the voicemail must give {callback_number}")
            )
        problems += _content_problems("voicemail_script", rendered)
    for spec in fields(ReplyTemplates):
        name = f"replies.{spec.name}"
        template = getattr(profile.replies, spec.name)
        bad = _placeholder_problems(name, template, _REPLIES)
        problems += bad
        if not bad:
            problems += _content_problems(name, template)
    if _POSES_AS_HUMAN.search(profile.system_prompt):
        problems.append(
            AgentProblem("system_prompt", "the prompt must not tell the agent to pose as a person")
        )
    return problems


def _number_problems(name: str, number: str) -> list[AgentProblem]:
    try:
        if to_e164(number) == number and number.startswith("+1"):
            return []
    except InvalidPhoneNumber:
        pass
    return [AgentProblem(name, f"must be a valid US number in E.164 form, got {number!r}")]


def _placeholder_problems(name: str, template: str, allowed: frozenset[str]) -> list[AgentProblem]:
    try:
        used = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError as exc:
        return [AgentProblem(name, f"malformed placeholder: {exc}")]
    unknown = sorted(used - allowed)
    if unknown:
        return [
            AgentProblem(
                name,
                f"placeholders {unknown} are not allowed here (allowed: {sorted(allowed)})",
            )
        ]
    return []


def _content_problems(name: str, text: str) -> list[AgentProblem]:
    problems: list[AgentProblem] = []
    terms = phi_terms_in(text)
    if terms:
        problems.append(
            AgentProblem(name, f"must not mention clinical details ({', '.join(terms)})")
        )
    if claims_human(text):
        problems.append(AgentProblem(name, "must not claim the agent is a person"))
    return problems


def _greeting_problems(profile: AgentProfile) -> list[AgentProblem]:
    name = "inbound_greeting"
    template = profile.inbound_greeting or ""
    bad = _placeholder_problems(name, template, _BEFORE_IDENTITY)
    if bad:
        return bad
    rendered = profile.render(template)
    problems = _content_problems(name, rendered)
    if not first_sentence_names(rendered, profile.practice_name):
        problems.append(AgentProblem(name, "the first sentence must name the practice"))
    return problems
