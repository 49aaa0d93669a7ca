"""Records hanging off a contact: appointments, opportunities, tasks, notes."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field

from ringfence.domain.vocabulary import AppointmentStatus, TaskPriority, TaskStatus
from ringfence.entrypoints.api.schemas.common import (
    Body,
    Cents,
    Id,
    Label100,
    ListQuery,
    LongText,
    Name,
    Name100,
    Out,
    ShortText,
)


class AppointmentCreate(Body):
    contact_id: Id
    starts_at: AwareDatetime
    service: Name = Field(description="e.g. 'Botox touch-up': the only clinical detail said aloud")
    status: AppointmentStatus = AppointmentStatus.SCHEDULED


class AppointmentUpdate(Body):
    starts_at: AwareDatetime | None = None
    service: Name | None = None
    status: AppointmentStatus | None = None


class AppointmentOut(Out):
    id: int
    location_id: int
    contact_id: int
    starts_at: datetime
    service: str
    status: AppointmentStatus
    created_at: datetime
    updated_at: datetime


class AppointmentQuery(ListQuery):
    location_id: Id | None = None
    contact_id: Id | None = None
    status: AppointmentStatus | None = None
    starts_after: AwareDatetime | None = None
    starts_before: AwareDatetime | None = None


class OpportunityCreate(Body):
    contact_id: Id
    name: Name
    pipeline: Label100 = "default"
    stage: Name100
    value_cents: Cents | None = None


class OpportunityUpdate(Body):
    name: Name | None = None
    pipeline: Label100 | None = None
    stage: Name100 | None = None
    value_cents: Cents | None = None


class OpportunityOut(Out):
    id: int
    location_id: int
    contact_id: int
    name: str
    pipeline: str
    stage: str
    value_cents: int | None
    created_at: datetime
    updated_at: datetime


class OpportunityQuery(ListQuery):
    location_id: Id | None = None
    contact_id: Id | None = None
    stage: ShortText | None = None


class TaskCreate(Body):
    location_id: Id | None = Field(
        default=None, description="Required when contact_id is absent; else the contact's"
    )
    contact_id: Id | None = None
    title: Name
    body: LongText = ""
    assignee: ShortText | None = None
    due_at: AwareDatetime | None = None
    status: TaskStatus = TaskStatus.OPEN
    priority: TaskPriority = TaskPriority.NORMAL


class TaskUpdate(Body):
    title: Name | None = None
    body: LongText | None = None
    assignee: ShortText | None = None
    due_at: AwareDatetime | None = None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None


class TaskOut(Out):
    id: int
    location_id: int
    contact_id: int | None
    title: str
    body: str
    assignee: str | None
    due_at: datetime | None
    status: TaskStatus
    priority: TaskPriority
    created_at: datetime
    updated_at: datetime


class TaskQuery(ListQuery):
    location_id: Id | None = None
    contact_id: Id | None = None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None


class NoteCreate(Body):
    contact_id: Id
    body: LongText = Field(min_length=1)


class NoteUpdate(Body):
    body: LongText | None = Field(default=None, min_length=1)


class NoteOut(Out):
    id: int
    location_id: int
    contact_id: int
    body: str
    author: str
    created_at: datetime
    updated_at: datetime


class NoteQuery(ListQuery):
    contact_id: Id | None = None
