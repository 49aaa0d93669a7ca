"""The demo's month of history is lived, not written: the calls in it pass the same independent
audit as the simulation's, and they are what the product's own paths made of the bookings."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from ringfence.adapters.db import orm
from ringfence.adapters.db.calls import CallJob, CallTranscript
from ringfence.adapters.db.workflows import Enrollment, Workflow
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import AppointmentStatus, CallDirection, CallStatus
from ringfence.services.demo_history import set_up_demo_with_history
from ringfence.services.facts import aware
from ringfence.simulation.audit import audit_dials
from ringfence.simulation.callog import audited_contacts, audited_locations, carrier_dials
from tests.conftest import Tenant

DAYS = 6


def test_a_lived_week_passes_the_audit_and_fills_the_dashboard(
    container: Container, clock: VirtualClock
) -> None:
    now = clock.now()
    seen: list[float] = []
    result, history = set_up_demo_with_history(
        container.session_factory, now=now, days=DAYS, progress=seen.append
    )
    assert result.created
    assert history is not None
    assert seen
    assert seen == sorted(seen)
    assert seen[-1] <= 1.0

    with container.session_factory() as session:
        dials = carrier_dials(session)
        report = audit_dials(dials, audited_contacts(session), audited_locations(session))
        jobs = session.scalars(select(CallJob).where(CallJob.account_id == result.account_id)).all()
        outcomes = Counter(job.outcome.value for job in jobs if job.outcome is not None)
        transcripts = session.scalar(select(func.count()).select_from(CallTranscript))
        statuses = Counter(
            session.scalars(
                select(orm.Appointment.status).where(
                    orm.Appointment.account_id == result.account_id
                )
            )
        )
        no_show_enrollments = session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .join(Workflow, Workflow.id == Enrollment.workflow_id)
            .where(Workflow.name.like("%o-show%"), Enrollment.created_at >= now - timedelta(DAYS))
        )
        key_made = session.scalar(
            select(orm.ApiKey.created_at).where(
                orm.ApiKey.account_id == result.account_id, orm.ApiKey.revoked_at.is_(None)
            )
        )

    # Every dial the carrier placed: inside its window, with consent, not suppressed, paced.
    assert len(dials) == history.calls > 10
    assert report.violations == (), report.violations[:3]
    # The days produced what a practice's days do, through the workflows and the agent.
    assert history.bookings > 10
    assert history.kept > 0
    assert history.missed > 0
    assert outcomes["connected"] > 0, outcomes
    assert len(outcomes) >= 3, outcomes
    assert transcripts
    assert transcripts >= outcomes["connected"]
    assert statuses[AppointmentStatus.COMPLETED] >= history.kept
    assert statuses[AppointmentStatus.SCHEDULED] > 0  # the days ahead have bookings too
    assert no_show_enrollments
    assert all(job.dialed_at is None or job.dialed_at < now for job in jobs)
    # The key the demo prints is made now, not a month ago.
    assert key_made is not None
    assert aware(key_made) == now
    # Patients and strangers rang the practice, and the agent answered each call: the
    # Inbound dashboard has a lived week too (never dialed, so never in the audit above).
    inbound = [job for job in jobs if job.direction is CallDirection.INBOUND]
    assert len(inbound) == history.inbound > 3
    assert all(job.status is CallStatus.COMPLETED and job.dialed_at is None for job in inbound)
    assert all(aware(job.created_at) < now for job in inbound)
    with container.session_factory() as session:
        held = session.scalar(
            select(func.count())
            .select_from(CallTranscript)
            .where(CallTranscript.job_id.in_([job.id for job in inbound]))
        )
    assert held == len(inbound)


def test_a_second_run_lives_nothing_again_and_issues_a_new_key(
    container: Container, clock: VirtualClock
) -> None:
    first, _ = set_up_demo_with_history(container.session_factory, now=clock.now(), days=1)
    with container.session_factory() as session:
        calls = session.scalar(select(func.count()).select_from(CallJob))
    second, history = set_up_demo_with_history(container.session_factory, now=clock.now(), days=1)
    assert (second.created, history) == (False, None)
    assert second.api_key != first.api_key
    with container.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(CallJob)) == calls


def test_no_history_seeds_at_once(container: Container, clock: VirtualClock) -> None:
    result, history = set_up_demo_with_history(container.session_factory, now=clock.now(), days=0)
    assert result.created
    assert history is None
    with container.session_factory() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(CallJob).where(CallJob.dialed_at.is_not(None))
            )
            == 0
        )


def test_no_history_is_lived_in_a_database_with_other_practices(
    container: Container, clock: VirtualClock, tenant: Tenant
) -> None:
    """The dispatcher and the runner serve every account: a replay would dial theirs too."""
    result, history = set_up_demo_with_history(container.session_factory, now=clock.now(), days=3)
    assert result.created
    assert history is None
    with container.session_factory() as session:
        dialed = select(func.count()).select_from(CallJob).where(CallJob.dialed_at.is_not(None))
        assert session.scalar(dialed) == 0
