"""The test console's requests and replies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ringfence.domain.vocabulary import CallPurpose
from ringfence.entrypoints.api.schemas.common import Body, Id, LongText, PhoneE164


class ConsoleCallCreate(Body):
    agent_id: Id
    contact_id: Id | None = Field(default=None, description="Talk as this contact (or phone)")
    phone: PhoneE164 | None = Field(default=None, description="Talk as an unknown caller")
    purpose: CallPurpose = CallPurpose.APPOINTMENT_CONFIRMATION


class TestTurnCreate(Body):
    text: LongText = Field(min_length=1, description="What the callee says")


class ConsoleEventOut(BaseModel):
    type: str = Field(description="e.g. opt_out_applied, ai_disclosed, deferred_to_staff")
    detail: dict[str, Any]


class ConsoleCallOut(BaseModel):
    id: int
    agent_text: str
    events: list[ConsoleEventOut]
    ended: bool


class TestTurnOut(BaseModel):
    agent_text: str
    events: list[ConsoleEventOut]
    ended: bool
