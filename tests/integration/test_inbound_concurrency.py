"""Inbound calls and the concurrent-call limit (issue 19, item 5): an inbound call being
answered takes no outbound pacing slot, but it holds a line: the dispatcher dials fewer while
it lasts, a caller at the limit is refused (busy) with nothing written, and a call left "in
progress" by a worker that stopped is settled, not held forever."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallEvent, CallJob
from ringfence.adapters.db.orm import Contact
from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.agent.events import ConversationOutcome
from ringfence.agent.policies.base import DialoguePolicy
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import PolicyName
from ringfence.agent.session import AgentSession
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.vocabulary import CallDirection, CallOutcome, CallStatus
from ringfence.services import inbound_live
from ringfence.services.dispatch import Dispatcher
from ringfence.services.inbound_calls import (
    LOST_AFTER,
    OpenedInbound,
    calls_in_flight,
    close_inbound_call,
    open_inbound_call,
)
from ringfence.services.inbound_live import AtCapacity, InboundLiveCalls
from ringfence.services.inbound_sandbox import converse
from ringfence.services.suppression import suppression_of
from ringfence.speech.pipeline import VoicePipeline
from tests.integration.dispatch.practice import WINDOW_OPENS, Practice, make_practice

LINE = "+12125550199"
CALLER = "+12125550147"
ONE_LINE = DispatchConfig(carrier_cps=10, carrier_burst=10, max_concurrent_calls=1)


def _scripted(_name: PolicyName) -> DialoguePolicy:
    return ScriptedPolicy()


def _ring(container: Container) -> OpenedInbound:
    with container.uow() as uow:
        opened = open_inbound_call(uow, dialed=LINE, caller=CALLER)
    assert isinstance(opened, OpenedInbound)
    return opened


def _dispatcher(container: Container, clock: VirtualClock) -> Dispatcher:
    return Dispatcher(
        session_factory=container.session_factory,
        carrier=SandboxCarrier(container.session_factory, clock),
        clock=clock,
        config=ONE_LINE,
    )


def _outbound_call(container: Container, practice: Practice) -> int:
    contact = practice.add_contact("+12125550100")
    [job] = practice.enqueue(contact)
    return job


def test_an_inbound_call_in_progress_holds_a_line_of_the_limit(
    container: Container, clock: VirtualClock
) -> None:
    clock.set(WINDOW_OPENS)
    practice = make_practice(container)
    job = _outbound_call(container, practice)
    opened = _ring(container)
    with container.uow() as uow:
        assert calls_in_flight(uow.session) == 1

    dispatcher = _dispatcher(container, clock)
    assert dispatcher.tick().dialed == 0  # the one line is the caller's
    assert practice.job(job).status is CallStatus.QUEUED

    with container.uow() as uow:
        close_inbound_call(uow, opened, None, ended_at=clock.now())
        assert calls_in_flight(uow.session) == 0
    clock.advance(timedelta(seconds=5))
    assert dispatcher.tick().dialed == 1  # the line is free again


def test_a_caller_at_the_limit_is_refused_busy_and_nothing_is_written(
    container: Container, clock: VirtualClock
) -> None:
    clock.set(WINDOW_OPENS)
    make_practice(container)
    _ring(container)  # the one line is held

    def never(_agent: AgentSession, *, stream_opening: bool) -> VoicePipeline:
        raise AssertionError("a refused call prepares no agent")

    inbound = InboundLiveCalls(
        container.uow,
        pipeline_for=never,
        store_dir=container.settings.recordings_dir,
        cipher=container.phi_cipher,
        max_concurrent_calls=1,
    )
    refused = inbound.answer(dialed=LINE, caller="+13055550111")
    assert isinstance(refused, AtCapacity)
    assert "1 concurrent call lines" in refused.explanation
    with container.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CallJob)) == 1


def test_an_agent_that_cannot_be_prepared_leaves_no_call_in_progress(
    container: Container, clock: VirtualClock
) -> None:
    clock.set(WINDOW_OPENS)
    make_practice(container)

    def broken(_agent: AgentSession, *, stream_opening: bool) -> VoicePipeline:
        raise RuntimeError("no voice")

    inbound = InboundLiveCalls(
        container.uow,
        pipeline_for=broken,
        store_dir=container.settings.recordings_dir,
        cipher=container.phi_cipher,
        max_concurrent_calls=5,
    )
    with pytest.raises(RuntimeError, match="no voice"):  # the carrier hears of it
        inbound.answer(dialed=LINE, caller=CALLER)
    with container.uow() as uow:
        job = uow.session.scalars(select(CallJob)).one()
        assert (job.status, job.outcome) == (CallStatus.COMPLETED, CallOutcome.NO_ANSWER)
        assert calls_in_flight(uow.session) == 0


def test_an_inbound_call_a_stopped_worker_left_in_progress_is_settled(
    container: Container, clock: VirtualClock
) -> None:
    clock.set(WINDOW_OPENS)
    practice = make_practice(container)
    job = _outbound_call(container, practice)
    opened = _ring(container)
    dispatcher = _dispatcher(container, clock)

    clock.advance(LOST_AFTER - timedelta(minutes=1))
    assert dispatcher.reconcile() == 0  # a long call is still a call (up to the longest)
    clock.advance(timedelta(minutes=2))
    assert dispatcher.reconcile() == 1
    lost = practice.job(opened.job_id)
    assert (lost.direction, lost.status, lost.outcome) == (
        CallDirection.INBOUND,
        CallStatus.COMPLETED,
        CallOutcome.FAILED,  # nobody knows whether the caller was talked to
    )
    assert lost.carrier_reason is not None
    assert "call lost" in lost.carrier_reason
    with container.uow() as uow:
        reasons = uow.session.scalars(
            select(CallEvent.reason_code).where(CallEvent.job_id == opened.job_id)
        ).all()
    assert reasons == ["inbound_call", "inbound_call_lost"]
    assert dispatcher.tick().dialed == 1  # its line is free
    assert practice.job(job).status is not CallStatus.QUEUED


def test_an_opt_out_on_a_call_taken_for_lost_is_still_applied_when_it_ends(
    container: Container, clock: VirtualClock
) -> None:
    """A call that outlived the lost-call horizon was live after all: its close still files
    the conversation, and the caller's "stop calling me" suppresses the number."""
    clock.set(WINDOW_OPENS)
    practice = make_practice(container)
    maria = practice.add_contact(CALLER, first_name="Maria")
    opened = _ring(container)
    clock.advance(LOST_AFTER + timedelta(minutes=1))
    assert _dispatcher(container, clock).reconcile() == 1
    with container.uow() as uow:
        conversation = converse(opened.agent_session, ["Stop calling me."], _scripted)
        closed = close_inbound_call(uow, opened, conversation, ended_at=clock.now())
    assert closed.outcome is ConversationOutcome.OPTED_OUT
    job = practice.job(opened.job_id)
    assert (job.status, job.outcome, job.carrier_reason) == (
        CallStatus.COMPLETED,
        CallOutcome.CONNECTED,
        None,
    )
    with container.uow() as uow:
        assert suppression_of(uow.session, practice.account_id, CALLER) is not None
        contact = uow.session.get(Contact, maria)
        assert contact is not None
        assert contact.dnd_voice


def test_two_callers_ringing_at_once_cannot_both_take_the_last_line(
    container: Container, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(WINDOW_OPENS)
    make_practice(container)
    counted = inbound_live.calls_in_flight

    def slow_count(session: Session) -> int:
        found = counted(session)
        time.sleep(0.3)  # the other caller's count comes now, before this one's record
        return found

    monkeypatch.setattr(inbound_live, "calls_in_flight", slow_count)
    opened: list[object] = []

    def prepared(agent: AgentSession, *, stream_opening: bool) -> VoicePipeline:
        # Stands for the agent's pipeline: the answered call's record stays in progress, as
        # a live call's does (closing it here would free the line the test is about).
        return cast(VoicePipeline, object())

    inbound = InboundLiveCalls(
        container.uow,
        pipeline_for=prepared,
        store_dir=container.settings.recordings_dir,
        cipher=container.phi_cipher,
        max_concurrent_calls=1,
    )
    callers = [
        threading.Thread(target=lambda n=n: opened.append(inbound.answer(dialed=LINE, caller=n)))
        for n in (CALLER, "+13055550111")
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(10)
    assert sorted(type(o).__name__ for o in opened) == ["AtCapacity", "InboundCallSession"]
