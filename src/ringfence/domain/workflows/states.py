"""The lifecycle words of workflows and enrollments."""

from __future__ import annotations

from enum import StrEnum


class WorkflowStatus(StrEnum):
    """Only published workflows enroll contacts and place calls."""

    DRAFT = "draft"
    PUBLISHED = "published"


class EnrollmentState(StrEnum):
    ACTIVE = "active"  # due to run its next step at `resume_at`
    WAITING = "waiting"  # in a wait step until `resume_at`
    WAITING_CALL = "waiting_call"  # its call job is queued, deferred or in flight
    COMPLETED = "completed"  # ran to the end of its path
    EXITED = "exited"  # left early: filter, opt-out, unpublish, canceled appointment...


RUNNABLE = frozenset({EnrollmentState.ACTIVE, EnrollmentState.WAITING})
OPEN = frozenset({*RUNNABLE, EnrollmentState.WAITING_CALL})


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last retry
