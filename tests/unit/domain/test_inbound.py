"""The decisions before an incoming call is answered: its practice line, its caller, and what
may be said about our earlier call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.domain.inbound import (
    CallerCandidate,
    LikelyCaller,
    OurCall,
    PracticeLine,
    Refused,
    Routed,
    RouteRefusal,
    SharedLine,
    UnknownCaller,
    match_spoken_name,
    reason_for_our_call,
    recognise_caller,
    returned_call,
    route_call,
)
from ringfence.domain.vocabulary import CallPurpose

NUMBERS = ["+12125550100", "+12125550147", "+16025550123", "+13055550188"]
NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)

lines = st.lists(
    st.builds(
        PracticeLine,
        account_id=st.integers(1, 3),
        location_id=st.integers(1, 6),
        number_id=st.integers(1, 50),
        e164=st.sampled_from(NUMBERS),
    ),
    max_size=8,
)


@given(lines, st.sampled_from(NUMBERS))
def test_a_call_is_answered_for_exactly_the_one_practice_owning_the_number(
    registered: list[PracticeLine], dialed: str
) -> None:
    owners = {line.account_id for line in registered if line.e164 == dialed}
    decision = route_call(dialed, registered)
    if not owners:
        assert decision == Refused(RouteRefusal.UNKNOWN_NUMBER, dialed)
    elif len(owners) > 1:
        assert decision == Refused(RouteRefusal.SHARED_NUMBER, dialed)
    else:
        assert isinstance(decision, Routed)
        assert decision.line.e164 == dialed
        assert decision.line.account_id in owners


def test_the_dialed_number_is_read_in_any_spelling_and_refused_when_it_is_none() -> None:
    line = PracticeLine(account_id=1, location_id=2, number_id=3, e164="+12125550147")
    assert route_call("(212) 555-0147", [line]) == Routed(line)
    assert route_call("2125550147", [line]) == Routed(line)
    refused = route_call("anonymous", [line])
    assert refused == Refused(RouteRefusal.NOT_A_NUMBER, "anonymous")
    assert isinstance(refused, Refused)
    assert "not a valid phone number" in refused.explanation


def test_a_number_two_practices_registered_is_not_answered_for_either() -> None:
    ours = PracticeLine(account_id=1, location_id=1, number_id=1, e164="+12125550147")
    theirs = PracticeLine(account_id=2, location_id=9, number_id=7, e164="+12125550147")
    refused = route_call("+12125550147", [ours, theirs])
    assert isinstance(refused, Refused)
    assert "more than one practice" in refused.explanation


def _candidate(
    contact_id: int, location_id: int, first: str, last: str = "Lopez"
) -> CallerCandidate:
    return CallerCandidate(contact_id, location_id, first, last)


candidates = st.lists(
    st.builds(
        CallerCandidate,
        contact_id=st.integers(1, 1000),
        location_id=st.integers(1, 3),
        first_name=st.sampled_from(["Maria", "Ana", "Jo"]),
        last_name=st.sampled_from(["Lopez", "Smith"]),
    ),
    max_size=5,
    unique_by=lambda c: c.contact_id,
)


@given(candidates, st.integers(1, 3))
def test_a_likely_caller_is_never_guessed_among_several_at_the_location(
    contacts: list[CallerCandidate], location_id: int
) -> None:
    recognition = recognise_caller("+12125550147", contacts, location_id=location_id)
    here = [c for c in contacts if c.location_id == location_id]
    if isinstance(recognition, LikelyCaller):
        assert recognition.candidate in contacts
        assert len(here) == 1 or (not here and len(contacts) == 1)
    elif isinstance(recognition, SharedLine):
        assert len(recognition.candidates) > 1
        assert set(recognition.candidates) == set(here or contacts)
    else:
        assert recognition == UnknownCaller(withheld=False)
        assert contacts == []


def test_a_withheld_number_is_unknown_whoever_has_no_number() -> None:
    someone = [_candidate(1, 1, "Maria")]
    assert recognise_caller(None, someone, location_id=1) == UnknownCaller(withheld=True)
    assert recognise_caller("anonymous", someone, location_id=1) == UnknownCaller(withheld=True)


def test_the_called_location_comes_first() -> None:
    here, there = _candidate(1, 1, "Maria"), _candidate(2, 2, "Ana")
    assert recognise_caller("+12125550147", [there, here], location_id=1) == LikelyCaller(here)
    assert recognise_caller("+12125550147", [there], location_id=1) == LikelyCaller(there)


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        ("it's maria", 1),
        ("This is María López.", 1),
        ("ana speaking", 2),
        ("umm, this is her daughter", None),
        ("jo", None),  # two Jos: asked again, never guessed
        ("jo smith", 4),  # the full name settles it
        ("joanna", None),  # a longer word is not the name
    ],
)
def test_the_spoken_name_picks_one_candidate_or_none(spoken: str, expected: int | None) -> None:
    family = [
        _candidate(1, 1, "Maria"),
        _candidate(2, 1, "Ana"),
        _candidate(3, 1, "Jo"),
        _candidate(4, 1, "Jo", "Smith"),
    ]
    found = match_spoken_name(spoken, family)
    assert (found.contact_id if found else None) == expected


def _call(job_id: int, contact_id: int, days_ago: float, purpose: CallPurpose) -> OurCall:
    return OurCall(job_id, contact_id, purpose, NOW - timedelta(days=days_ago))


def test_the_call_being_returned_is_our_latest_within_two_weeks() -> None:
    old = _call(1, 7, 20, CallPurpose.LEAD_REACTIVATION)
    earlier = _call(2, 7, 3, CallPurpose.TREATMENT_REMINDER)
    latest = _call(3, 8, 1, CallPurpose.APPOINTMENT_CONFIRMATION)
    assert returned_call([old, earlier, latest], NOW) == latest
    assert returned_call([old], NOW) is None


@given(st.sampled_from(list(CallPurpose)), st.sampled_from([None, 7, 8]))
def test_the_reason_is_generic_until_the_caller_is_the_contact_we_called(
    purpose: CallPurpose, confirmed: int | None
) -> None:
    call = _call(3, 8, 1, purpose)
    said = reason_for_our_call(call, practice="Glow Aesthetics", identity_confirmed_for=confirmed)
    if confirmed == 8:
        assert said.startswith("Glow Aesthetics called ")
        assert "courtesy" not in said
    else:
        assert said == "Glow Aesthetics called this number with a courtesy message."
        for word in ("appointment", "consult", "treatment", "offer", "missed"):
            assert word not in said.lower()


def test_no_recent_call_says_so() -> None:
    said = reason_for_our_call(None, practice="Glow", identity_confirmed_for=None)
    assert said == "I don't see a recent call to this number from Glow."


def test_an_unknown_callers_own_record_is_never_a_recognised_caller() -> None:
    placeholder = CallerCandidate(9, 1, "Unknown caller", "")
    assert recognise_caller("+12125550147", [placeholder], location_id=1) == UnknownCaller(
        withheld=False
    )
    renamed = CallerCandidate(9, 1, "Dana", "Reyes")  # staff filled in who it was
    assert recognise_caller("+12125550147", [renamed], location_id=1) == LikelyCaller(renamed)
