"""Workflows, their published versions, trigger events, enrollments and step executions.

Enrollments are the durable state of a contact's run through a workflow: a worker that dies
mid-step leaves the enrollment where its last committed step put it, and the next worker
carries on from there (each step runs in the transaction that moves the cursor past it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringfence.adapters.db.orm import Base, enum_column
from ringfence.domain.workflows.states import DeliveryStatus, EnrollmentState, WorkflowStatus


class Workflow(Base):
    __tablename__ = "workflows"
    __table_args__ = (Index("ix_workflows_account_id_status", "account_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[WorkflowStatus] = mapped_column(enum_column(WorkflowStatus, "workflow_status"))
    # The editable draft (domain/workflows/definition.py as JSON). Publishing snapshots it.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The trigger kind of the draft, denormalised so event matching is one indexed lookup.
    trigger_kind: Mapped[str] = mapped_column(String(40))
    published_version_id: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WorkflowVersion(Base):
    """A published snapshot: enrollments keep running the version they started on, so editing
    and republishing never moves a contact to a step that did not exist when they enrolled."""

    __tablename__ = "workflow_versions"
    __table_args__ = (
        UniqueConstraint("workflow_id", "version"),
        Index("ix_workflow_versions_account_id_trigger_kind", "account_id", "trigger_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    trigger_kind: Mapped[str] = mapped_column(String(40))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime]


class WorkflowEvent(Base):
    """A trigger event as received; `external_id` makes delivery idempotent per account."""

    __tablename__ = "workflow_events"
    __table_args__ = (UniqueConstraint("account_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    # appointment_id, opportunity_id, tag, stage, form_id, name: as given.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    enrolled: Mapped[int] = mapped_column(Integer, default=0)
    # The workflows whose trigger matched but which did not enroll the contact, with why
    # ([{"workflow_id", "reasons"}]): a redelivery answers exactly what the first did.
    skipped: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))


class Enrollment(Base):
    __tablename__ = "workflow_enrollments"
    __table_args__ = (
        # Once per trigger event: a redelivered event can never enroll a contact twice.
        UniqueConstraint("workflow_id", "event_id", "contact_id"),
        # The runner's scan: runnable enrollments by wake-up time.
        Index("ix_workflow_enrollments_state_resume_at", "state", "resume_at"),
        Index("ix_workflow_enrollments_contact_id_state", "contact_id", "state"),
        Index("ix_workflow_enrollments_workflow_id_state", "workflow_id", "state"),
        Index("ix_workflow_enrollments_appointment_id", "appointment_id"),
        Index("ix_workflow_enrollments_call_job_id", "call_job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("workflow_versions.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("workflow_events.id", ondelete="CASCADE"))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunities.id", ondelete="SET NULL")
    )
    state: Mapped[EnrollmentState] = mapped_column(enum_column(EnrollmentState, "enrollment_state"))
    # The next step to run (walk.StepPath as a list); null once the path has ended.
    cursor: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True))
    step_entered_at: Mapped[datetime | None]
    resume_at: Mapped[datetime | None]
    call_job_id: Mapped[int | None] = mapped_column(Integer)
    # Set by a "before the appointment" wait: the next call must dial before it.
    call_deadline: Mapped[datetime | None]
    exit_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class EnrollmentStep(Base):
    """One step execution (append-only): the enrollment's history in the editor and the API."""

    __tablename__ = "workflow_enrollment_steps"
    __table_args__ = (
        Index("ix_workflow_enrollment_steps_enrollment_id_id", "enrollment_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("workflow_enrollments.id", ondelete="CASCADE")
    )
    path: Mapped[str] = mapped_column(String(100))
    step_type: Mapped[str] = mapped_column(String(30))
    result: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class WebhookDelivery(Base):
    """An outbox row per webhook step: sent after the step's transaction commits, retried with
    back-off, so a slow or failing receiver never holds a database transaction open."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("workflow_enrollments.id", ondelete="CASCADE")
    )
    call_job_id: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(String(2000))
    body: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(100))
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus, "delivery_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The receiver's HTTP status at the last attempt that got an answer (the run log shows it).
    response_status: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
