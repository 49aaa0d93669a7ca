"""The bulk writer of a tick's finished conversations (services/call_outcomes_bulk.py) makes
the same rows as the per-call `apply_conversation`, one call after another."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from ringfence.adapters.db.calls import CallAction, CallJob, CallTranscript
from ringfence.adapters.db.orm import Appointment, ConsentRecord, Contact, Note, Tag, Task
from ringfence.agent.callee import Conversation, TranscriptLine
from ringfence.agent.events import (
    AgentEvent,
    AppointmentConfirmed,
    CallbackRequested,
    ConversationOutcome,
    EndReason,
    FollowUpReason,
    NotInterested,
    OptOut,
    StaffFollowUp,
    TransferFailed,
    TransferRequested,
    WrongNumber,
)
from ringfence.agent.policies.base import Speaker
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.tags import CONFIRMED_TAG, NOT_INTERESTED_TAG, WRONG_NUMBER_TAG
from ringfence.domain.vocabulary import AppointmentStatus, CallOutcome, TaskPriority
from ringfence.services.call_outcomes import FinishedCall, apply_conversation
from ringfence.services.call_outcomes_bulk import apply_conversations
from tests.integration.dispatch.practice import WINDOW_OPENS, Practice, make_practice

# (callee's words, events, outcome) per call; calls 0 and 1 are the same contact, confirming
# twice (two appointments, the earlier first); contact 4 carries the "Not Interested" tag
# already (no second link, no action).
_CALLS: list[tuple[int, str, tuple[AgentEvent, ...], CallOutcome]] = [
    (0, "Yes, I'll be there, thank you!", (AppointmentConfirmed(),), CallOutcome.CONNECTED),
    (0, "Yes, that one too.", (AppointmentConfirmed(),), CallOutcome.CONNECTED),
    (1, "Wrong number, sorry.", (WrongNumber(),), CallOutcome.CONNECTED),
    (
        2,
        "My lip is swollen and it hurts a lot.",
        (
            StaffFollowUp(
                FollowUpReason.POSSIBLE_COMPLICATION, TaskPriority.URGENT, "My lip is swollen"
            ),
            CallbackRequested("tomorrow"),
        ),
        CallOutcome.CONNECTED,
    ),
    (
        3,
        "Can I talk to a person?",
        (
            TransferRequested("+12125550999", "Can I talk to a person?"),
            TransferFailed("+12125550999", "busy"),
        ),
        CallOutcome.CONNECTED,
    ),
    (4, "Not interested.", (NotInterested(),), CallOutcome.CONNECTED),
    (
        5,
        "Stop calling me, and have someone call me back in Spanish.",
        (
            StaffFollowUp(FollowUpReason.SPANISH_SPEAKER, TaskPriority.NORMAL, "en español"),
            OptOut("Stop calling me", "stop_calling"),
            NotInterested(),
        ),
        CallOutcome.CONNECTED,
    ),
    (6, "", (), CallOutcome.VOICEMAIL),
]
_CONTACTS = 7
_TAGS = (NOT_INTERESTED_TAG, WRONG_NUMBER_TAG, CONFIRMED_TAG)


@pytest.fixture
def practice(container: Container, clock: VirtualClock) -> Practice:
    clock.set(WINDOW_OPENS - timedelta(days=1))
    return make_practice(container)


def _side(
    container: Container, practice: Practice, prefix: str, *, every_tag: bool = False
) -> list[FinishedCall]:
    """Contacts (numbers `prefix`0..6), their appointments and jobs, and the finished calls;
    the "Not Interested" tag exists (`every_tag`: each tag the calls apply)."""
    contacts = [practice.add_contact(f"{prefix}{i}") for i in range(_CONTACTS)]
    jobs = practice.enqueue(*(contacts[i] for i, *_rest in _CALLS))
    with container.uow() as uow:
        now = uow.clock.now()
        for days in (3, 2, -1):  # the past one is never confirmed
            uow.session.add(
                Appointment(
                    account_id=practice.account_id,
                    location_id=practice.location_id,
                    contact_id=contacts[0],
                    starts_at=now + timedelta(days=days),
                    service=f"Botox in {days} days",
                    created_at=now,
                    updated_at=now,
                )
            )
        tags = {}
        for name in _TAGS if every_tag else (NOT_INTERESTED_TAG,):
            tags[name] = uow.session.scalars(
                select(Tag).where(Tag.account_id == practice.account_id, Tag.name == name)
            ).one_or_none() or Tag(
                account_id=practice.account_id, name=name, created_at=now, updated_at=now
            )
            uow.session.add(tags[name])
        contact = uow.session.get(Contact, contacts[4])
        assert contact is not None
        contact.tags.append(tags[NOT_INTERESTED_TAG])
        uow.commit()
        answered = now + timedelta(minutes=1)
    return [
        FinishedCall(
            job_id=job_id,
            account_id=practice.account_id,
            location_id=practice.location_id,
            contact_id=contacts[index],
            outcome=outcome,
            answered_at=answered,
            ended_at=answered + timedelta(seconds=40 + n),
        )
        for n, (job_id, (index, _said, _events, outcome)) in enumerate(
            zip(jobs, _CALLS, strict=True)
        )
    ]


def _conversation(said: str, events: tuple[AgentEvent, ...]) -> Conversation:
    lines = [TranscriptLine(Speaker.AGENT, "Hi, this is Glow.", 0.5, 1.5)]
    if said:
        lines.append(TranscriptLine(Speaker.CALLEE, said, 2.0, 4.0))
    return Conversation(
        tuple(lines), events, ConversationOutcome.NO_RESOLUTION, EndReason.COMPLETED
    )


def _pairs(calls: list[FinishedCall]) -> list[tuple[FinishedCall, Conversation]]:
    return [
        (call, _conversation(said, events))
        for call, (_i, said, events, _o) in zip(calls, _CALLS, strict=True)
    ]


def _state(container: Container, calls: list[FinishedCall]) -> dict[str, Any]:
    """Everything the calls wrote, with ids replaced by what they point at."""
    with container.uow() as uow:
        s = uow.session

        def entity(kind: str | None, entity_id: int | None, job_id: int) -> Any:
            if kind == "task":
                task = s.get(Task, entity_id)
                assert task is not None
                return (task.title, task.body, task.priority, task.status, task.due_at)
            if kind == "note":
                note = s.get(Note, entity_id)
                assert note is not None
                return (note.body, note.author, note.created_at)
            if kind == "tag":
                tag = s.get(Tag, entity_id)
                assert tag is not None
                return tag.name
            if kind == "appointment":
                appointment = s.get(Appointment, entity_id)
                assert appointment is not None
                return (appointment.service, appointment.status, appointment.updated_at)
            if kind == "consent_record":
                record = s.get(ConsentRecord, entity_id)
                assert record is not None
                return (
                    record.kind,
                    record.note.replace(f"call {job_id}", "call <job>"),
                    record.phone_e164 is not None,
                )
            return entity_id if kind is None else kind

        per_call = []
        for call in calls:
            transcript = s.scalars(
                select(CallTranscript).where(CallTranscript.job_id == call.job_id)
            ).one()
            actions = s.scalars(
                select(CallAction).where(CallAction.job_id == call.job_id).order_by(CallAction.id)
            )
            contact = s.get(Contact, call.contact_id)
            assert contact is not None
            per_call.append(
                {
                    "transcript": (transcript.turns, transcript.sentiment,
                                   transcript.sentiment_score, transcript.created_at),
                    "actions": [(a.kind, a.detail, a.entity_type,
                                 entity(a.entity_type, a.entity_id, call.job_id), a.at)
                                for a in actions],
                    "produced": s.get(CallJob, call.job_id).produced,  # type: ignore[union-attr]
                    "tags": sorted(t.name for t in contact.tags),
                    "opted_out": (contact.dnd_voice, contact.opted_out_at),
                    "tasks": sorted((t.title, t.body) for t in s.scalars(
                        select(Task).where(Task.contact_id == call.contact_id))),
                    "appointments": [(a.service, a.status) for a in s.scalars(
                        select(Appointment).where(Appointment.contact_id == call.contact_id)
                        .order_by(Appointment.starts_at))],
                }
            )  # fmt: skip
        return {"calls": per_call}


def test_the_bulk_writer_makes_the_rows_of_the_per_call_path(
    container: Container, practice: Practice
) -> None:
    bulk = _side(container, practice, "+1212555020")
    one_by_one = _side(container, practice, "+1212555030")
    # The bulk side goes first, so it creates the tags it applies ("Wrong Number", ...).
    with container.uow() as uow:
        apply_conversations(uow.session, _pairs(bulk))
        uow.commit()
    with container.uow() as uow:
        for call, conversation in _pairs(one_by_one):
            apply_conversation(uow.session, call, conversation)
        uow.commit()

    got, expected = _state(container, bulk), _state(container, one_by_one)
    for mine, theirs in zip(got["calls"], expected["calls"], strict=True):
        assert mine == theirs
    assert got == expected
    first, second = got["calls"][0], got["calls"][1]
    # The earlier appointment first, then the later one; never the past one.
    assert [a[3][0] for a in first["actions"] if a[0] == "appointment_confirmed"] == [
        "Botox in 2 days"
    ]
    assert [a[3][0] for a in second["actions"] if a[0] == "appointment_confirmed"] == [
        "Botox in 3 days"
    ]
    assert [kind for kind, *_rest in second["actions"]] == ["appointment_confirmed"]
    assert first["appointments"][1:] == [
        ("Botox in 2 days", AppointmentStatus.CONFIRMED),
        ("Botox in 3 days", AppointmentStatus.CONFIRMED),
    ]
    assert got["calls"][5]["actions"] == []  # already tagged
    assert got["calls"][6]["opted_out"][0] is True  # the opt-out's own path
    with container.uow() as uow:
        names = list(uow.session.scalars(select(Tag.name).where(Tag.name == NOT_INTERESTED_TAG)))
    assert names == [NOT_INTERESTED_TAG]  # one tag per name, reused


@contextmanager
def _statements(container: Container) -> Iterator[Callable[[], int]]:
    """Count the statements executed (one executemany counts once; on SQLite an INSERT that
    returns ids in order is sent row by row by the driver, still one statement here)."""
    engine = container.session_factory.kw["bind"]
    seen: list[Any] = []

    def count(*args: Any) -> None:
        seen.append(args[1])

    event.listen(engine, "before_execute", count)
    try:
        yield lambda: len(seen)
    finally:
        event.remove(engine, "before_execute", count)


def _count_bulk(container: Container, pairs: Sequence[tuple[FinishedCall, Conversation]]) -> int:
    with container.uow() as uow, _statements(container) as counted:
        apply_conversations(uow.session, pairs)
        uow.session.flush()
        uow.commit()
        return counted()


def test_the_bulk_writer_sends_one_statement_per_kind_of_write(
    container: Container, practice: Practice
) -> None:
    """Twice the calls, the same statements: nothing is written call by call."""
    calls = _side(container, practice, "+1212555040", every_tag=True)
    without_opt_out = [pair for pair in _pairs(calls)
                       if not any(isinstance(e, OptOut) for e in pair[1].events)]  # fmt: skip
    small = _count_bulk(container, without_opt_out[:4])
    more = _pairs(_side(container, practice, "+1212555050", every_tag=True))
    large = _count_bulk(
        container,
        [pair for pair in more if not any(isinstance(e, OptOut) for e in pair[1].events)]
        + without_opt_out[4:],
    )
    assert large == small


def test_an_opt_out_after_the_batch_sees_the_batchs_tag_links(
    container: Container, practice: Practice
) -> None:
    """The batch links tags past the ORM; a contact whose tags the session had loaded before
    must not be linked again by the opt-out's per-call path (a unique-constraint failure that
    would fail the tick's settlement on every retry)."""
    contact_id = practice.add_contact("+12125550603")
    jobs = practice.enqueue(contact_id, contact_id)
    with container.uow() as uow:
        now = uow.clock.now()
    calls = [
        FinishedCall(
            job_id=job_id,
            account_id=practice.account_id,
            location_id=practice.location_id,
            contact_id=contact_id,
            outcome=CallOutcome.CONNECTED,
            answered_at=now,
            ended_at=now + timedelta(seconds=30 + i),
        )
        for i, job_id in enumerate(jobs)
    ]
    not_interested = _conversation("Not interested.", (NotInterested(),))
    opt_out = _conversation(
        "Stop calling.", (OptOut("Stop calling.", "stop_calling"), NotInterested())
    )
    with container.uow() as uow:
        contact = uow.session.get(Contact, contact_id)
        assert contact is not None
        assert list(contact.tags) == []  # loaded before the batch
        apply_conversations(uow.session, [(calls[0], not_interested), (calls[1], opt_out)])
        uow.commit()
    with container.uow() as uow:
        contact = uow.session.get(Contact, contact_id)
        assert contact is not None
        assert NOT_INTERESTED_TAG in {tag.name for tag in contact.tags}
