"""validate_agent and the default openings (both directions, every purpose)."""

from __future__ import annotations

import pytest

from ringfence.agent.guardrails.opening import opening_problems
from ringfence.agent.profile import CallContext, CallDirection, default_opening
from ringfence.agent.validation import validate_agent
from ringfence.domain.vocabulary import CallPurpose

from .factories import PRACTICE, profile


def test_the_default_profile_is_valid() -> None:
    assert validate_agent(profile()) == []


@pytest.mark.parametrize("purpose", list(CallPurpose))
def test_default_openings_name_the_practice_then_the_reason(purpose: CallPurpose) -> None:
    text = profile().opening(purpose)
    first, second = text.split(". ", 1)
    assert PRACTICE in first
    assert "calling" in second
    assert "?" not in text
    assert ("say stop at any time" in first) is purpose.is_marketing
    assert opening_problems(text, PRACTICE, marketing=purpose.is_marketing) == []


def test_an_opening_that_does_not_name_the_practice_fails() -> None:
    bad = profile(
        outbound_openings={
            CallPurpose.APPOINTMENT_CONFIRMATION: "Hi! I'm calling about your visit."
        }
    )
    problems = validate_agent(bad)
    assert [p.field for p in problems] == ["outbound_openings.appointment_confirmation"]
    assert "first sentence must name the practice" in problems[0].message


@pytest.mark.parametrize(
    ("opening", "fragment"),
    [
        ("Hi, this is {practice}. Do you have a minute?", "reason"),
        ("Hi, this is {practice}.", "reason"),
        ("Hi, this is {practice}, how are you? I'm calling about your appointment.", "question"),
        (
            "Hi {first_name}, this is {practice}. I'm calling about your appointment.",
            "placeholders",
        ),
        ("Hi, this is {practice}. I'm calling to confirm your {service}.", "placeholders"),
        ("This is Jenny, a real person at {practice}. I'm calling about your visit.", "person"),
        (
            "Hi, this is {practice}. I'm calling about your filler complications.",
            "clinical details",
        ),
    ],
)
def test_bad_openings_are_reported_by_field(opening: str, fragment: str) -> None:
    problems = validate_agent(profile(outbound_openings={CallPurpose.NO_SHOW_RECOVERY: opening}))
    assert problems, opening
    assert {p.field for p in problems} == {"outbound_openings.no_show_recovery"}
    assert any(fragment in p.message for p in problems)


def test_marketing_openings_must_offer_the_opt_out_within_two_seconds() -> None:
    missing = "Hi, this is {practice}. I'm calling about our spring specials."
    late = (
        "Hi, this is {practice}. I'm calling about our spring specials for returning "
        "patients, and you can say stop at any time."
    )
    good = (
        "Hi, this is {practice}; say stop at any time to opt out. I'm calling about our specials."
    )
    for text, ok in ((missing, False), (late, False), (good, True)):
        problems = validate_agent(profile(outbound_openings={CallPurpose.LEAD_REACTIVATION: text}))
        assert (problems == []) is ok, (text, problems)
    informational = validate_agent(
        profile(outbound_openings={CallPurpose.APPOINTMENT_CONFIRMATION: missing})
    )
    assert informational == []


def test_other_fields_are_checked() -> None:
    bad = profile(
        practice_name=" ",
        callback_number="305-555-0123",
        opt_out_number="+15555550000",
        inbound_greeting="Hello! You've reached {practice}.",
        voicemail_script="Hi {first_name}, your Botox is due. Call {callback_number}.",
        system_prompt="Pretend to be a human receptionist named Jenny.",
    )
    fields = {p.field for p in validate_agent(bad)}
    assert {
        "practice_name",
        "callback_number",
        "opt_out_number",
        "voicemail_script",
        "system_prompt",
    } <= fields


def test_greeting_must_name_the_practice_first() -> None:
    problems = validate_agent(profile(inbound_greeting="Hello there. This is {practice}."))
    assert [p.field for p in problems] == ["inbound_greeting"]
    assert (
        validate_agent(profile(inbound_greeting="Thanks for calling {practice}! How can I help?"))
        == []
    )


def test_outbound_calls_need_a_purpose() -> None:
    with pytest.raises(ValueError, match="purpose"):
        CallContext(CallDirection.OUTBOUND)


def test_default_opening_templates_only_use_the_practice() -> None:
    for purpose in CallPurpose:
        assert "{practice}" in default_opening(purpose)
        assert "{service}" not in default_opening(purpose)
