"""The forecast's shell against the database: when each contact reaches the call step (waits,
appointments, treatments), who never does, the 14-day limit across workflows, and a workflow
without a call step. (tests/e2e/test_workflow_forecast.py checks it against a real run.)"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.orm import Appointment
from ringfence.adapters.db.workflows import Workflow
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.compliance import ReasonCode
from ringfence.domain.vocabulary import AppointmentStatus, CallPurpose, CallStatus, CallType
from ringfence.domain.workflows.forecast import Cadence
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows.forecast import WorkflowForecast, forecast_workflow
from ringfence.services.workflows.manage import create_workflow
from tests.integration.dispatch.practice import Practice, make_practice

# Monday 30 November 2026, 10:00 in New York.
T0 = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
CADENCE = Cadence(tick=timedelta(seconds=1))


@pytest.fixture
def practice(container: Container, clock: VirtualClock) -> Practice:
    clock.set(T0 - timedelta(days=30))
    made = make_practice(container)
    clock.set(T0)
    return made


def _call(p: Practice, purpose: str = "appointment_confirmation") -> dict[str, Any]:
    return {
        "type": "voice_ai_call",
        "action_name": "Call",
        "agent_id": p.agent_id,
        "from_number_id": p.number_id,
        "purpose": purpose,
    }


def _forecast(p: Practice, definition: dict[str, Any]) -> WorkflowForecast:
    with p.container.uow() as uow:
        scope = TenantScope(account_id=p.account_id, actor="test")
        workflow = create_workflow(
            uow.session,
            scope,
            name="W",
            location_id=p.location_id,
            definition=definition,
            now=T0,
        )
        uow.commit()
        found = uow.session.get(Workflow, workflow.id)
        assert found is not None
        return forecast_workflow(uow.session, found, now=T0, cadence=CADENCE)


def _appointment(
    p: Practice, contact_id: int, starts_at: datetime, status: AppointmentStatus, service: str
) -> None:
    with p.container.uow() as uow:
        uow.session.add(
            Appointment(
                account_id=p.account_id,
                location_id=p.location_id,
                contact_id=contact_id,
                starts_at=starts_at,
                service=service,
                status=status,
                created_at=T0,
                updated_at=T0,
            )
        )
        uow.commit()


def _dials_by_contact(found: WorkflowForecast) -> dict[int, datetime | None]:
    return {found.contacts[c.key]: c.dialed_at for c in found.result.calls}


def test_a_workflow_without_a_call_step_forecasts_no_calls(practice: Practice) -> None:
    practice.add_contact("+12125550120")
    found = _forecast(
        practice,
        {
            "trigger": {"kind": "custom", "event_name": "x"},
            "steps": [{"type": "add_tag", "tag": "T"}],
        },
    )
    assert (found.audience, found.calls, found.call_step, found.purpose) == (1, 0, None, None)
    assert (found.result.called, found.result.schedule, found.fourteen_day_limit) == (0, (), 0)


def test_duration_waits_add_up(practice: Practice) -> None:
    contact = practice.add_contact("+12125550120")
    found = _forecast(
        practice,
        {
            "trigger": {"kind": "custom", "event_name": "x"},
            "steps": [
                {"type": "wait", "minutes": 60 * 24},
                {"type": "add_tag", "tag": "Waited"},
                {"type": "wait", "minutes": 60 * 24 + 30},
                _call(practice, "consult_follow_up"),
            ],
        },
    )
    assert found.call_step == "Voice AI Outbound Call: Call"
    assert _dials_by_contact(found) == {contact: T0 + timedelta(days=2, minutes=30)}
    assert found.result.schedule == ((date(2026, 12, 2), 1),)


def test_appointment_waits_use_the_next_appointment_and_its_deadline(practice: Practice) -> None:
    thursday_2pm = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)  # 14:00 in New York
    booked = practice.add_contact("+12125550120")
    _appointment(practice, booked, thursday_2pm, AppointmentStatus.CONFIRMED, "Botox")
    _appointment(
        practice, booked, thursday_2pm + timedelta(days=7), AppointmentStatus.SCHEDULED, ""
    )
    soon = practice.add_contact("+12125550130")
    _appointment(practice, soon, T0 + timedelta(hours=20), AppointmentStatus.SCHEDULED, "Botox")
    practice.add_contact("+12125550140")  # no appointment
    canceled = practice.add_contact("+12125550150")
    _appointment(practice, canceled, thursday_2pm, AppointmentStatus.CANCELED, "Botox")
    found = _forecast(
        practice,
        {
            "trigger": {"kind": "appointment_scheduled"},
            "steps": [{"type": "wait", "until": "before_appointment"}, _call(practice)],
        },
    )
    assert (found.audience, found.calls) == (4, 1)
    # 48 hours before: Tuesday 14:00 New York, inside the window.
    assert _dials_by_contact(found) == {booked: thursday_2pm - timedelta(hours=48)}
    assert found.not_reached == {
        "the appointment is less than 24 h away (short-notice rule: skip the call)": 1,
        "no appointment to time the wait from": 2,
    }


def test_an_appointment_wait_whose_window_never_opens_in_time_fails_on_the_deadline(
    practice: Practice,
) -> None:
    # Tuesday 17:00Z: the call is due at once (48 h before is already past) and must dial
    # before Monday 17:00Z, but this Los Angeles number's window only opens at 18:00Z.
    late = practice.add_contact("+13105550120")
    tuesday = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    _appointment(practice, late, tuesday, AppointmentStatus.SCHEDULED, "Botox")
    found = _forecast(
        practice,
        {
            "trigger": {"kind": "appointment_scheduled"},
            "steps": [{"type": "wait", "until": "before_appointment"}, _call(practice)],
        },
    )
    assert dict(found.result.failed) == {ReasonCode.DEADLINE_PASSED: 1}
    assert found.result.called == 0


def test_treatment_reminders_time_from_the_last_matching_treatment(practice: Practice) -> None:
    botox = practice.add_contact("+12125550120")
    _appointment(practice, botox, T0 - timedelta(days=85), AppointmentStatus.COMPLETED, "Botox")
    _appointment(practice, botox, T0 - timedelta(days=200), AppointmentStatus.COMPLETED, "BOTOX")
    _appointment(practice, botox, T0 - timedelta(days=10), AppointmentStatus.COMPLETED, "Facial")
    facial_only = practice.add_contact("+12125550130")
    _appointment(practice, facial_only, T0, AppointmentStatus.COMPLETED, "Facial")
    found = _forecast(
        practice,
        {
            "trigger": {"kind": "custom", "event_name": "x"},
            "steps": [
                {
                    "type": "wait",
                    "until": "after_last_treatment",
                    "days": 90,
                    "service_contains": "botox",
                },
                _call(practice, "treatment_reminder"),
            ],
        },
    )
    assert _dials_by_contact(found) == {botox: T0 + timedelta(days=5)}
    assert found.not_reached == {
        "no completed treatment matching 'botox' to time the reminder from": 1
    }


def test_the_fourteen_day_limit_counts_dials_and_calls_queued_by_any_workflow(
    practice: Practice,
) -> None:
    fresh = practice.add_contact("+12125550120")
    dialed = practice.add_contact("+12125550130")
    queued = practice.add_contact("+12125550140")
    with practice.container.uow() as uow:
        for days in (1, 4, 8):  # 3 dials in the last 14 days
            uow.session.add(
                CallJob(
                    account_id=practice.account_id,
                    location_id=practice.location_id,
                    contact_id=dialed,
                    purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
                    call_type=CallType.LIVE,
                    status=CallStatus.COMPLETED,
                    phone_e164="+12125550130",
                    dialed_at=T0 - timedelta(days=days),
                    created_at=T0,
                    updated_at=T0,
                )
            )
        uow.commit()
    practice.enqueue(queued, queued, queued, queued)  # four calls waiting from elsewhere
    found = _forecast(
        practice,
        {"trigger": {"kind": "custom", "event_name": "x"}, "steps": [_call(practice)]},
    )
    # fresh: 0 dials + 0 queued + this call; dialed: 3 + 0 + 1 = 4, at the limit but not past
    # it; queued: 0 + 4 + 1 = 5.
    assert found.fourteen_day_limit == 1
    assert found.competing_jobs == 4
    # The simulation agrees: the queued calls dial first, one a day (the first at t0; the
    # other three take the whole tick of the next slot to defer), then this workflow's call
    # to that number fails.
    by_contact = _dials_by_contact(found)
    assert by_contact[fresh] == T0 + timedelta(minutes=1, seconds=1)
    assert by_contact[dialed] == T0 + timedelta(minutes=2, seconds=1)
    assert by_contact[queued] is None
    assert dict(found.result.failed) == {ReasonCode.FOURTEEN_DAY_CAP: 1}
    assert dict(found.result.deferred) == {ReasonCode.NUMBER_DAILY_CAP: 1}
    assert found.result.competing_dials == 4
