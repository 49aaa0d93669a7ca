"""The Voice AI agent's conversation core: a turn-based runtime, the guardrails enforced in
code around any dialogue policy, the policies, and a simulated callee for the sandbox
carrier. See docs/agent.md."""

from __future__ import annotations

from ringfence.agent.callee import Conversation, TranscriptLine, leave_voicemail, play_conversation
from ringfence.agent.events import AgentEvent, ConversationOutcome, EndReason, EventKind
from ringfence.agent.policies.base import DialoguePolicy, PolicyReply, PolicyRequest
from ringfence.agent.policies.llm import OpenAIChatPolicy
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import AgentProfile, CallContext, CallDirection, PolicyName
from ringfence.agent.runtime import AgentTurn, ConversationRuntime, InvalidAgentProfile
from ringfence.agent.validation import AgentProblem, validate_agent

__all__ = [
    "AgentEvent",
    "AgentProblem",
    "AgentProfile",
    "AgentTurn",
    "CallContext",
    "CallDirection",
    "Conversation",
    "ConversationOutcome",
    "ConversationRuntime",
    "DialoguePolicy",
    "EndReason",
    "EventKind",
    "InvalidAgentProfile",
    "OpenAIChatPolicy",
    "PolicyName",
    "PolicyReply",
    "PolicyRequest",
    "ScriptedPolicy",
    "TranscriptLine",
    "leave_voicemail",
    "play_conversation",
    "validate_agent",
]
