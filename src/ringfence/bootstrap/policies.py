"""Which dialogue policy an agent gets, from its saved choice and the settings."""

from __future__ import annotations

from collections.abc import Callable

from ringfence.agent.policies.base import DialoguePolicy
from ringfence.agent.policies.llm import OpenAIChatPolicy
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import PolicyName
from ringfence.config import Settings


def policy_factory(settings: Settings) -> Callable[[PolicyName], DialoguePolicy]:
    """`llm` agents use the configured OpenAI-compatible endpoint; without one (or for
    `scripted` agents) the embedded scripted policy holds the conversation. The guardrails
    run around either."""

    def make(name: PolicyName) -> DialoguePolicy:
        if name is PolicyName.LLM and settings.llm_base_url and settings.llm_api_key:
            return OpenAIChatPolicy(
                base_url=settings.llm_base_url,
                api_key=settings.llm_api_key,
                model=settings.llm_model,
            )
        return ScriptedPolicy()

    return make
