"""The dialogue-policy contract: one method, `respond`.

A policy decides what the agent says next and which outcome the callee's words amount to. It
never sees opt-outs, AI questions or clinical questions (the runtime answers those first),
and whatever it returns passes the outgoing filters before it is spoken, so a policy cannot
break a guardrail however it misbehaves. Policies are stateless: anything they need to carry
to the next turn goes in `PolicyReply.state` and comes back in `PolicyRequest.state`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ringfence.agent.events import PolicyOutcome
from ringfence.agent.profile import AgentProfile, CallContext
from ringfence.agent.understanding.labels import Label


class Speaker(StrEnum):
    AGENT = "agent"
    CALLEE = "callee"


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: Speaker
    text: str


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    profile: AgentProfile
    context: CallContext
    history: tuple[Turn, ...]  # the conversation so far, as it was actually said
    callee_text: str | None  # None: the agent speaks next unprompted (state the purpose)
    identity_confirmed: bool  # False: the service and time must not be mentioned
    state: str = ""
    # What the runtime understood the callee's turn to be (agent/understanding), when it is a
    # scheduling label it is sure of; None: the policy reads the words itself.
    understood: Label | None = None


@dataclass(frozen=True, slots=True)
class PolicyReply:
    text: str
    outcome: PolicyOutcome | None = None
    end_call: bool = False
    state: str = ""
    # A language model chose this reply: its action must be grounded in what the callee said,
    # and `free_text` (words the model wrote, not a template) must pass the output verifier
    # (guardrails/verifier.py), or a safe line is said instead.
    from_model: bool = False
    free_text: bool = False


class PolicyUnavailable(Exception):
    """The policy could not produce a reply (timeout, HTTP error, malformed answer)."""


class DialoguePolicy(Protocol):
    """Decides the agent's next utterance. Implementations: ScriptedPolicy (embedded,
    deterministic) and OpenAIChatPolicy (any OpenAI-compatible chat-completions endpoint).

    May raise PolicyUnavailable; the runtime then says a safe line and opens a staff task.
    """

    def respond(self, request: PolicyRequest) -> PolicyReply: ...
