"""A simulated inbound call on the sandbox: a caller rings a practice number, says its lines,
and the location's agent answers (`ringfence call-inbound`, the demo's month, the tests).

The call is routed, recorded and closed by services/inbound_calls.py exactly as a live one is
(`open_inbound_call` / `close_inbound_call`); only the conversation is simulated here: the
runtime hears each line in turn and each is timed as the sandbox estimates speech
(agent/callee.py `play_conversation`), so the record's duration follows the words.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import timedelta

from ringfence.agent.callee import AGENT_GAP_S, AGENT_WPM, Conversation, TimedTranscript
from ringfence.agent.events import EndReason
from ringfence.agent.policies.base import DialoguePolicy, Speaker
from ringfence.agent.profile import PolicyName
from ringfence.agent.runtime import ConversationRuntime
from ringfence.agent.session import AgentSession
from ringfence.domain.inbound import Refused
from ringfence.services.inbound_calls import (
    InboundCallResult,
    NoAgent,
    close_inbound_call,
    open_inbound_call,
)
from ringfence.services.unit_of_work import UnitOfWork

CALLER_WPM = 160.0  # the sandbox's estimate of a caller's pace (as the test console's)
CALLER_GAP_S = 0.8

PolicyFactory = Callable[[PolicyName], DialoguePolicy]


def take_sandbox_call(
    uow: UnitOfWork,
    *,
    dialed: str,
    caller: str | None,
    utterances: Sequence[str],
    policy_factory: PolicyFactory,
) -> InboundCallResult | Refused | NoAgent:
    """Answer one simulated call to `dialed` from `caller`, who says `utterances` in turn
    (hanging up after the last if the agent has not ended the call); committed when
    answered, nothing written when refused."""
    opened = open_inbound_call(uow, dialed=dialed, caller=caller)
    if isinstance(opened, Refused | NoAgent):
        return opened
    conversation = converse(opened.agent_session, utterances, policy_factory)
    ended = opened.answered_at + timedelta(seconds=math.ceil(conversation.duration_s))
    return close_inbound_call(uow, opened, conversation, ended_at=ended)


def converse(
    agent_session: AgentSession, utterances: Sequence[str], policy_factory: PolicyFactory
) -> Conversation:
    """Run the agent over the caller's words, timing each line as the sandbox estimates
    speech (agent/callee.py `play_conversation`)."""
    profile, context = agent_session.profile, agent_session.context
    runtime = ConversationRuntime(profile, context, policy_factory(profile.policy))
    timed = TimedTranscript()
    lines, add = timed.lines, timed.add
    add(Speaker.AGENT, runtime.start().text, AGENT_WPM, 0.0)
    for said in utterances:
        if runtime.ended:
            break
        add(Speaker.CALLEE, said, CALLER_WPM, CALLER_GAP_S)
        add(Speaker.AGENT, runtime.respond(said).text, AGENT_WPM, AGENT_GAP_S)
    if not runtime.ended:
        runtime.callee_hung_up()
    ended_by = runtime.ended_by or EndReason.CALLEE_HUNG_UP
    return Conversation(tuple(lines), runtime.events, runtime.outcome, ended_by)
