"""The voicemail message (spec, HIPAA considerations; 47 CFR 64.1200(b)(3): a voicemail must
give a number to call to opt out).

A voicemail says no more than the practice name, a callback number and a generic reason: no
first name, no service, no time, no clinical term. The opt-out sentence is always appended
by code. A configured script that would say more is replaced by the default one.
"""

from __future__ import annotations

from typing import Final

from ringfence.agent.events import AgentEvent
from ringfence.agent.guardrails.outgoing import (
    NEUTRAL_LINE,
    Withheld,
    screen_utterance,
    service_withheld,
    time_withheld,
)
from ringfence.agent.profile import DEFAULT_VOICEMAIL, AgentProfile, CallContext

OPT_OUT_SENTENCE: Final = "To opt out of future calls, call {opt_out_number} and say stop."


def compose_voicemail(
    profile: AgentProfile, context: CallContext
) -> tuple[str, tuple[AgentEvent, ...]]:
    """The message to leave and the events for anything the filter had to remove."""
    withheld: list[Withheld] = []
    if context.patient_first_name:
        withheld.append(Withheld("patient_first_name", (context.patient_first_name,)))
    if context.appointment_service:
        withheld.append(service_withheld(context.appointment_service))
    if context.appointment_local_time:
        withheld.append(time_withheld(context.appointment_local_time))
    body = profile.render(profile.voicemail_script or DEFAULT_VOICEMAIL)
    screened = screen_utterance(body, practice_name=profile.practice_name, withheld=withheld)
    events: tuple[AgentEvent, ...] = screened.events
    if events or NEUTRAL_LINE in screened.text:
        body = profile.render(DEFAULT_VOICEMAIL)
    opt_out = OPT_OUT_SENTENCE.format(opt_out_number=profile.spoken_opt_out_number)
    return f"{body} {opt_out}", events
