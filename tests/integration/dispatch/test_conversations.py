"""Sandbox calls held by the agent: transcripts, sentiment, and the outcomes applied."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ringfence.adapters.db.calls import CallAction, CallTranscript
from ringfence.adapters.db.orm import (
    Appointment,
    ConsentRecord,
    Contact,
    Location,
    NumberSuppression,
    Task,
    VoiceAgent,
)
from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.compliance import Rule
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.staff_hours import DAYS
from ringfence.domain.vocabulary import (
    AppointmentStatus,
    CallOutcome,
    CallPurpose,
    CallStatus,
    Channel,
    ConsentKind,
    ContactSource,
    TaskPriority,
)
from ringfence.services.call_jobs import CallRequest, enqueue_calls
from ringfence.services.dispatch import (
    Dispatcher,
)
from ringfence.services.eligibility import call_eligibility
from tests.integration.dispatch.practice import WINDOW_OPENS, Practice, make_practice


@pytest.fixture
def practice(container: Container, clock: VirtualClock) -> Practice:
    clock.set(WINDOW_OPENS - timedelta(days=1))
    return make_practice(container)


def _book(practice: Practice, contact_id: int, days: int = 1) -> int:
    with practice.container.uow() as uow:
        now = uow.clock.now()
        appointment = Appointment(
            account_id=practice.account_id,
            location_id=practice.location_id,
            contact_id=contact_id,
            starts_at=WINDOW_OPENS + timedelta(days=days, hours=4),
            service="Botox touch-up",
            status=AppointmentStatus.SCHEDULED,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(appointment)
        uow.session.flush()
        appointment_id = appointment.id
        uow.commit()
    return appointment_id


def _run(container: Container, clock: VirtualClock, minutes: int = 12) -> None:
    dispatcher = Dispatcher(
        session_factory=container.session_factory,
        carrier=SandboxCarrier(container.session_factory, clock),
        clock=clock,
        config=DispatchConfig(carrier_cps=5, carrier_burst=5),
    )
    clock.set(WINDOW_OPENS)
    for _ in range(minutes):
        dispatcher.tick()
        clock.advance(timedelta(minutes=1))


def _transcript(container: Container, job_id: int) -> CallTranscript:
    with container.uow() as uow:
        row = uow.session.scalars(
            select(CallTranscript).where(CallTranscript.job_id == job_id)
        ).one()
        uow.session.expunge(row)
        return row


def _actions(container: Container, job_id: int) -> list[str]:
    with container.uow() as uow:
        return list(uow.session.scalars(select(CallAction.kind).where(CallAction.job_id == job_id)))


def test_a_confirming_patient_confirms_the_appointment(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    contact = practice.add_contact("+12125550110", first_name="Jane")  # persona: confirms
    appointment_id = _book(practice, contact)
    [job_id] = practice.enqueue(contact)
    _run(container, clock)

    job = practice.job(job_id)
    assert (job.status, job.outcome) == (CallStatus.COMPLETED, CallOutcome.CONNECTED)
    assert job.agent_session is not None
    assert job.agent_session["context"]["appointment_service"] == "Botox touch-up"
    transcript = _transcript(container, job_id)
    first = transcript.turns[0]
    assert first["speaker"] == "agent"
    assert "Glow" in first["text"].split(".")[0]  # the practice, in the first sentence
    assert any(t["speaker"] == "callee" for t in transcript.turns)
    # The call lasted as long as its conversation (ring time + the talk).
    assert job.billable_seconds == pytest.approx(transcript.turns[-1]["end"], abs=2)
    assert transcript.sentiment in ("positive", "neutral")
    with container.uow() as uow:
        appointment = uow.session.get(Appointment, appointment_id)
        assert appointment is not None
        assert appointment.status is AppointmentStatus.CONFIRMED
    assert "appointment_confirmed" in _actions(container, job_id)


def test_stop_calling_me_opts_out_on_the_spot(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    contact = practice.add_contact("+12125550116", first_name="Sam")  # persona: says_stop
    _book(practice, contact)
    [job_id, second] = practice.enqueue(contact, contact)
    _run(container, clock)

    assert practice.job(job_id).outcome is CallOutcome.CONNECTED
    assert practice.job(second).status is CallStatus.CANCELED
    assert practice.job(second).reason_code == "opted_out"
    kinds = _actions(container, job_id)
    assert {"opt_out_applied", "tag_applied", "calls_canceled"} <= set(kinds)
    with container.uow() as uow:
        row = uow.session.get(Contact, contact)
        assert row is not None
        assert row.dnd_voice is True
        assert row.opted_out_at is not None
        assert "Opted Out" in {t.name for t in row.tags}
        revocations = uow.session.scalars(
            select(ConsentRecord).where(
                ConsentRecord.contact_id == contact, ConsentRecord.kind == ConsentKind.REVOCATION
            )
        ).all()
        assert len(revocations) == 1
        assert "stop" in (revocations[0].note or "").lower()
        verdict = call_eligibility(
            uow.session,
            row,
            purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
            now=WINDOW_OPENS + timedelta(days=2),
        ).verdict
    assert verdict.status == "failed"


def test_voicemail_says_no_more_than_practice_number_and_reason(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    contact = practice.add_contact("+12125550101", first_name="Ana")  # voicemail box
    _book(practice, contact)
    [job_id] = practice.enqueue(contact)
    _run(container, clock)

    assert practice.job(job_id).outcome is CallOutcome.VOICEMAIL
    transcript = _transcript(container, job_id)
    said = " ".join(t["text"] for t in transcript.turns)
    assert "Glow" in said
    assert "Botox" not in said
    assert "Ana" not in said
    assert "opt out" in said.lower()
    assert transcript.sentiment is None  # voicemail is excluded from sentiment


def test_a_clinical_question_becomes_a_staff_task(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    contact = practice.add_contact("+12125550113", first_name="Lee")  # persona: clinical_question
    _book(practice, contact)
    [job_id] = practice.enqueue(contact)
    _run(container, clock)

    with container.uow() as uow:
        priorities = set(
            uow.session.scalars(select(Task.priority).where(Task.contact_id == contact))
        )
    assert priorities
    assert priorities <= {TaskPriority.NORMAL, TaskPriority.URGENT}
    assert "task_created" in _actions(container, job_id)
    said_by_agent = " ".join(
        t["text"] for t in _transcript(container, job_id).turns if t["speaker"] == "agent"
    )
    assert "team" in said_by_agent.lower()  # deferred to staff, not answered


@pytest.mark.parametrize("staff_in", [True, False], ids=["office_open", "no_staff_line"])
def test_a_request_for_a_person_is_transferred_while_staff_are_in(
    container: Container, clock: VirtualClock, practice: Practice, staff_in: bool
) -> None:
    if staff_in:
        with container.uow() as uow:
            agent = uow.session.get(VoiceAgent, practice.agent_id)
            assert agent is not None
            agent.transfer_number = "+12125550142"
            agent.staff_hours = {day: ["08:00-20:00"] for day in DAYS}
            uow.commit()
    contact = practice.add_contact("+12125550118", first_name="Kim")  # persona: asks_for_person
    _book(practice, contact)
    [job_id] = practice.enqueue(contact)
    _run(container, clock)

    job = practice.job(job_id)
    assert job.agent_session is not None
    staff = job.agent_session["context"]["staff"]
    said_by_agent = " ".join(
        t["text"] for t in _transcript(container, job_id).turns if t["speaker"] == "agent"
    )
    with container.uow() as uow:
        tasks = list(uow.session.scalars(select(Task.title).where(Task.contact_id == contact)))
    if staff_in:
        assert staff == {"transfer_to": "+12125550142", "call_back_when": "today"}
        assert "transferring you" in said_by_agent
        assert "call_transferred" in _actions(container, job_id)
        assert tasks == []
    else:
        assert staff == {"transfer_to": None, "call_back_when": "during business hours"}
        assert "call you back during business hours" in said_by_agent
        assert "call_transferred" not in _actions(container, job_id)
        assert tasks == ["Follow up: human requested"]


def test_stop_calling_me_suppresses_the_number_at_every_location_of_the_practice(
    container: Container, clock: VirtualClock, practice: Practice
) -> None:
    """The same number saved as another contact at another location of the practice is the
    same person: the opt-out heard on one call cancels that contact's calls too, and the gate
    refuses it (consent and opt-outs belong to the number, not to a contact row)."""
    contact = practice.add_contact("+12125550116", first_name="Sam")  # persona: says_stop
    _book(practice, contact)
    with container.uow() as uow:
        now = uow.clock.now()
        uptown = Location(
            account_id=practice.account_id,
            name="Uptown",
            time_zone="America/New_York",
            created_at=now,
            updated_at=now,
        )
        uow.session.add(uptown)
        uow.session.flush()
        twin = Contact(
            account_id=practice.account_id,
            location_id=uptown.id,
            first_name="Samantha",
            phone_e164="+12125550116",
            source=ContactSource.IMPORT,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(twin)
        uow.session.flush()
        uow.session.add(
            ConsentRecord(
                account_id=practice.account_id,
                location_id=uptown.id,
                contact_id=twin.id,
                kind=ConsentKind.MANUAL_WRITTEN,
                channel=Channel.VOICE,
                recorded_at=now,
                recorded_by="test",
                confirmed_by="Dana",
                phone_e164="+12125550116",
            )
        )
        twin_id = twin.id
        [twin_job] = enqueue_calls(
            uow.session,
            account_id=practice.account_id,
            requests=[
                CallRequest(
                    contact_id=twin_id,
                    purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
                    not_before=WINDOW_OPENS + timedelta(days=1),
                )
            ],
            now=now,
        )
        uow.commit()
    [job_id] = practice.enqueue(contact)
    _run(container, clock)

    assert practice.job(job_id).outcome is CallOutcome.CONNECTED
    assert practice.job(twin_job).status is CallStatus.CANCELED
    with container.uow() as uow:
        row = uow.session.get(Contact, twin_id)
        assert row is not None
        assert row.dnd_voice is False  # the other contact's own flags are untouched...
        assert "Opted Out" in {t.name for t in row.tags}  # ...but the number is suppressed
        entry = uow.session.scalars(select(NumberSuppression)).one()
        assert (entry.phone_e164, entry.source) == ("+12125550116", "call_opt_out")
        evaluation = call_eligibility(
            uow.session,
            row,
            purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
            now=WINDOW_OPENS + timedelta(days=2),
        )
    # The revocation heard on the call was recorded for the number, and the number suppressed.
    assert evaluation.verdict.status == "failed"
    assert evaluation.verdict.reason == "consent_revoked"
    assert evaluation.check(Rule.OPT_OUT).reason == "number_suppressed"
