"""A practice driven through the HTTP API, with the workflow runner and the dispatcher ticking
on the virtual clock: what the workflow end-to-end tests share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.calls import CallAction, CallJob
from ringfence.adapters.telephony.sandbox import SandboxCarrier
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.pacing import DispatchConfig
from ringfence.services.dispatch import (
    Dispatcher,
)
from ringfence.services.workflows.runner import WorkflowRunner
from tests.conftest import Tenant
from tests.integration.dispatch.practice import Practice

CONFIRMED_BRANCH_TAG = "Confirmed by Voice AI"
OPT_OUT_BRANCH_NOTE = "Asked not to be called again."


def confirmation_definition(agent_id: int, number_id: int, **audience: Any) -> dict[str, Any]:
    return {
        "trigger": {"kind": "appointment_scheduled"},
        "audience": {"appointment_statuses": ["scheduled"], **audience},
        "steps": [
            {"type": "wait", "until": "before_appointment"},
            {
                "type": "voice_ai_call",
                "action_name": "Call patient to confirm Botox appointment",
                "agent_id": agent_id,
                "from_number_id": number_id,
                "purpose": "appointment_confirmation",
            },
            {
                "type": "branch",
                "cases": [
                    {
                        "when": ["appointment_confirmed"],
                        "steps": [{"type": "add_tag", "tag": CONFIRMED_BRANCH_TAG}],
                    },
                    {
                        "when": ["opted_out"],
                        "steps": [{"type": "add_note", "body": OPT_OUT_BRANCH_NOTE}],
                    },
                ],
                "otherwise": [{"type": "create_task", "title": "Confirm by phone"}],
            },
        ],
    }


@dataclass
class WorkflowPractice:
    client: TestClient
    container: Container
    clock: VirtualClock
    tenant: Tenant
    agent_id: int = 0
    number_id: int = 0
    practice: Practice = field(init=False)
    runner: WorkflowRunner = field(init=False)
    dispatcher: Dispatcher = field(init=False)

    def __post_init__(self) -> None:
        h = self.tenant.headers
        number = self.post(
            "/phone-numbers", {"location_id": self.tenant.location_id, "e164": "+12125550199"}
        )
        agent = self.post(
            "/voice-agents",
            {"location_id": self.tenant.location_id, "name": "Desk", "practice_name": "Glow"},
        )
        assert h
        self.agent_id, self.number_id = agent["id"], number["id"]
        self.practice = Practice(
            self.container, account_id=self.tenant.account_id, location_id=self.tenant.location_id
        )
        self.runner = WorkflowRunner(self.container.session_factory, self.clock)
        self.dispatcher = Dispatcher(
            session_factory=self.container.session_factory,
            carrier=SandboxCarrier(self.container.session_factory, self.clock),
            clock=self.clock,
            config=DispatchConfig(carrier_cps=5, carrier_burst=5),
        )

    # --- HTTP -----------------------------------------------------------------------------

    def post(self, path: str, body: dict[str, Any] | None = None, status: int = 201) -> Any:
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.tenant.headers)
        assert response.status_code == status, response.text
        return response.json()

    def get(self, path: str) -> Any:
        response = self.client.get(f"/api/v1{path}", headers=self.tenant.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        response = self.client.patch(f"/api/v1{path}", json=body, headers=self.tenant.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def workflow(self, definition: dict[str, Any], *, publish: bool = True) -> int:
        created = self.post(
            "/workflows",
            {"name": "Confirm", "location_id": self.tenant.location_id, "definition": definition},
        )
        if publish:
            self.post(f"/workflows/{created['id']}/publish", {}, status=200)
        return int(created["id"])

    def appointment(self, contact_id: int, starts_at: datetime) -> int:
        created = self.post(
            "/appointments",
            {"contact_id": contact_id, "starts_at": starts_at.isoformat(), "service": "Botox"},
        )
        return int(created["id"])

    # --- time -----------------------------------------------------------------------------

    def run_until(self, until: datetime, step: timedelta = timedelta(minutes=1)) -> None:
        """Tick the runner and the dispatcher every `step` of virtual time until `until`."""
        while self.clock.now() < until:
            self.tick()
            self.clock.advance(step)
        self.tick()

    def tick(self) -> None:
        self.runner.run_due()
        self.dispatcher.tick()
        self.runner.run_due()

    # --- reading back ---------------------------------------------------------------------

    def jobs(self, contact_id: int | None = None) -> list[CallJob]:
        with self.container.uow() as uow:
            query = select(CallJob).order_by(CallJob.id)
            if contact_id is not None:
                query = query.where(CallJob.contact_id == contact_id)
            rows = list(uow.session.scalars(query))
            for row in rows:
                uow.session.expunge(row)
            return rows

    def call_actions(self, job_id: int) -> list[tuple[str, str]]:
        with self.container.uow() as uow:
            return [
                (a.kind, a.detail)
                for a in uow.session.scalars(
                    select(CallAction).where(CallAction.job_id == job_id).order_by(CallAction.id)
                )
            ]
