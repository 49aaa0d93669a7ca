"""Runs enrollments forward: the workflow engine's imperative shell.

`WorkflowRunner.run_due()` finds the enrollments that are due (a wait ended, a call finished,
or just enrolled) and advances each in its own transaction, step by step, until it waits, its
call is enqueued, or its path ends. Each enrollment row is locked while it advances (and
skipped if another worker holds it, on PostgreSQL), so any number of workers can run, and a
crash rolls back to the last committed step: steps are never half-applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.calls import CallEvent, CallJob
from ringfence.adapters.db.orm import Appointment
from ringfence.adapters.db.workflows import Enrollment, EnrollmentStep, Workflow, WorkflowVersion
from ringfence.clock import Clock
from ringfence.domain.calls import TERMINAL
from ringfence.domain.tags import QA_TEST_TAG
from ringfence.domain.vocabulary import AppointmentStatus, CallStatus, CallType
from ringfence.domain.workflows.audience import admit
from ringfence.domain.workflows.definition import (
    Branch,
    BranchOn,
    Step,
    TriggerKind,
    VoiceAICall,
    Wait,
    WaitUntil,
    WorkflowDefinition,
    step_label,
)
from ringfence.domain.workflows.outcomes import CallResultView, branch_signals, choose_case
from ringfence.domain.workflows.states import RUNNABLE, EnrollmentState
from ringfence.domain.workflows.timing import EndPath, WaitFacts, wait_outcome
from ringfence.domain.workflows.walk import StepPath, case_path, next_path, step_at
from ringfence.services.call_jobs import CallRequest, enqueue_calls
from ringfence.services.facts import aware
from ringfence.services.unit_of_work import TenantScope
from ringfence.services.workflows.actions import run_action
from ringfence.services.workflows.contact_views import appointment_view, contact_view
from ringfence.services.workflows.events import TriggerEvent, definition_of, ingest
from ringfence.services.workflows.exits import exit_enrollment

log = logging.getLogger("ringfence.workflows")

# A path longer than this without waiting is a bug, not a workflow: stop and say so.
MAX_STEPS_PER_RUN = 100


@dataclass(slots=True)
class RunReport:
    advanced: int = 0
    calls_enqueued: int = 0
    completed: int = 0
    exited: int = 0
    errors: list[str] = field(default_factory=list)


class WorkflowRunner:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, batch: int = 200):
        self.session_factory = session_factory
        self.clock = clock
        self.batch = batch

    def run_due(self) -> RunReport:
        """Advance every enrollment that is due now (up to `batch` of each kind)."""
        report = RunReport()
        now = self.clock.now()
        with self.session_factory() as session:
            due = list(
                session.scalars(
                    select(Enrollment.id)
                    .where(Enrollment.state.in_(RUNNABLE), Enrollment.resume_at <= now)
                    .order_by(Enrollment.resume_at, Enrollment.id)
                    .limit(self.batch)
                )
            )
            due += session.scalars(
                select(Enrollment.id)
                .join(CallJob, CallJob.id == Enrollment.call_job_id)
                .where(
                    Enrollment.state == EnrollmentState.WAITING_CALL,
                    CallJob.status.in_(TERMINAL),
                )
                .order_by(Enrollment.id)
                .limit(self.batch)
            )
        for enrollment_id in due:
            try:
                self._advance_one(enrollment_id, now, report)
            except Exception as exc:
                # One broken enrollment must not stop the others. Its transaction rolled back:
                # it stays where its last committed step left it and is retried next pass.
                log.exception("workflow enrollment %d failed to advance", enrollment_id)
                report.errors.append(f"enrollment {enrollment_id}: {exc}")
        return report

    def _advance_one(self, enrollment_id: int, now: datetime, report: RunReport) -> None:
        with self.session_factory() as session, session.begin():
            query = select(Enrollment).where(Enrollment.id == enrollment_id)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            enrollment = session.scalars(query).first()
            if enrollment is None or not _still_due(session, enrollment, now):
                return  # another worker took it, or it changed since the scan
            workflow = session.get(Workflow, enrollment.workflow_id)
            version = session.get(WorkflowVersion, enrollment.version_id)
            assert workflow is not None
            assert version is not None
            Advance(session, workflow, definition_of(version), enrollment, now, report).run()
            report.advanced += 1


def _still_due(session: Session, enrollment: Enrollment, now: datetime) -> bool:
    if enrollment.state in RUNNABLE:
        return enrollment.resume_at is not None and enrollment.resume_at <= now
    if enrollment.state is EnrollmentState.WAITING_CALL and enrollment.call_job_id is not None:
        job = session.get(CallJob, enrollment.call_job_id)
        return job is None or job.status in TERMINAL
    return False


class Advance:
    """One enrollment moving forward inside one transaction."""

    def __init__(
        self,
        session: Session,
        workflow: Workflow,
        definition: WorkflowDefinition,
        enrollment: Enrollment,
        now: datetime,
        report: RunReport,
    ) -> None:
        self.session = session
        self.workflow = workflow
        self.definition = definition
        self.enrollment = enrollment
        self.now = now
        self.report = report

    def run(self) -> None:
        e = self.enrollment
        if e.state is EnrollmentState.WAITING_CALL and not self._call_finished():
            return
        for _ in range(MAX_STEPS_PER_RUN):
            if e.cursor is None:
                self._complete()
                return
            path = tuple(e.cursor)
            if not self._run_step(path, step_at(self.definition, path)):
                return
        self._log(tuple(e.cursor or ()), "error", "failed", "too many steps without a wait")
        exit_enrollment(
            self.session, e, "the workflow ran too many steps without waiting", self.now
        )
        self.report.exited += 1

    # --- steps --------------------------------------------------------------------------

    def _run_step(self, path: StepPath, step: Step) -> bool:
        """Run one step; True to go on with the next one now."""
        match step:
            case Wait():
                return self._wait(path, step)
            case VoiceAICall():
                return self._call(path, step)
            case Branch():
                return self._branch(path, step)
            case _:
                result = run_action(self.session, self.workflow, self.enrollment, step, self.now)
                self._log(path, step.type, "done" if result.done else "skipped", result.detail)
                if result.follow_up is not None:
                    self._emit(path, *result.follow_up)
                    if self.enrollment.state is EnrollmentState.EXITED:
                        return False  # the event it caused superseded this very enrollment
                self._move_to(next_path(self.definition, path))
                return True

    def _wait(self, path: StepPath, step: Wait) -> bool:
        e = self.enrollment
        outcome = wait_outcome(step, self._wait_facts(step), self.now)
        if isinstance(outcome, EndPath):
            self._log(path, "wait", "exited", outcome.reason)
            exit_enrollment(self.session, e, outcome.reason, self.now)
            self.report.exited += 1
            return False
        e.call_deadline = outcome.call_deadline
        if outcome.at > self.now:
            if e.state is not EnrollmentState.WAITING or e.resume_at != outcome.at:
                self._log(path, "wait", "waiting", f"until {outcome.at.isoformat()}")
            e.state, e.resume_at, e.updated_at = EnrollmentState.WAITING, outcome.at, self.now
            return False
        self._log(path, "wait", "done", step_label(step))
        self._move_to(next_path(self.definition, path))
        return True

    def _wait_facts(self, step: Wait) -> WaitFacts:
        e = self.enrollment
        appointment = None
        if e.appointment_id is not None:
            row = self.session.get(Appointment, e.appointment_id)
            appointment = appointment_view(row) if row is not None else None
        last_treatment = None
        if step.until is WaitUntil.AFTER_LAST_TREATMENT:
            query = select(func.max(Appointment.starts_at)).where(
                Appointment.contact_id == e.contact_id,
                Appointment.status == AppointmentStatus.COMPLETED,
            )
            if step.service_contains:
                query = query.where(
                    func.lower(Appointment.service).contains(step.service_contains.lower())
                )
            found = self.session.scalar(query)
            last_treatment = aware(found) if found is not None else None
        return WaitFacts(
            entered_at=e.step_entered_at or self.now,
            appointment=appointment,
            last_treatment_at=last_treatment,
        )

    def _call(self, path: StepPath, step: VoiceAICall) -> bool:
        e = self.enrollment
        view = contact_view(self.session, e.contact_id, self.now, e.appointment_id)
        if view is None:
            exit_enrollment(self.session, e, "the contact no longer exists", self.now)
            return False
        admission = admit(
            self.definition.audience, view, self.now, test_mode=self.definition.test_mode
        )
        if not admission.admitted:
            reason = f"left the audience before the call: {admission.summary}"
            self._log(path, "voice_ai_call", "exited", reason)
            exit_enrollment(self.session, e, reason, self.now)
            self.report.exited += 1
            return False
        test = self.definition.test_mode or QA_TEST_TAG in view.tags
        [job_id] = enqueue_calls(
            self.session,
            account_id=e.account_id,
            requests=[
                CallRequest(
                    contact_id=e.contact_id,
                    purpose=step.purpose,
                    agent_id=step.agent_id,
                    from_number_id=step.from_number_id,
                    call_type=CallType.TEST if test else CallType.LIVE,
                    workflow_id=self.workflow.id,
                    action_name=step.action_name,
                    not_before=self.now,
                    deadline=e.call_deadline,
                    enrollment_id=e.id,
                )
            ],
            now=self.now,
        )
        deadline = f", dial before {e.call_deadline.isoformat()}" if e.call_deadline else ""
        self._log(path, "voice_ai_call", "waiting", f"call {job_id} enqueued{deadline}")
        e.state, e.call_job_id, e.call_deadline = EnrollmentState.WAITING_CALL, job_id, None
        e.resume_at, e.updated_at = None, self.now
        self.report.calls_enqueued += 1
        return False

    def _call_finished(self) -> bool:
        e = self.enrollment
        job = self.session.get(CallJob, e.call_job_id) if e.call_job_id is not None else None
        path = tuple(e.cursor or ())
        if job is None or job.status is CallStatus.CANCELED:
            reason = f"the call was canceled ({job.reason_code})" if job else "the call vanished"
            exit_enrollment(self.session, e, reason, self.now)
            self.report.exited += 1
            return False
        ended = job.outcome.value if job.outcome else f"failed: {job.reason_code}"
        self._log(path, "voice_ai_call", "done", f"call {job.id} ended: {ended}")
        e.state = EnrollmentState.ACTIVE
        self._move_to(next_path(self.definition, path))
        return True

    def _branch(self, path: StepPath, step: Branch) -> bool:
        e = self.enrollment
        job = self.session.get(CallJob, e.call_job_id) if e.call_job_id is not None else None
        signals: frozenset[BranchOn] = frozenset()
        if job is not None:
            signals = branch_signals(
                CallResultView(
                    status=job.status,
                    outcome=job.outcome,
                    deferrals=self._deferrals(job.id),
                    produced=frozenset(job.produced or ()),
                )
            )
        case = choose_case(step, signals)
        label = (
            "otherwise"
            if case == len(step.cases)
            else (step.cases[case].label or " / ".join(w.value for w in step.cases[case].when))
        )
        held = ", ".join(sorted(s.value for s in signals)) or "nothing"
        self._log(path, "branch", "done", f"took {label!r} (the call: {held})")
        self._move_to(case_path(self.definition, path, case))
        return True

    def _deferrals(self, job_id: int) -> int:
        # Counted from the call's history, not from its gate evaluations: the daily cap
        # defers jobs without evaluating them.
        return (
            self.session.scalar(
                select(func.count())
                .select_from(CallEvent)
                .where(CallEvent.job_id == job_id, CallEvent.to_status == CallStatus.DEFERRED)
            )
            or 0
        )

    # --- bookkeeping --------------------------------------------------------------------

    def _move_to(self, path: StepPath | None) -> None:
        e = self.enrollment
        e.cursor = list(path) if path is not None else None
        e.step_entered_at, e.updated_at = self.now, self.now
        e.resume_at = self.now
        if e.state is EnrollmentState.WAITING:
            e.state = EnrollmentState.ACTIVE

    def _complete(self) -> None:
        e = self.enrollment
        e.state, e.resume_at, e.ended_at, e.updated_at = (
            EnrollmentState.COMPLETED,
            None,
            self.now,
            self.now,
        )
        self._log((), "end", "completed", "reached the end of its path")
        self.report.completed += 1

    def _log(self, path: StepPath, step_type: str, result: str, detail: str) -> None:
        self.session.add(
            EnrollmentStep(
                account_id=self.enrollment.account_id,
                enrollment_id=self.enrollment.id,
                path=".".join(str(i) for i in path),
                step_type=step_type,
                result=result,
                detail=detail,
                at=self.now,
            )
        )

    def _emit(self, path: StepPath, kind: str, value: str, opportunity_id: int | None) -> None:
        """A tag or stage this workflow set can start other workflows (once per step run)."""
        e = self.enrollment
        where = ".".join(str(i) for i in path)
        ingest(
            self.session,
            TenantScope(account_id=e.account_id, actor=f"workflow:{self.workflow.id}"),
            TriggerEvent(
                external_id=f"enrollment:{e.id}:step:{where}",
                kind=TriggerKind(kind),
                contact_id=e.contact_id,
                tag=value if kind == "contact_tag_added" else None,
                stage=value if kind == "opportunity_stage_changed" else None,
                opportunity_id=opportunity_id,
            ),
            self.now,
        )
