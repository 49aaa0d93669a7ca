"""Inbound calls, over many conversations: nothing about a contact is said before identity is
confirmed (issue 19: "identity check before any appointment detail"; "never PHI to an
unidentified caller")."""

from __future__ import annotations

import re
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringfence.agent.events import (
    AppointmentConfirmed,
    CallerConfirmed,
    CancelRequested,
    IdentityConfirmed,
    RescheduleRequested,
)
from ringfence.agent.policies.base import Speaker
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import CallContext, CallDirection
from ringfence.agent.runtime import ConversationRuntime
from ringfence.domain.inbound import (
    CallerCandidate,
    LikelyCaller,
    OurCall,
    Recognition,
    SharedLine,
    UnknownCaller,
    reason_for_our_call,
)
from ringfence.domain.vocabulary import CallPurpose

from .factories import PRACTICE, profile

MARIA = CallerCandidate(7, 1, "Maria", "Quintero")
ANA = CallerCandidate(8, 1, "Ana", "Quintero")
ZOE = CallerCandidate(9, 2, "Zoe", "Hartley")
SERVICE, TIME = "Botox touch-up", "Thursday at 4:30 PM"
CALLERS: list[Recognition] = [
    LikelyCaller(MARIA),
    LikelyCaller(ZOE),
    SharedLine((MARIA, ANA)),
    SharedLine((MARIA, ANA, ZOE)),
    UnknownCaller(withheld=False),
    UnknownCaller(withheld=True),
]
SAYINGS = [
    "Can I move my appointment to Friday?",
    "I want to confirm my appointment",
    "I need to cancel my appointment",
    "When is my appointment?",
    "What is my appointment for?",
    "You called me",
    "I missed a call from this number",
    "why did you call me",
    "what time do you close",
    "where are you located",
    "yes",
    "no",
    "yes, this is Maria",
    "It's Ana Quintero",
    "This is Zoe",
    "Maria",
    "no, this is her husband",
    "Are you a robot?",
    "I'd like to book a facial",
    "hmm",
    "what do you mean",
    "next Tuesday at 3 pm",
    "no that's all",
]
# Why we called, in words (said only once the very contact we called is confirmed).
PURPOSES = [
    reason_for_our_call(
        OurCall(1, MARIA.contact_id, purpose, datetime(2026, 12, 1)),
        practice=PRACTICE,
        identity_confirmed_for=MARIA.contact_id,
    )
    .removeprefix(f"{PRACTICE} called ")
    .rstrip(".")
    for purpose in CallPurpose
]
APPOINTMENT_OUTCOMES: set[type] = {AppointmentConfirmed, RescheduleRequested, CancelRequested}
# Grounds for the check: the words that would reveal who the contacts are or what they booked.
SECRETS = [
    SERVICE,
    TIME,
    "Thursday",
    "4:30",
    "Botox",
    *{n for c in (MARIA, ANA, ZOE) for n in (c.first_name, c.last_name)},
]


def context(caller: Recognition, purpose: CallPurpose) -> CallContext:
    return CallContext(
        CallDirection.INBOUND,
        appointment_service=SERVICE,
        appointment_local_time=TIME,
        caller=caller,
        returned_call=OurCall(1, 7, purpose, datetime(2026, 12, 1)),
        location_text="We're open Monday to Friday, 9 AM to 6 PM, at 455 Park Avenue South.",
    )


def revealed(line: str, caller: Recognition) -> list[str]:
    """The secrets in an agent line, less the one allowed: the likely caller's first name in
    the yes/no identity question ("Am I speaking with Maria?")."""
    if isinstance(caller, LikelyCaller):
        asked = re.escape(caller.candidate.first_name)
        line = re.sub(rf"\bam I speaking with {asked}\?", "", line, flags=re.IGNORECASE)
    found = [s for s in SECRETS if re.search(rf"\b{re.escape(s)}\b", line, re.IGNORECASE)]
    return found + [p for p in PURPOSES if p in line]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(CALLERS),
    st.sampled_from(list(CallPurpose)),
    st.lists(st.sampled_from(SAYINGS), min_size=1, max_size=6),
)
def test_nothing_about_a_contact_is_said_before_identity_is_confirmed(
    caller: Recognition, purpose: CallPurpose, turns: list[str]
) -> None:
    runtime = ConversationRuntime(profile(), context(caller, purpose), ScriptedPolicy())
    said = [runtime.start().text]
    for words in turns:
        if runtime.ended:
            break
        turn = runtime.respond(words)
        if not runtime.identity_confirmed:  # the line of a confirmation may name the caller
            said.append(turn.text)
    for line in said:
        assert revealed(line, caller) == [], line
    if isinstance(caller, UnknownCaller):
        assert not runtime.identity_confirmed
    # Nothing is done to an appointment for a caller not confirmed either.
    kinds = [type(e) for e in runtime.events]
    first_confirmed = kinds.index(IdentityConfirmed) if IdentityConfirmed in kinds else len(kinds)
    assert not set(kinds[:first_confirmed]) & APPOINTMENT_OUTCOMES


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CALLERS), st.lists(st.sampled_from(SAYINGS), min_size=1, max_size=6))
def test_only_a_contact_on_the_callers_line_is_ever_confirmed(
    caller: Recognition, turns: list[str]
) -> None:
    runtime = ConversationRuntime(
        profile(), context(caller, CallPurpose.APPOINTMENT_CONFIRMATION), ScriptedPolicy()
    )
    runtime.start()
    for words in turns:
        if runtime.ended:
            break
        runtime.respond(words)
    confirmed = {e.contact_id for e in runtime.events if isinstance(e, CallerConfirmed)}
    allowed = (
        {caller.candidate.contact_id}
        if isinstance(caller, LikelyCaller)
        else {c.contact_id for c in caller.candidates}
        if isinstance(caller, SharedLine)
        else set()
    )
    assert confirmed <= allowed
    assert len(confirmed) <= 1
    spoken = [t.text for t in runtime.history if t.speaker is Speaker.AGENT]
    if not confirmed:
        assert all(revealed(line, caller) == [] for line in spoken)
