"""`GET /api/v1/call-jobs` says each call's direction and filters on it: a simulated inbound
call is listed as inbound, the outbound ones as outbound."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ringfence.agent.policies.base import DialoguePolicy
from ringfence.agent.policies.scripted import ScriptedPolicy
from ringfence.agent.profile import PolicyName
from ringfence.bootstrap import Container
from ringfence.services.inbound_calls import InboundCallResult
from ringfence.services.inbound_sandbox import take_sandbox_call
from tests.conftest import Tenant
from tests.factories import add_caller_id, add_voice_agent
from tests.integration.dispatch.practice import Practice

LINE = "+12125550147"


def _scripted(_name: PolicyName) -> DialoguePolicy:
    return ScriptedPolicy()


def test_call_jobs_show_and_filter_the_direction(
    container: Container, client: TestClient, tenant: Tenant
) -> None:
    add_caller_id(container, tenant, LINE)
    add_voice_agent(container, tenant)
    practice = Practice(container, account_id=tenant.account_id, location_id=tenant.location_id)
    contact_id = practice.add_contact("+12125550100", first_name="Maria")
    [outbound] = practice.enqueue(contact_id)
    with container.uow() as uow:
        result = take_sandbox_call(
            uow,
            dialed=LINE,
            caller="+12125550100",
            utterances=["Can I get a call back tomorrow?"],
            policy_factory=_scripted,
        )
    assert isinstance(result, InboundCallResult)

    every = client.get("/api/v1/call-jobs", headers=tenant.headers)
    assert every.status_code == 200
    assert {i["id"]: i["direction"] for i in every.json()["items"]} == {
        outbound: "outbound",
        result.job_id: "inbound",
    }
    inbound = client.get("/api/v1/call-jobs?direction=inbound", headers=tenant.headers)
    assert [i["id"] for i in inbound.json()["items"]] == [result.job_id]
    assert inbound.json()["items"][0]["dialed_at"] is None
    detail = client.get(f"/api/v1/call-jobs/{result.job_id}", headers=tenant.headers)
    assert detail.json()["direction"] == "inbound"
    bad = client.get("/api/v1/call-jobs?direction=sideways", headers=tenant.headers)
    assert bad.status_code == 422
