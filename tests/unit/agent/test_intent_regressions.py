"""Intent bugs found by the guardrail evaluation set, pinned."""

from __future__ import annotations

import pytest

from ringfence.agent.policies.intents import Intent, recognize_intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I want to keep the appointment, don't cancel it", Intent.CONFIRM),
        ("No, I don't want to cancel, I'll be there", Intent.CONFIRM),
        ("I need to cancel my appointment", Intent.CANCEL),
        ("What are your hours on Saturday?", Intent.QUESTION_FOR_STAFF),
        ("Could I come a bit earlier, like noon?", Intent.RESCHEDULE),
        ("Can we do another time?", Intent.RESCHEDULE),
        ("Please do", Intent.CONFIRM),
    ],
)
def test_intent(text: str, intent: Intent) -> None:
    assert recognize_intent(text).intent is intent


@pytest.mark.parametrize("text", ["Please don't stop calling", "I'd like to buy a gift card"])
def test_not_a_confirmation(text: str) -> None:
    assert recognize_intent(text).intent is not Intent.CONFIRM
