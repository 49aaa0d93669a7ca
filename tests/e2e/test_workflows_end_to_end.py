"""Workflows end to end over HTTP: an appointment booked through the API, a published
confirmation workflow, the runner and the dispatcher on a virtual clock, the sandbox call and
the branch actions after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from tests.conftest import Tenant
from tests.e2e.workflow_practice import (
    CONFIRMED_BRANCH_TAG,
    OPT_OUT_BRANCH_NOTE,
    WorkflowPractice,
    confirmation_definition,
)

NEW_YORK = ZoneInfo("America/New_York")
# Friday 27 Nov 2026, 13:00 in New York.
FRIDAY_1PM = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
# Sunday 29 Nov 2026, 14:00 in New York: 24-48 h before is Fri 14:00 - Sat 14:00 local.
SUNDAY_2PM = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)


@pytest.fixture
def wp(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> WorkflowPractice:
    clock.set(FRIDAY_1PM)
    return WorkflowPractice(client, container, clock, tenant)


def test_confirmation_call_happens_once_24_to_48_h_before_and_runs_the_confirmed_branch(
    wp: WorkflowPractice,
) -> None:
    wp.workflow(confirmation_definition(wp.agent_id, wp.number_id))
    contact = wp.practice.add_contact("+12125550110", first_name="Jane")  # persona: confirms
    appointment = wp.appointment(contact, SUNDAY_2PM)

    wp.run_until(FRIDAY_1PM + timedelta(hours=3))

    [job] = wp.jobs(contact)
    assert job.dialed_at is not None
    assert SUNDAY_2PM - timedelta(hours=48) <= job.dialed_at < SUNDAY_2PM - timedelta(hours=24)
    local = job.dialed_at.astimezone(NEW_YORK)
    assert 10 <= local.hour < 18
    assert (job.status.value, job.outcome and job.outcome.value) == ("completed", "connected")
    assert job.call_type.value == "live"
    assert job.action_name == "Call patient to confirm Botox appointment"
    assert job.deadline_at == SUNDAY_2PM - timedelta(hours=24)

    tags = wp.get(f"/contacts/{contact}")["tags"]
    assert CONFIRMED_BRANCH_TAG in tags  # the branch's action
    assert "Appointment Confirmed" in tags  # the call's own outcome
    assert wp.get(f"/appointments/{appointment}")["status"] == "confirmed"
    assert ("tag_applied", CONFIRMED_BRANCH_TAG) in wp.call_actions(job.id)

    [enrollment] = wp.get(f"/workflows/{job.workflow_id}/enrollments")["items"]
    assert enrollment["state"] == "completed"
    detail = wp.get(f"/workflow-enrollments/{enrollment['id']}")
    results = [(s["step_type"], s["result"]) for s in detail["steps"]]
    assert ("voice_ai_call", "done") in results
    assert ("branch", "done") in results

    # Days later, nothing else dials: once per trigger event.
    wp.run_until(SUNDAY_2PM, step=timedelta(hours=1))
    assert len(wp.jobs(contact)) == 1


def test_opt_out_on_the_call_sets_dnd_tags_and_cancels_every_pending_call(
    wp: WorkflowPractice,
) -> None:
    wp.workflow(confirmation_definition(wp.agent_id, wp.number_id))
    contact = wp.practice.add_contact("+12125550116", first_name="Sam")  # persona: says stop
    wp.appointment(contact, SUNDAY_2PM)
    # A second appointment next week (its own enrollment, still waiting) and a call queued
    # by another path for next week.
    wp.appointment(contact, SUNDAY_2PM + timedelta(days=7))
    [other_job] = wp.practice.enqueue(contact)
    with wp.container.uow() as uow:
        from ringfence.adapters.db.calls import CallJob

        row = uow.session.get(CallJob, other_job)
        assert row is not None
        row.next_attempt_at = SUNDAY_2PM + timedelta(days=5)
        uow.commit()

    wp.run_until(FRIDAY_1PM + timedelta(hours=3))

    jobs = {job.id: job for job in wp.jobs(contact)}
    called = [job for job in jobs.values() if job.dialed_at is not None]
    assert len(called) == 1
    assert called[0].produced == ["opted_out"]
    assert jobs[other_job].status.value == "canceled"
    contact_out = wp.get(f"/contacts/{contact}")
    assert contact_out["dnd_voice"] is True
    assert contact_out["opted_out_at"] is not None
    assert "Opted Out" in contact_out["tags"]
    enrollments = wp.get(f"/workflows/{called[0].workflow_id}/enrollments")["items"]
    states = sorted((e["appointment_id"] is not None, e["state"]) for e in enrollments)
    assert [s for _, s in states] == ["completed", "exited"]
    exited = next(e for e in enrollments if e["state"] == "exited")
    assert exited["exit_reason"] == "the contact opted out"
    notes = wp.get(f"/notes?contact_id={contact}")["items"]
    assert any(n["body"] == OPT_OUT_BRANCH_NOTE for n in notes)

    # Nothing ever dials this contact again.
    wp.run_until(SUNDAY_2PM + timedelta(days=7), step=timedelta(hours=2))
    assert len([j for j in wp.jobs(contact) if j.dialed_at is not None]) == 1


def test_draft_workflows_never_enroll_or_dial(wp: WorkflowPractice) -> None:
    workflow_id = wp.workflow(confirmation_definition(wp.agent_id, wp.number_id), publish=False)
    contact = wp.practice.add_contact("+12125550110")
    wp.appointment(contact, SUNDAY_2PM)
    wp.run_until(FRIDAY_1PM + timedelta(hours=6), step=timedelta(minutes=10))
    assert wp.jobs() == []
    assert wp.get(f"/workflows/{workflow_id}/enrollments")["items"] == []


def test_appointment_booked_less_than_24_h_ahead_is_not_called(wp: WorkflowPractice) -> None:
    workflow_id = wp.workflow(confirmation_definition(wp.agent_id, wp.number_id))
    contact = wp.practice.add_contact("+12125550110")
    wp.appointment(contact, FRIDAY_1PM + timedelta(hours=20))
    wp.run_until(FRIDAY_1PM + timedelta(hours=2), step=timedelta(minutes=10))
    assert wp.jobs() == []
    [enrollment] = wp.get(f"/workflows/{workflow_id}/enrollments")["items"]
    assert enrollment["state"] == "exited"
    assert "short-notice rule" in enrollment["exit_reason"]


def test_rescheduling_restarts_the_confirmation_for_the_new_time(wp: WorkflowPractice) -> None:
    wp.workflow(confirmation_definition(wp.agent_id, wp.number_id))
    contact = wp.practice.add_contact("+12125550110")
    appointment = wp.appointment(contact, SUNDAY_2PM)
    wp.tick()
    moved = SUNDAY_2PM + timedelta(days=2)  # Tuesday: call Sun 14:00 - Mon 14:00 local
    wp.patch(f"/appointments/{appointment}", {"starts_at": moved.isoformat()})
    wp.run_until(FRIDAY_1PM + timedelta(hours=6), step=timedelta(minutes=10))
    assert wp.jobs() == []  # the Friday call for Sunday's time is gone
    wp.run_until(moved - timedelta(hours=24), step=timedelta(minutes=5))
    [job] = wp.jobs(contact)
    assert job.dialed_at is not None
    assert moved - timedelta(hours=48) <= job.dialed_at < moved - timedelta(hours=24)


def test_canceling_the_appointment_cancels_its_queued_confirmation_call(
    wp: WorkflowPractice,
) -> None:
    wp.workflow(confirmation_definition(wp.agent_id, wp.number_id))
    contact = wp.practice.add_contact("+12125550110")
    # Booked Friday 13:00 local for Sunday morning: the call is due at once, but the first
    # tick is after 18:00 local, so it is deferred to Saturday 10:00.
    appointment = wp.appointment(contact, SUNDAY_2PM)
    wp.clock.set(datetime(2026, 11, 28, 0, 0, tzinfo=UTC))
    wp.tick()
    [job] = wp.jobs(contact)
    assert job.status.value in ("queued", "deferred")
    wp.patch(f"/appointments/{appointment}", {"status": "canceled"})
    [job] = wp.jobs(contact)
    assert (job.status.value, job.reason_code) == ("canceled", "workflow_exit")
    wp.run_until(datetime(2026, 11, 28, 18, 0, tzinfo=UTC), step=timedelta(minutes=30))
    assert [j.dialed_at for j in wp.jobs(contact)] == [None]


def test_unpublishing_cancels_queued_and_deferred_calls(wp: WorkflowPractice) -> None:
    workflow_id = wp.workflow(confirmation_definition(wp.agent_id, wp.number_id))
    contact = wp.practice.add_contact("+12125550110")
    wp.appointment(contact, SUNDAY_2PM)
    wp.clock.set(datetime(2026, 11, 28, 0, 0, tzinfo=UTC))  # after hours: deferred
    wp.tick()
    [job] = wp.jobs(contact)
    assert job.status.value in ("queued", "deferred")
    result = wp.post(f"/workflows/{workflow_id}/unpublish", status=200)
    assert result == {"status": "draft", "calls_canceled": 1}
    [job] = wp.jobs(contact)
    assert job.status.value == "canceled"
    [enrollment] = wp.get(f"/workflows/{workflow_id}/enrollments")["items"]
    assert (enrollment["state"], enrollment["exit_reason"]) == (
        "exited",
        "the workflow was unpublished",
    )


def test_test_mode_enrolls_only_the_qa_tag_and_places_test_calls(wp: WorkflowPractice) -> None:
    definition = confirmation_definition(wp.agent_id, wp.number_id)
    definition["test_mode"] = True
    workflow_id = wp.workflow(definition)  # publishing creates the QA tag
    tester = wp.practice.add_contact("+12125550110", first_name="Quinn")
    wp.patch(f"/contacts/{tester}", {"tags": ["QA – Voice AI Test"]})
    patient = wp.practice.add_contact("+12125550120", first_name="Pat")
    wp.appointment(tester, SUNDAY_2PM)
    wp.appointment(patient, SUNDAY_2PM)
    wp.run_until(FRIDAY_1PM + timedelta(hours=2))
    [job] = wp.jobs()
    assert (job.contact_id, job.call_type.value) == (tester, "test")
    enrollments = wp.get(f"/workflows/{workflow_id}/enrollments")["items"]
    assert [e["contact_id"] for e in enrollments] == [tester]
