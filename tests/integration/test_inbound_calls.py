"""A simulated inbound call on the sandbox (services/inbound_sandbox.py), recorded as a call like
an outbound one and applied through the outbound outcomes' code, while everything that counts
outbound calls (the dispatcher's caps and pacing, the outbound dashboard, the minutes ledger)
goes on ignoring it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text, update

from ringfence.adapters.db.calls import CallJob, CallTranscript
from ringfence.adapters.db.orm import Appointment, ConsentRecord, Contact, Task, VoiceAgent
from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.agent.events import ConversationOutcome
from ringfence.agent.policies.base import DialoguePolicy
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import PolicyName
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.dashboard.filters import DashboardFilters
from ringfence.domain.inbound import Refused, RouteRefusal
from ringfence.domain.pacing import DispatchConfig
from ringfence.domain.vocabulary import (
    AppointmentStatus,
    CallDirection,
    CallOutcome,
    CallStatus,
    CallType,
)
from ringfence.services.dashboard.metrics import has_outbound_call
from ringfence.services.dashboard.scope import DashboardScope
from ringfence.services.dashboard.view import DashboardView, dashboard_view
from ringfence.services.dispatch import Dispatcher
from ringfence.services.facts import number_dials
from ringfence.services.inbound_calls import InboundCallResult, NoAgent
from ringfence.services.inbound_sandbox import take_sandbox_call
from ringfence.services.suppression import suppression_of
from tests.integration.dispatch.practice import (
    BEFORE_WINDOW,
    WINDOW_OPENS,
    Practice,
    make_practice,
)

LINE = "+12125550199"  # make_practice's caller ID: the number patients call back
PATIENT = "+12125550100"
FAST = DispatchConfig(carrier_cps=10, carrier_burst=10, max_concurrent_calls=50)


def _scripted(_name: PolicyName) -> DialoguePolicy:
    return ScriptedPolicy()


def _call(
    container: Container, caller: str | None, *said: str, dialed: str = LINE
) -> InboundCallResult | Refused | NoAgent:
    with container.uow() as uow:
        return take_sandbox_call(
            uow, dialed=dialed, caller=caller, utterances=list(said), policy_factory=_scripted
        )


def _count(container: Container, model: type[object]) -> int:
    with container.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_recognised_caller_saying_stop_is_suppressed_practice_wide(
    container: Container, clock: VirtualClock
) -> None:
    clock.set(BEFORE_WINDOW)
    practice = make_practice(container)
    contact_id = practice.add_contact(PATIENT, first_name="Maria")
    [queued] = practice.enqueue(contact_id)

    result = _call(container, PATIENT, "Stop calling me.")
    assert isinstance(result, InboundCallResult)
    assert (result.contact_id, result.recognised) == (contact_id, True)
    assert result.outcome is ConversationOutcome.OPTED_OUT

    job = practice.job(result.job_id)
    assert (job.direction, job.call_type, job.status, job.outcome) == (
        CallDirection.INBOUND,
        CallType.LIVE,
        CallStatus.COMPLETED,
        CallOutcome.CONNECTED,
    )
    assert job.phone_e164 == PATIENT
    assert job.dialed_at is None  # never "dialed": no outbound count can see it
    assert job.duration_seconds is not None
    assert job.duration_seconds > 0
    assert job.produced == ["opted_out"]
    # The outbound call queued to the number is canceled, and the number is suppressed.
    assert practice.job(queued).status is CallStatus.CANCELED
    with container.uow() as uow:
        assert suppression_of(uow.session, practice.account_id, PATIENT) is not None
        contact = uow.session.get(Contact, contact_id)
        assert contact is not None
        assert contact.dnd_voice
        transcript = uow.session.scalars(
            select(CallTranscript).where(CallTranscript.job_id == job.id)
        ).one()
        said = [t["text"] for t in transcript.turns if t["speaker"] == "callee"]
        assert said == ["Stop calling me."]
        assert transcript.sentiment is not None
        # Encrypted at rest, as outbound transcripts are.
        raw = uow.session.execute(
            text("SELECT turns FROM call_transcripts WHERE job_id = :id"), {"id": job.id}
        ).scalar_one()
        assert "Stop calling me" not in str(raw)


def test_a_call_to_a_number_no_practice_owns_is_refused_and_writes_nothing(
    container: Container, clock: VirtualClock
) -> None:
    clock.set(BEFORE_WINDOW)
    make_practice(container)
    jobs, contacts = _count(container, CallJob), _count(container, Contact)
    result = _call(container, PATIENT, "hello", dialed="+13055550111")
    assert isinstance(result, Refused)
    assert result.reason is RouteRefusal.UNKNOWN_NUMBER
    assert (_count(container, CallJob), _count(container, Contact)) == (jobs, contacts)


def test_a_number_two_accounts_registered_is_refused(
    container: Container, clock: VirtualClock
) -> None:
    clock.set(BEFORE_WINDOW)
    make_practice(container)
    make_practice(container)  # another account with the same caller ID
    result = _call(container, PATIENT, "hello")
    assert isinstance(result, Refused)
    assert result.reason is RouteRefusal.SHARED_NUMBER
    assert "more than one practice" in result.explanation
    assert _count(container, CallJob) == 0


def test_an_unknown_caller_is_recorded_against_a_caller_contact_never_dialable(
    container: Container, clock: VirtualClock
) -> None:
    clock.set(BEFORE_WINDOW)
    practice = make_practice(container)
    result = _call(container, "+13055550188", "Can I get a call back tomorrow?")
    assert isinstance(result, InboundCallResult)
    assert not result.recognised
    again = _call(container, "+13055550188", "Can I get a call back on Monday?")
    assert isinstance(again, InboundCallResult)
    assert again.contact_id == result.contact_id  # one caller contact per number
    withheld = _call(container, None, "Can I get a call back on Monday?")
    assert isinstance(withheld, InboundCallResult)
    assert withheld.contact_id != result.contact_id
    with container.uow() as uow:
        caller = uow.session.get(Contact, result.contact_id)
        assert caller is not None
        assert (caller.first_name, caller.phone_e164, caller.location_id) == (
            "Unknown caller",
            "+13055550188",
            practice.location_id,
        )
        consents = uow.session.scalar(
            select(func.count())
            .select_from(ConsentRecord)
            .where(ConsentRecord.contact_id == caller.id)
        )
        assert consents == 0  # no consent: the gate never lets it be dialed
        # Answering calls is not an outbound call: the outbound tab keeps waiting for one.
        assert not has_outbound_call(uow.session, practice.account_id, practice.location_id)
    assert practice.job(withheld.job_id).phone_e164 is None


def _dashboard(container: Container, practice: Practice) -> DashboardView:
    with container.uow() as uow:
        scope = DashboardScope.at(
            practice.account_id, practice.location_id, "America/New_York", uow.clock.now()
        )
        return dashboard_view(uow.session, scope, DashboardFilters())


def test_outbound_dashboard_figures_and_minutes_ignore_inbound_calls(
    container: Container, clock: VirtualClock
) -> None:
    clock.set(BEFORE_WINDOW)
    practice = make_practice(container)
    contact_id = practice.add_contact(PATIENT, first_name="Maria")
    [outbound] = practice.enqueue(contact_id)
    with container.uow() as uow:  # an outbound call placed and answered an hour ago
        at = uow.clock.now() - timedelta(hours=1)
        uow.session.execute(
            update(CallJob)
            .where(CallJob.id == outbound)
            .values(
                status=CallStatus.COMPLETED,
                outcome=CallOutcome.CONNECTED,
                dialed_at=at,
                dialed_local_day=at.date(),
                phone_e164=PATIENT,
                duration_seconds=42,
            )
        )
        uow.commit()
    before = _dashboard(container, practice)
    assert before.tiles.attempted == 1
    assert [row.job_id for row in before.log.rows] == [outbound]

    for said in ("I'd like to move my appointment to Friday.", "Call me back later."):
        assert isinstance(_call(container, PATIENT, said), InboundCallResult)
    assert isinstance(_call(container, "+13055550188", "Hello?"), InboundCallResult)

    after = _dashboard(container, practice)
    assert after.tiles == before.tiles
    assert after.trend == before.trend
    assert after.caller_ids == before.caller_ids
    assert after.minutes == before.minutes
    assert after.log == before.log
    assert after.pre_dial == before.pre_dial
    assert practice.ledger_seconds() == 0  # inbound calls book nothing in the ledger


def test_the_dispatchers_caps_and_pacing_ignore_inbound_calls(
    container: Container, clock: VirtualClock
) -> None:
    clock.set(WINDOW_OPENS - timedelta(minutes=5))
    practice = make_practice(container)
    contact_id = practice.add_contact(PATIENT, first_name="Maria")
    inbound = []
    for _ in range(5):  # more calls from the number than any per-number cap allows dials
        result = _call(container, PATIENT, "What are your hours?")
        assert isinstance(result, InboundCallResult)
        inbound.append(result.job_id)
    with container.uow() as uow:
        # Even stamped with a time (as a carrier might), an inbound call is not a dial to them.
        uow.session.execute(
            update(CallJob).where(CallJob.id.in_(inbound)).values(dialed_at=uow.clock.now())
        )
        uow.commit()
        dials = number_dials(uow.session, [(practice.account_id, PATIENT)], uow.clock.now())
    assert dials == {(practice.account_id, PATIENT): []}

    [job_id] = practice.enqueue(contact_id)
    clock.set(WINDOW_OPENS)
    worker = Dispatcher(
        session_factory=container.session_factory,
        carrier=SandboxCarrier(container.session_factory, clock),
        clock=clock,
        config=FAST,
    )
    assert worker.tick().dialed == 1  # no pacing slot or cap was taken by the inbound calls
    job = practice.job(job_id)
    assert job.direction is CallDirection.OUTBOUND
    assert job.dialed_at == WINDOW_OPENS


def _dialed_earlier(container: Container, job_id: int, *, hours_ago: int) -> None:
    with container.uow() as uow:
        at = uow.clock.now() - timedelta(hours=hours_ago)
        uow.session.execute(
            update(CallJob)
            .where(CallJob.id == job_id)
            .values(
                status=CallStatus.COMPLETED,
                outcome=CallOutcome.VOICEMAIL,
                dialed_at=at,
                phone_e164=PATIENT,
            )
        )
        uow.commit()


def _tasks(container: Container, contact_id: int) -> list[tuple[str, str]]:
    with container.uow() as uow:
        rows = uow.session.execute(
            select(Task.title, Task.body).where(Task.contact_id == contact_id).order_by(Task.id)
        )
        return [(title, body) for title, body in rows]


def test_a_patient_returning_our_voicemail_hears_why_only_once_confirmed_and_moves_the_visit(
    container: Container, clock: VirtualClock
) -> None:
    practice = make_practice(container)
    patient = practice.add_contact(PATIENT, first_name="Maria")
    with container.uow() as uow:
        now = uow.clock.now()
        uow.session.add(
            Appointment(
                account_id=practice.account_id,
                location_id=practice.location_id,
                contact_id=patient,
                starts_at=now + timedelta(days=2),
                service="Botox touch-up",
                status=AppointmentStatus.SCHEDULED,
                created_at=now,
                updated_at=now,
            )
        )
        uow.commit()
    [job] = practice.enqueue(patient)
    _dialed_earlier(container, job, hours_ago=3)  # we left a voicemail this morning

    result = _call(
        container, PATIENT, "Hi, I missed a call from this number.", "Yes, this is Maria.",
        "Can I move it to Friday?",
    )  # fmt: skip
    assert isinstance(result, InboundCallResult)
    lines = [line.text for line in result.transcript]
    agent = lines[0::2]
    # Before Maria says it is her: the voicemail's courtesy wording, and no service or time.
    assert "Glow called this number with a courtesy message." in agent[1]
    assert "Botox" not in " ".join(agent[:2])
    assert agent[1].endswith("Am I speaking with Maria?")
    # After: why we called, then her appointment, then her request is taken down.
    assert "to confirm your upcoming appointment" in agent[2]
    assert "Botox touch-up" in agent[2]
    assert result.contact_id == patient
    assert result.outcome is ConversationOutcome.RESCHEDULE_REQUESTED
    assert ("Reschedule appointment", "Proposed time: Friday") in _tasks(container, patient)


def test_a_stranger_leaves_their_name_and_reason_as_a_task_and_hears_the_hours(
    container: Container, clock: VirtualClock
) -> None:
    practice = make_practice(container)
    with container.uow() as uow:
        agent = uow.session.scalars(select(VoiceAgent)).one()
        agent.staff_hours = {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
        uow.commit()

    hours = _call(container, "+13055550188", "What time do you close?")
    assert isinstance(hours, InboundCallResult)
    assert "We're open Monday to Friday, 9 AM to 6 PM." in hours.transcript[2].text

    result = _call(
        container, "+13055550188", "I'd like to book a consultation for my sister.",
        "It's Dana Reyes.",
    )  # fmt: skip
    assert isinstance(result, InboundCallResult)
    assert result.recognised is False
    tasks = _tasks(container, result.contact_id)
    assert len(tasks) == 1
    title, body = tasks[0]
    assert title == "Call back a caller"
    assert "Dana Reyes" in body
    assert practice.account_id  # the practice exists; the stranger is no contact of it


def test_someone_else_on_a_patients_phone_is_filed_as_an_unknown_caller(
    container: Container, clock: VirtualClock
) -> None:
    """Review finding: a caller who says they are not the patient leaves a message; the call,
    its transcript and the message are not filed in the patient's record."""
    practice = make_practice(container)
    patient = practice.add_contact(PATIENT, first_name="Maria")
    result = _call(
        container, PATIENT, "When is my appointment?", "No, this is her husband.",
        "It's Tom, I want to move her facial.",
    )  # fmt: skip
    assert isinstance(result, InboundCallResult)
    assert result.contact_id != patient
    assert result.recognised is False
    assert _tasks(container, patient) == []
    [(title, body)] = _tasks(container, result.contact_id)
    assert title == "Call back a caller"
    assert "Tom" in body
