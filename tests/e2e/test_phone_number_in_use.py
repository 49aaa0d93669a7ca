"""A caller ID that something relies on cannot be removed: not the From number of a published
workflow's Voice AI call step, not an agent's callback number. The service refuses (409, what
uses it in words), so the API and the web page answer alike; a draft may name a removed number,
and publishing it is then refused by name. Past calls keep their history (the foreign key sets
their number to null), on SQLite and PostgreSQL, with no 500 anywhere on the way."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.orm import PhoneNumber, VoiceAgent
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import CallPurpose
from ringfence.services.call_jobs import CallRequest, enqueue_calls
from tests.conftest import Tenant
from tests.e2e.web_client import csrf_token, sign_in
from tests.e2e.workflow_practice import confirmation_definition
from tests.factories import add_caller_id, add_voice_agent
from tests.integration.dispatch.practice import Practice

WORKFLOW = "Appointment confirmation · Manhattan"


def _api(client: TestClient, tenant: Tenant, method: str, path: str, body: Any = None) -> Any:
    return client.request(method, f"/api/v1{path}", json=body, headers=tenant.headers)


def _number(client: TestClient, tenant: Tenant, e164: str) -> int:
    created = _api(
        client, tenant, "POST", "/phone-numbers", {"location_id": tenant.location_id, "e164": e164}
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _numbers(container: Container, tenant: Tenant) -> list[str]:
    with container.uow() as uow:
        return list(
            uow.session.scalars(
                select(PhoneNumber.e164)
                .where(PhoneNumber.account_id == tenant.account_id)
                .order_by(PhoneNumber.id)
            )
        )


def _published_workflow(client: TestClient, tenant: Tenant, agent_id: int, number_id: int) -> int:
    created = _api(
        client,
        tenant,
        "POST",
        "/workflows",
        {
            "name": WORKFLOW,
            "location_id": tenant.location_id,
            "definition": confirmation_definition(agent_id, number_id),
        },
    )
    assert created.status_code == 201, created.text
    workflow_id = int(created.json()["id"])
    published = _api(client, tenant, "POST", f"/workflows/{workflow_id}/publish", {})
    assert published.status_code == 200, published.text
    return workflow_id


def test_api_refuses_to_remove_a_published_workflows_from_number_until_unpublished(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    # The agent has its own callback number, so only the workflow uses the caller ID.
    agent_id = add_voice_agent(container, tenant, name="Desk", callback_number="+12125550111")
    _number(client, tenant, "+12125550100")  # the location's first number stays
    number_id = _number(client, tenant, "+12125550199")
    workflow_id = _published_workflow(client, tenant, agent_id, number_id)
    contact = Practice(
        container, account_id=tenant.account_id, location_id=tenant.location_id
    ).add_contact("+12125554000")
    with container.uow() as uow:
        enqueue_calls(
            uow.session,
            account_id=tenant.account_id,
            requests=[
                CallRequest(
                    contact_id=contact,
                    purpose=CallPurpose.APPOINTMENT_CONFIRMATION,
                    agent_id=agent_id,
                    from_number_id=number_id,
                    workflow_id=workflow_id,
                )
            ],
            now=uow.clock.now(),
        )
        uow.commit()

    refused = _api(client, tenant, "DELETE", f"/phone-numbers/{number_id}")
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        "(212) 555-0199 cannot be removed: it is used as the From number of the published "
        f"workflow “{WORKFLOW}”; unpublish it or change its step first."
    )
    assert "+12125550199" in _numbers(container, tenant)

    # Unpublished, only the draft names it: removing is allowed (a draft places no calls),
    # and the call it had queued keeps its history without the number.
    assert _api(client, tenant, "POST", f"/workflows/{workflow_id}/unpublish").status_code == 200
    removed = _api(client, tenant, "DELETE", f"/phone-numbers/{number_id}")
    assert removed.status_code == 204, removed.text
    assert _numbers(container, tenant) == ["+12125550100"]
    with container.uow() as uow:
        jobs = list(uow.session.scalars(select(CallJob).where(CallJob.workflow_id == workflow_id)))
        assert [job.from_number_id for job in jobs] == [None]

    # Publishing the draft that still names the removed number is refused, by name.
    again = _api(client, tenant, "POST", f"/workflows/{workflow_id}/publish", {})
    assert again.status_code == 422, again.text
    detail = again.json()["detail"][0]
    assert detail["loc"][-1] == "from_number_id"
    assert f"no such number ({number_id})" in detail["msg"]
    assert "it may have been removed" in detail["msg"]
    assert "choose another From Phone Number" in detail["msg"]


def test_api_refuses_to_remove_an_agents_callback_number(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    own = _number(client, tenant, "+12125550100")
    fallback_only = _number(client, tenant, "+12125550142")
    add_voice_agent(container, tenant, name="Ava", callback_number="+12125550142")
    refused = _api(client, tenant, "DELETE", f"/phone-numbers/{fallback_only}")
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (
        "(212) 555-0142 cannot be removed: it is used as the callback number of the voice "
        "agent “Ava”; give the agent another callback number first."
    )
    # An agent without a number of its own gives the location's first caller ID: the last
    # one left cannot go either, or the agent would have none at all.
    add_voice_agent(container, tenant, name="Bea", callback_number=None)
    with container.uow() as uow:
        ava = uow.session.scalars(select(VoiceAgent).where(VoiceAgent.name == "Ava")).one()
        ava.callback_number = "+12125550111"
        uow.commit()
    assert _api(client, tenant, "DELETE", f"/phone-numbers/{fallback_only}").status_code == 204
    last = _api(client, tenant, "DELETE", f"/phone-numbers/{own}")
    assert last.status_code == 409
    assert last.json()["detail"] == (
        "(212) 555-0100 cannot be removed: it is used as the callback number of the voice "
        "agent “Bea” (the location's only caller ID, and the agent has no number of its "
        "own); give the agent a callback number or add another caller ID first."
    )


def test_web_confirm_page_shows_the_refusal_and_no_remove_button(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    agent_id = add_voice_agent(container, tenant, name="Desk", callback_number="+12125550111")
    add_caller_id(container, tenant, "+12125550100")
    number_id = _number(client, tenant, "+12125550199")
    _published_workflow(client, tenant, agent_id, number_id)
    assert sign_in(client, tenant).status_code == 303

    confirm = client.get(f"/app/phone-numbers/{number_id}/remove")
    assert confirm.status_code == 200
    assert "(212) 555-0199 cannot be removed" in confirm.text
    assert "unpublish it or change its step first" in confirm.text
    assert "Remove (212) 555-0199</button>" not in confirm.text
    assert 'action="/app/phone-numbers/' not in confirm.text

    # A forged or stale form is refused by the service too, in words, and nothing is removed.
    token = csrf_token(client.get("/app/phone-numbers"))
    posted = client.post(f"/app/phone-numbers/{number_id}/remove", data={"csrf_token": token})
    assert posted.status_code == 409
    assert f"workflow “{WORKFLOW}”" in posted.text
    assert "+12125550199" in _numbers(container, tenant)

    # An unused number still has its button and goes.
    unused = _number(client, tenant, "+12125550177")
    page = client.get(f"/app/phone-numbers/{unused}/remove")
    assert "Remove (212) 555-0177</button>" in page.text
    gone = client.post(f"/app/phone-numbers/{unused}/remove", data={"csrf_token": token})
    assert "(212) 555-0177 removed from this account&#39;s caller IDs." in gone.text
    assert "+12125550177" not in _numbers(container, tenant)
