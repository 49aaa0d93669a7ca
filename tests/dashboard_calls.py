"""Hand-built call sets for the dashboard's tests: call jobs written straight to the
database with the outcome, day, type, duration, sentiment and actions a test names; and
inbound calls answered through the sandbox (`answer`), the real path."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ringfence.adapters.db.calls import CallAction, CallEvent, CallJob, CallTranscript
from ringfence.adapters.db.orm import Contact, PhoneNumber
from ringfence.adapters.db.workflows import Workflow
from ringfence.agent.policies.base import DialoguePolicy
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import PolicyName
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import (
    CallOutcome,
    CallPurpose,
    CallStatus,
    CallType,
    ContactSource,
)
from ringfence.domain.workflows.states import WorkflowStatus
from ringfence.services.inbound_calls import InboundCallResult
from ringfence.services.inbound_sandbox import take_sandbox_call
from tests.conftest import Tenant

NEW_YORK = ZoneInfo("America/New_York")
# The practice line patients call (the caller ID `add_voice_agent` gives as callback number).
PRACTICE_LINE = "+12125550199"


def _scripted(_name: PolicyName) -> DialoguePolicy:
    return ScriptedPolicy()


def answer(container: Container, caller: str | None, *said: str, line: str = PRACTICE_LINE) -> int:
    """A simulated inbound call to `line` from `caller`, who says `said`; its call job id.
    The line must be a number of a location with a voice agent."""
    with container.uow() as uow:
        result = take_sandbox_call(
            uow, dialed=line, caller=caller, utterances=list(said), policy_factory=_scripted
        )
    assert isinstance(result, InboundCallResult), result
    return result.job_id


@dataclass
class CallBook:
    container: Container
    tenant: Tenant
    numbers: dict[str, int] = field(default_factory=dict)
    workflows: dict[str, int] = field(default_factory=dict)
    _contact_seq: int = 0

    def number(self, e164: str) -> int:
        if e164 not in self.numbers:
            with self.container.uow() as uow:
                now = uow.clock.now()
                row = PhoneNumber(
                    account_id=self.tenant.account_id,
                    location_id=self.tenant.location_id,
                    e164=e164,
                    created_at=now,
                    updated_at=now,
                )
                uow.session.add(row)
                uow.session.flush()
                self.numbers[e164] = row.id
                uow.commit()
        return self.numbers[e164]

    def patient(self, first_name: str, last_name: str, phone_e164: str) -> int:
        """A contact of the location with this number (an inbound caller it recognises)."""
        with self.container.uow() as uow:
            now = uow.clock.now()
            row = Contact(
                account_id=self.tenant.account_id,
                location_id=self.tenant.location_id,
                first_name=first_name,
                last_name=last_name,
                phone_e164=phone_e164,
                source=ContactSource.FORM,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(row)
            uow.session.flush()
            contact_id = row.id
            uow.commit()
        return contact_id

    def workflow(self, name: str) -> int:
        if name not in self.workflows:
            with self.container.uow() as uow:
                now = uow.clock.now()
                row = Workflow(
                    account_id=self.tenant.account_id,
                    location_id=self.tenant.location_id,
                    name=name,
                    status=WorkflowStatus.PUBLISHED,
                    definition={},
                    trigger_kind="appointment_scheduled",
                    created_at=now,
                    updated_at=now,
                )
                uow.session.add(row)
                uow.session.flush()
                self.workflows[name] = row.id
                uow.commit()
        return self.workflows[name]

    def call(
        self,
        outcome: CallOutcome | None,
        *,
        day: date,
        at: time = time(11, 0),
        call_type: CallType = CallType.LIVE,
        duration: int = 0,
        sentiment: str | None = None,
        actions: tuple[str, ...] = (),
        workflow: str | None = "Appointment confirmations",
        caller_id: str = "+12125550100",
        name: str = "Pat Client",
        turns: list[dict[str, object]] | None = None,
        recording: bool = False,
        status: CallStatus | None = None,
        reason_code: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> int:
        """A placed call (outcome None: still in progress), or with `status` deferred /
        failed and no outcome, one stopped before dialing."""
        dialed = datetime.combine(day, at, NEW_YORK).astimezone(UTC)
        placed = status is None
        lifecycle = status or (CallStatus.COMPLETED if outcome else CallStatus.IN_PROGRESS)
        number_id = self.number(caller_id)
        workflow_id = self.workflow(workflow) if workflow else None
        with self.container.uow() as uow:
            self._contact_seq += 1
            first, _, last = name.partition(" ")
            contact = Contact(
                account_id=self.tenant.account_id,
                location_id=self.tenant.location_id,
                first_name=first,
                last_name=last,
                phone_e164=f"+1212555{self._contact_seq:04d}",
                source=ContactSource.FORM,
                created_at=dialed,
                updated_at=dialed,
            )
            uow.session.add(contact)
            uow.session.flush()
            job = CallJob(
                account_id=self.tenant.account_id,
                location_id=self.tenant.location_id,
                contact_id=contact.id,
                from_number_id=number_id,
                workflow_id=workflow_id,
                action_name="Confirm appointment",
                purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
                call_type=call_type,
                status=lifecycle,
                reason_code=reason_code,
                reason_text="test reason" if reason_code else None,
                next_attempt_at=(next_attempt_at or dialed + timedelta(days=1))
                if status is CallStatus.DEFERRED
                else None,
                phone_e164=contact.phone_e164 if placed else None,
                dialed_at=dialed if placed else None,
                dialed_local_day=day if placed else None,
                outcome=outcome,
                duration_seconds=duration if outcome else None,
                billable_seconds=duration if outcome else None,
                ended_at=dialed + timedelta(seconds=duration) if outcome else None,
                created_at=dialed,
                updated_at=dialed,
            )
            uow.session.add(job)
            uow.session.flush()
            uow.session.add(
                CallEvent(
                    account_id=self.tenant.account_id,
                    job_id=job.id,
                    at=dialed,
                    from_status=CallStatus.QUEUED,
                    to_status=lifecycle,
                    reason_code=reason_code,
                    detail=None,
                )
            )
            if turns is not None or sentiment is not None or recording:
                uow.session.add(
                    CallTranscript(
                        account_id=self.tenant.account_id,
                        job_id=job.id,
                        turns=turns or [],
                        sentiment=sentiment,
                        sentiment_score=0.5 if sentiment == "positive" else 0.0,
                        recording_path=f"{self.tenant.account_id}/{job.id}.wav"
                        if recording
                        else None,
                        recording_seconds=float(duration) if recording else None,
                        created_at=dialed,
                    )
                )
            for kind in actions:
                uow.session.add(
                    CallAction(
                        account_id=self.tenant.account_id,
                        location_id=self.tenant.location_id,
                        job_id=job.id,
                        kind=kind,
                        detail=kind,
                        at=dialed,
                    )
                )
            job_id = job.id
            uow.commit()
        return job_id
