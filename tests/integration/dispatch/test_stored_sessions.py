"""A dialed call's agent session is stored as its context on the job and its profile once per
content (services/stored_sessions.py): calls of one agent share one profile row, an edited
agent is a new row while its earlier calls keep what they were placed with, accounts never
share a row, and a job written before the split (the profile inline) still reads back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from ringfence.adapters.db.calls import AgentProfileSnapshot, CallJob, CallTranscript
from ringfence.adapters.db.orm import VoiceAgent
from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.agent.session import session_to_json
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.vocabulary import CallOutcome, CallStatus
from ringfence.services import stored_sessions
from ringfence.services.dispatch import Dispatcher
from ringfence.services.stored_sessions import MissingProfile, load_session, profile_digest
from tests.integration.dispatch.practice import WINDOW_OPENS, Practice, make_practice

OPENING = "Hello from {practice}. This is an AI assistant calling about your upcoming appointment."
EDITED = (
    "Good morning from {practice}. An AI assistant here, calling about your upcoming appointment."
)


@pytest.fixture(autouse=True)
def _cold_cache() -> None:
    """Every test reads the profiles from the database, not from what an earlier test left in
    the process-wide cache (ids, and so digests, repeat across test databases)."""
    stored_sessions._PROFILES.clear()


@pytest.fixture
def practice(container: Container, clock: VirtualClock) -> Practice:
    clock.set(WINDOW_OPENS - timedelta(days=1))
    return make_practice(container)


def _dispatcher(container: Container, clock: VirtualClock) -> Dispatcher:
    return Dispatcher(
        session_factory=container.session_factory,
        carrier=SandboxCarrier(container.session_factory, clock),
        clock=clock,
        config=DispatchConfig(carrier_cps=5, carrier_burst=5),
    )


def _run(dispatcher: Dispatcher, clock: VirtualClock, minutes: int = 12) -> None:
    for _ in range(minutes):
        dispatcher.tick()
        clock.advance(timedelta(minutes=1))


def _set_opening(container: Container, agent_id: int, text: str) -> None:
    with container.uow() as uow:
        uow.session.execute(
            update(VoiceAgent).where(VoiceAgent.id == agent_id).values(outbound_opening=text)
        )
        uow.commit()


def _first_agent_line(container: Container, job_id: int) -> str:
    with container.uow() as uow:
        turns = uow.session.scalars(
            select(CallTranscript.turns).where(CallTranscript.job_id == job_id)
        ).one()
    return str(turns[0]["text"])


def _profile_rows(container: Container) -> list[tuple[str, int]]:
    with container.uow() as uow:
        return [
            (digest, account)
            for digest, account in uow.session.execute(
                select(AgentProfileSnapshot.digest, AgentProfileSnapshot.account_id)
            )
        ]


def test_calls_of_one_agent_share_one_profile_row_and_keep_their_own_context(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    jane = practice.add_contact("+12125550110", first_name="Jane")
    omar = practice.add_contact("+12125550111", first_name="Omar")
    jobs = practice.enqueue(jane) + practice.enqueue(omar)
    clock.set(WINDOW_OPENS)
    _run(_dispatcher(container, clock), clock)

    [(digest, account)] = _profile_rows(container)
    assert account == practice.account_id
    names = []
    for job_id in jobs:
        job = practice.job(job_id)
        assert job.outcome is CallOutcome.CONNECTED
        assert job.agent_profile_digest == digest
        assert job.agent_session is not None
        assert set(job.agent_session) == {"context"}  # no copy of the profile on the job
        names.append(job.agent_session["context"]["patient_first_name"])
        with container.uow() as uow:
            stored = load_session(
                uow.session, job.account_id, job.agent_session, job.agent_profile_digest
            )
            row = uow.session.get(AgentProfileSnapshot, digest)
            assert row is not None
            assert stored is not None
            assert profile_digest(practice.account_id, row.profile) == digest
            assert session_to_json(stored)["profile"] == row.profile
    assert names == ["Jane", "Omar"]


def test_an_edited_agent_is_a_new_row_and_an_earlier_call_keeps_what_it_said(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    _set_opening(container, practice.agent_id, OPENING)
    jane = practice.add_contact("+12125550110", first_name="Jane")
    [first] = practice.enqueue(jane)
    dispatcher = _dispatcher(container, clock)
    clock.set(WINDOW_OPENS)
    _run(dispatcher, clock)
    _set_opening(container, practice.agent_id, EDITED)
    omar = practice.add_contact("+12125550111", first_name="Omar")
    [second] = practice.enqueue(omar)
    _run(dispatcher, clock)

    assert len(_profile_rows(container)) == 2
    before, after = practice.job(first), practice.job(second)
    assert before.agent_profile_digest != after.agent_profile_digest
    assert _first_agent_line(container, first).startswith("Hello from Glow. This is an AI")
    assert _first_agent_line(container, second).startswith("Good morning from Glow. An AI")
    # Read back cold (no process cache): the first call still holds the opening it was placed
    # with, not the agent as edited since.
    stored_sessions._PROFILES.clear()
    with container.uow() as uow:
        stored = load_session(
            uow.session, before.account_id, before.agent_session, before.agent_profile_digest
        )
    assert stored is not None
    assert set(stored.profile.outbound_openings.values()) == {OPENING}


def test_two_accounts_with_the_same_texts_never_share_a_profile_row(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    other = make_practice(container)
    for each, phone in ((practice, "+12125550110"), (other, "+12125550111")):
        _set_opening(container, each.agent_id, OPENING)
        each.enqueue(each.add_contact(phone, first_name="Jane"))
    clock.set(WINDOW_OPENS)
    _run(_dispatcher(container, clock), clock)

    rows = _profile_rows(container)
    assert sorted(account for _d, account in rows) == sorted(
        [practice.account_id, other.account_id]
    )
    assert len({digest for digest, _a in rows}) == 2


def test_a_job_placed_before_the_split_still_reads_and_settles(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    """A job dialed before migration 0024 carries its profile inline and no digest; when its
    call is reported after the upgrade, the conversation is replayed from that inline copy."""
    jane = practice.add_contact("+12125550110", first_name="Jane")
    [job_id] = practice.enqueue(jane)
    dispatcher = _dispatcher(container, clock)
    clock.set(WINDOW_OPENS)
    dispatcher.tick()  # dialed; the sandbox reports the call a later tick
    job = practice.job(job_id)
    assert job.status is not CallStatus.COMPLETED
    with container.uow() as uow:
        stored = load_session(
            uow.session, job.account_id, job.agent_session, job.agent_profile_digest
        )
        assert stored is not None
        # Rewritten as the older schema wrote it; the profile rows go, so nothing else can
        # supply the profile.
        uow.session.execute(
            update(CallJob)
            .where(CallJob.id == job_id)
            .values(agent_session=session_to_json(stored), agent_profile_digest=None)
        )
        uow.session.execute(AgentProfileSnapshot.__table__.delete())
        uow.commit()
    stored_sessions._PROFILES.clear()
    _run(dispatcher, clock)

    job = practice.job(job_id)
    assert (job.status, job.outcome) == (CallStatus.COMPLETED, CallOutcome.CONNECTED)
    assert "Glow" in _first_agent_line(container, job_id)
    with container.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(AgentProfileSnapshot)) == 0
        again = load_session(
            uow.session, job.account_id, job.agent_session, job.agent_profile_digest
        )
    assert again == stored


def test_a_job_whose_profile_is_gone_costs_that_job_alone(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    """Review finding: a job naming a profile no row holds raised inside the settling batch,
    and every later tick failed with it: no other call was settled or dialed. Now that job
    completes as the carrier reported it, without a replayed conversation, and dispatch goes
    on."""
    jane = practice.add_contact("+12125550110", first_name="Jane")
    omar = practice.add_contact("+12125550111", first_name="Omar")
    [broken] = practice.enqueue(jane)
    [fine] = practice.enqueue(omar)
    dispatcher = _dispatcher(container, clock)
    clock.set(WINDOW_OPENS)
    dispatcher.tick()  # both dialed; the sandbox reports them on later ticks
    with container.uow() as uow:
        uow.session.execute(
            update(CallJob).where(CallJob.id == broken).values(agent_profile_digest="f" * 64)
        )
        uow.commit()
    later = practice.add_contact("+12125550112", first_name="Ana")
    _run(dispatcher, clock)
    [after] = practice.enqueue(later)
    _run(dispatcher, clock)

    for job_id in (broken, fine, after):
        job = practice.job(job_id)
        assert (job.status, job.outcome) == (CallStatus.COMPLETED, CallOutcome.CONNECTED)
    with container.uow() as uow:
        replayed = set(uow.session.scalars(select(CallTranscript.job_id)))
    assert replayed == {fine, after}


def test_a_digest_is_read_for_its_own_account_only(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    other = make_practice(container)
    [job_id] = practice.enqueue(practice.add_contact("+12125550110", first_name="Jane"))
    clock.set(WINDOW_OPENS)
    _dispatcher(container, clock).tick()
    job = practice.job(job_id)
    with container.uow() as uow:
        assert load_session(
            uow.session, job.account_id, job.agent_session, job.agent_profile_digest
        )
        with pytest.raises(MissingProfile, match=f"for account {other.account_id}"):
            load_session(uow.session, other.account_id, job.agent_session, job.agent_profile_digest)
