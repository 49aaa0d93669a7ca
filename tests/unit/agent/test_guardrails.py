"""The detectors and the outgoing filter, one guardrail at a time."""

from __future__ import annotations

import pytest

from ringfence.agent.events import HumanClaimBlocked, PhiBlocked
from ringfence.agent.guardrails import (
    IdentityAnswer,
    asks_if_ai,
    assess_clinical,
    claims_human,
    classify_identity_answer,
    phi_terms_in,
    screen_utterance,
)
from ringfence.agent.guardrails.outgoing import NEUTRAL_LINE, service_withheld, time_withheld

from .factories import PRACTICE


@pytest.mark.parametrize(
    "text",
    [
        "Are you a robot?",
        "am I talking to a real person",
        "Is this a real person?",
        "are you human",
        "Are you an AI?",
        "is this automated",
        "wait, is this a recording?",
        "You sound like a robot.",
        "human or machine?",
        "Am I speaking with a computer?",
        "are you real",
    ],
)
def test_ai_questions_are_recognised(text: str) -> None:
    assert asks_if_ai(text)


@pytest.mark.parametrize(
    "text",
    [
        "Can I talk to a real person?",  # a request for staff, handled by the policy
        "Is this a virtual consultation?",
        "are you available on Friday?",
        "yes this is Jane",
        "is this about my appointment?",
    ],
)
def test_other_questions_are_not_ai_questions(text: str) -> None:
    assert not asks_if_ai(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm a real person.",
        "I am human.",
        "No, I'm not a robot.",
        "I'm not an AI, I promise.",
        "I am the receptionist at the front desk.",
        "You're talking to a real person.",
        "I work at the front desk.",
    ],
)
def test_claims_to_be_human_are_caught(text: str) -> None:
    assert claims_human(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "I'm an AI assistant for Glow Med Spa.",
        "I'm an AI assistant, not a person.",
        "A member of our team will call you back.",
        "I'll have a staff member call you.",
    ],
)
def test_disclosures_are_not_human_claims(text: str) -> None:
    assert claims_human(text) is None


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("Is this swelling normal?", False),
        ("How many units of Botox do I get?", False),
        ("What are the side effects?", False),
        ("Can I take ibuprofen before my appointment?", False),
        ("Is it safe to drink wine after filler?", False),
        ("I'm pregnant, is that a problem?", False),
        ("The swelling is getting worse.", True),
        ("I'm in severe pain since the injection.", True),
        ("My vision is blurry since yesterday.", True),
        ("The skin near the filler turned white.", True),
        ("I have a fever and the area is hot to the touch.", True),
        ("It looks infected.", True),
        ("I have trouble breathing.", True),
        ("My eyelid is drooping after Botox.", True),
    ],
)
def test_clinical_questions_and_complications(text: str, urgent: bool) -> None:
    concern = assess_clinical(text)
    assert concern is not None
    assert concern.urgent is urgent


@pytest.mark.parametrize(
    "text",
    [
        "Can we bump it to Thursday?",
        "It's a pain to get there on Fridays.",
        "Tuesday is worse for me.",
        "Yes, I'll be there.",
        "Can you call me back tomorrow?",
        "Uh, er, which location is it?",
        "My phone number changed.",
    ],
)
def test_ordinary_sentences_are_not_clinical(text: str) -> None:
    assert assess_clinical(text) is None


def test_phi_terms_allow_the_service_name_only() -> None:
    bad = "Calling to confirm your filler dissolution following last week's complications."
    assert set(phi_terms_in(bad)) >= {"complication", "corrective_procedure"}
    assert phi_terms_in("Calling to confirm your Botox touch-up at 2 PM.") == ()
    assert phi_terms_in("Your Acne facial is on Friday.", allowed=["Acne facial"]) == ()
    assert phi_terms_in("Your acne looks better.", allowed=["Acne facial"]) == ("condition",)
    assert phi_terms_in("Please call us back at 305-555-0123, any number works.") == ()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Yes, this is Jane.", IdentityAnswer.CONFIRMED),
        ("Speaking.", IdentityAnswer.CONFIRMED),
        ("This is she.", IdentityAnswer.CONFIRMED),
        ("Jane speaking", IdentityAnswer.CONFIRMED),
        ("No, this is her husband.", IdentityAnswer.NOT_PATIENT),
        ("She's not home right now.", IdentityAnswer.NOT_PATIENT),
        ("You have the wrong number.", IdentityAnswer.WRONG_NUMBER),
        ("There's no Jane here.", IdentityAnswer.WRONG_NUMBER),
        ("Who is this?", IdentityAnswer.UNCLEAR),
        ("", IdentityAnswer.UNCLEAR),
    ],
)
def test_identity_answers(answer: str, expected: IdentityAnswer) -> None:
    assert classify_identity_answer(answer, "Jane") is expected


def test_filter_replaces_a_human_claim_with_the_disclosure() -> None:
    screened = screen_utterance(
        "Yes, I'm a real person. Can you make it Friday?", practice_name=PRACTICE
    )
    assert screened.text == f"I'm an AI assistant for {PRACTICE}. Can you make it Friday?"
    assert screened.events == (HumanClaimBlocked("claims_person"),)


def test_filter_drops_clinical_sentences_and_names_only_the_labels() -> None:
    screened = screen_utterance(
        "You were diagnosed with an infection. Take 500 mg of amoxicillin. See you Friday!",
        practice_name=PRACTICE,
    )
    assert screened.text == f"{NEUTRAL_LINE} See you Friday!"
    (event,) = screened.events
    assert isinstance(event, PhiBlocked)
    assert "infection" in event.terms
    assert "diagnosis" in event.terms
    assert "amoxicillin" not in " ".join(event.terms)


def test_filter_withholds_appointment_details_before_identity() -> None:
    withheld = [service_withheld("Botox touch-up"), time_withheld("Friday at 2 PM")]
    screened = screen_utterance(
        "Hi. Your Botox is on Friday. It starts at 2 PM. Thanks!",
        practice_name=PRACTICE,
        withheld=withheld,
    )
    assert screened.text == f"Hi. {NEUTRAL_LINE} Thanks!"
    assert screened.events == (PhiBlocked(("appointment_service", "appointment_time")),)


def test_filter_keeps_practice_names_with_periods_whole() -> None:
    screened = screen_utterance(
        "This is Dr. Lee Aesthetics. Hello!", practice_name="Dr. Lee Aesthetics"
    )
    assert screened.text == "This is Dr. Lee Aesthetics. Hello!"
    assert screened.events == ()


def test_an_all_blocked_utterance_becomes_the_neutral_line() -> None:
    assert screen_utterance("Your complication.", practice_name=PRACTICE).text == NEUTRAL_LINE
