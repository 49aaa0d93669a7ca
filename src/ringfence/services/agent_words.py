"""A voice agent's settings in the words staff read: the dialogue policies and the field names.

One mapping for every page that shows them (the agent edit form's select, the Voice AI page,
the audit log), so a policy is never called one thing on one page and another elsewhere, and
no page shows a stored code such as `llm` or a field name such as `voicemail_script`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ringfence.agent.profile import PolicyName
from ringfence.domain.vocabulary import CallPurpose

POLICY_LABELS: Final[Mapping[PolicyName, str]] = {
    PolicyName.SCRIPTED: "Scripted: fixed, pre-approved sentences (no AI model)",
    PolicyName.LLM: "AI language model: free conversation within the guardrails",
}
# The same, keyed by the stored value (what an agent row and an audit event hold).
POLICY_WORDS: Final[Mapping[str, str]] = {p.value: label for p, label in POLICY_LABELS.items()}

FIELD_LABELS: Final[Mapping[str, str]] = {
    "name": "Agent name",
    "practice_name": "Practice name",
    "system_prompt": "Instructions for the AI",
    "inbound_greeting": "Greeting for incoming calls",
    "outbound_opening": "Default opening for outbound calls",
    "outbound_openings": "Openings for outbound calls",
    "callback_number": "Callback number",
    "voicemail_script": "Voicemail script",
    "dialogue_policy": "How the agent talks",
    "transfer_number": "Transfer (staff) number",
    "staff_hours": "Staff hours",
}


def policy_words(policy: str) -> str:
    """The policy as the edit page's select names it; an unknown one reads as itself."""
    return POLICY_WORDS.get(policy, policy.replace("_", " ").capitalize())


def field_label(field: str) -> str:
    """A guardrail problem's field ("outbound_openings.no_show_recovery") in words."""
    head, _, rest = field.partition(".")
    if head == "outbound_openings" and rest:
        try:
            return f"Opening for {CallPurpose(rest).label.lower()} calls"
        except ValueError:
            pass
    return FIELD_LABELS.get(head, head.replace("_", " ").capitalize())
