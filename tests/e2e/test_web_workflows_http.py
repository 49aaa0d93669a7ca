"""The Workflows pages over plain HTTP (no JavaScript): CSRF, empty states, creating from a
template, step forms with field errors, the picker's filter, Draft ⇄ Published with the
audience confirmation, the forecast panel, and other accounts' workflows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from markupsafe import escape
from sqlalchemy import select

from ringfence.adapters.db.orm import Account, PhoneNumber
from ringfence.adapters.db.workflows import Workflow
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import CallPurpose, KycStatus
from ringfence.domain.workflows.states import WorkflowStatus
from ringfence.entrypoints.web.flash import FLASH_COOKIE
from ringfence.services.api_keys import create_api_key
from ringfence.services.call_jobs import CallRequest, enqueue_calls
from ringfence.services.workflows.templates import BY_KEY
from tests.conftest import Tenant
from tests.e2e.web_client import csrf_token, sign_in
from tests.factories import add_voice_agent
from tests.integration.dispatch.practice import Practice

CONFIRMATION = "appointment_confirmation"


def add_number(container: Container, tenant: Tenant, e164: str = "+12125550199") -> int:
    with container.uow() as uow:
        now = uow.clock.now()
        number = PhoneNumber(
            account_id=tenant.account_id,
            location_id=tenant.location_id,
            e164=e164,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(number)
        uow.session.flush()
        number_id = number.id
        uow.commit()
    return number_id


def stored(container: Container, workflow_id: int) -> Workflow:
    with container.uow() as uow:
        workflow = uow.session.get(Workflow, workflow_id)
        assert workflow is not None
        uow.session.expunge(workflow)
        return workflow


def post_form(client: TestClient, page: Response, url: str, data: dict[str, Any]) -> Response:
    return client.post(url, data={"csrf_token": csrf_token(page), **data}, follow_redirects=False)


def revision(page: Response) -> str:
    found = re.search(r'name="revision" value="([0-9a-f]+)"', page.text)
    assert found is not None, "the page has no editing form"
    return found.group(1)


@pytest.fixture
def signed_in(client: TestClient, tenant: Tenant) -> TestClient:
    assert sign_in(client, tenant).status_code == 303
    return client


@pytest.fixture
def ready(container: Container, tenant: Tenant) -> tuple[int, int]:
    """The location's agent and caller ID."""
    return add_voice_agent(container, tenant, name="Front desk"), add_number(container, tenant)


def create_from_template(
    client: TestClient, tenant: Tenant, agent_id: int, number_id: int, key: str = CONFIRMATION
) -> int:
    form = client.get(f"/app/workflows/new?location={tenant.location_id}")
    response = post_form(
        client,
        form,
        "/app/workflows/new",
        {
            "location_id": str(tenant.location_id),
            "template": key,
            "agent_id": str(agent_id),
            "from_number_id": str(number_id),
        },
    )
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/app/workflows/(\d+)", response.headers["location"])
    assert found is not None
    return int(found.group(1))


def test_a_post_without_the_csrf_token_is_refused(
    signed_in: TestClient, container: Container, tenant: Tenant, ready: tuple[int, int]
) -> None:
    workflow_id = create_from_template(signed_in, tenant, *ready)
    for path in ("publish", "steps", "forecast", "name", "delete"):
        response = signed_in.post(f"/app/workflows/{workflow_id}/{path}", data={"name": "Hijacked"})
        assert response.status_code == 403, path
    # A token from another session is no better.
    response = signed_in.post(
        f"/app/workflows/{workflow_id}/publish", headers={"X-CSRF-Token": "forged"}
    )
    assert response.status_code == 403
    workflow = stored(container, workflow_id)
    assert workflow.status is WorkflowStatus.DRAFT
    assert workflow.name == BY_KEY[CONFIRMATION].name


def test_the_list_says_what_the_location_is_missing(
    signed_in: TestClient, container: Container, tenant: Tenant
) -> None:
    page = signed_in.get("/app/workflows")
    assert page.status_code == 200
    text = page.text
    assert "has no voice agents yet" in text
    assert "has no phone numbers yet" in text
    assert "/app/workflows/new" not in text
    assert f"No workflows at {'Glow Aesthetics main'} yet" in text

    add_voice_agent(container, tenant)
    page = signed_in.get("/app/workflows")
    assert "has no voice agents yet" not in page.text
    assert "has no phone numbers yet" in page.text

    add_number(container, tenant)
    page = signed_in.get("/app/workflows")
    assert "yet:" not in page.text
    assert f'href="/app/workflows/new?location={tenant.location_id}"' in page.text


def test_an_account_without_a_location_is_told_to_create_one(
    client: TestClient, container: Container
) -> None:
    with container.uow() as uow:
        now = uow.clock.now()
        account = Account(
            name="Bare",
            kyc_status=KycStatus.APPROVED,
            outbound_enabled=True,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(account)
        uow.session.flush()
        _key, api_key = create_api_key(uow.session, account_id=account.id, name="t", now=now)
        uow.commit()
    sign_in(client, Tenant(account_id=account.id, location_id=0, api_key=api_key))
    page = client.get("/app/workflows")
    assert page.status_code == 200
    assert "This account has no location yet" in page.text
    assert client.get("/app/workflows?location=999").status_code == 404


def test_new_workflow_offers_blank_and_the_five_templates(
    signed_in: TestClient, tenant: Tenant, ready: tuple[int, int]
) -> None:
    page = signed_in.get(f"/app/workflows/new?location={tenant.location_id}")
    assert page.status_code == 200
    for template in BY_KEY.values():
        assert str(escape(template.name)) in page.text
        assert str(escape(template.description.split(".")[0])) in page.text
    assert "Blank workflow" in page.text


def test_a_blank_workflow_with_an_error_keeps_what_was_typed(
    signed_in: TestClient, container: Container, tenant: Tenant, ready: tuple[int, int]
) -> None:
    agent_id, number_id = ready
    form = signed_in.get(f"/app/workflows/new?location={tenant.location_id}")
    data = {
        "location_id": str(tenant.location_id),
        "template": "blank",
        "name": "VIP recall",
        "agent_id": str(agent_id),
        "from_number_id": str(number_id),
        "trigger_kind": "contact_tag_added",
        "trigger_detail": "",
        "purpose": "lead_reactivation",
    }
    response = post_form(signed_in, form, "/app/workflows/new", data)
    assert response.status_code == 422
    assert re.search(r'id="new-trigger_detail-error">required: the tag', response.text)
    assert 'value="VIP recall"' in response.text
    with container.uow() as uow:
        assert uow.session.scalars(select(Workflow)).first() is None

    response = post_form(
        signed_in, response, "/app/workflows/new", {**data, "trigger_kind": "custom_event"}
    )
    assert response.status_code == 422
    assert 'id="new-trigger_kind-error"' in response.text

    response = post_form(
        signed_in, response, "/app/workflows/new", {**data, "trigger_kind": "appointment_no_show"}
    )
    assert response.status_code == 303
    workflow_id = int(response.headers["location"].rsplit("/", 1)[1])
    definition = stored(container, workflow_id).definition
    assert definition["trigger"] == {
        "kind": "appointment_no_show",
        "tag": None,
        "stage": None,
        "form_id": None,
        "event_name": None,
        "service_contains": None,
    }
    assert definition["steps"][0]["action_name"] == "VIP recall"
    assert definition["steps"][0]["agent_id"] == agent_id


def test_a_template_needs_an_agent_and_a_number(
    signed_in: TestClient, tenant: Tenant, ready: tuple[int, int]
) -> None:
    form = signed_in.get(f"/app/workflows/new?location={tenant.location_id}")
    response = post_form(
        signed_in,
        form,
        "/app/workflows/new",
        {"location_id": str(tenant.location_id), "template": CONFIRMATION, "agent_id": ""},
    )
    assert response.status_code == 422
    assert 'id="new-agent_id-error">AI Agent is required' in response.text


def test_saving_a_step_with_an_error_saves_nothing_and_shows_it_by_the_field(
    signed_in: TestClient, container: Container, tenant: Tenant, ready: tuple[int, int]
) -> None:
    agent_id, number_id = ready
    workflow_id = create_from_template(signed_in, tenant, agent_id, number_id)
    before = stored(container, workflow_id).definition
    editor = signed_in.get(f"/app/workflows/{workflow_id}?at=1&type=voice_ai_call")
    assert editor.status_code == 200
    call = {
        "revision": revision(editor),
        "type": "voice_ai_call",
        "at": "1",
        "action_name": "Call about the Botox touch-up",
        "agent_id": "",
        "from_number_id": str(number_id),
        "purpose": "appointment_confirmation",
    }
    response = post_form(signed_in, editor, f"/app/workflows/{workflow_id}/steps", call)
    assert response.status_code == 422
    assert re.search(
        r'<select id="step-agent_id" name="agent_id" required '
        r'aria-describedby="step-agent_id-error step-agent_id-hint" aria-invalid="true">',
        response.text,
    )
    assert 'id="step-agent_id-error">AI Agent is required</p>' in response.text
    assert 'value="Call about the Botox touch-up"' in response.text  # kept as typed
    assert f'<option value="{number_id}" selected>' in response.text
    assert stored(container, workflow_id).definition == before

    response = post_form(
        signed_in,
        response,
        f"/app/workflows/{workflow_id}/steps",
        {**call, "agent_id": str(agent_id)},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/app/workflows/{workflow_id}#step-1"
    steps = stored(container, workflow_id).definition["steps"]
    assert [s["type"] for s in steps] == ["wait", "voice_ai_call", "voice_ai_call", "branch"]
    assert steps[1]["action_name"] == "Call about the Botox touch-up"
    page = signed_in.get(f"/app/workflows/{workflow_id}")
    assert "Step 2 added: Voice AI Outbound Call." in page.text
    assert "Call about the Botox touch-up" in page.text


def test_a_form_over_a_changed_draft_is_refused(
    signed_in: TestClient, container: Container, tenant: Tenant, ready: tuple[int, int]
) -> None:
    workflow_id = create_from_template(signed_in, tenant, *ready)
    editor = signed_in.get(f"/app/workflows/{workflow_id}")
    response = post_form(
        signed_in,
        editor,
        f"/app/workflows/{workflow_id}/steps",
        {"revision": "0" * 16, "type": "add_tag", "at": "0", "tag": "VIP"},
    )
    assert response.status_code == 303
    assert len(stored(container, workflow_id).definition["steps"]) == 3
    page = signed_in.get(response.headers["location"])
    assert "changed elsewhere" in page.text


def test_the_other_actions_have_forms(
    signed_in: TestClient, container: Container, tenant: Tenant, ready: tuple[int, int]
) -> None:
    workflow_id = create_from_template(signed_in, tenant, *ready)
    url = f"/app/workflows/{workflow_id}/steps"

    def add(at: int, **fields: str) -> Response:
        editor = signed_in.get(f"/app/workflows/{workflow_id}")
        return post_form(
            signed_in, editor, url, {"revision": revision(editor), "at": str(at), **fields}
        )

    assert add(0, type="wait", until="duration", duration="2", duration_unit="days").is_redirect
    assert add(0, type="add_tag", tag="VIP").is_redirect
    assert add(0, type="add_note", body="Enrolled in confirmation calls").is_redirect
    assert add(0, type="create_task", title="Check the chart", due_in_hours="4").is_redirect
    assert add(0, type="move_opportunity", stage="Contacted").is_redirect
    steps = stored(container, workflow_id).definition["steps"]
    assert steps[0] == {"type": "move_opportunity", "stage": "Contacted"}
    assert steps[1]["title"] == "Check the chart"
    assert steps[1]["due_in_hours"] == 4
    assert steps[2] == {"type": "add_note", "body": "Enrolled in confirmation calls"}
    assert steps[3] == {"type": "add_tag", "tag": "VIP"}
    assert steps[4]["minutes"] == 2 * 24 * 60

    zero = add(0, type="wait", until="duration", duration="0", duration_unit="hours")
    assert zero.status_code == 422
    assert 'id="step-duration-error">a duration wait needs minutes &gt; 0' in zero.text
    unknown = add(0, type="remove_tag", tag="Nope")
    assert unknown.status_code == 422
    assert 'id="step-tag-error">unknown tag &#39;Nope&#39; (create it first)' in unknown.text

    # The saved wait reopens with its duration in days.
    form = signed_in.get(f"/app/workflows/{workflow_id}/step-form?step=4")
    assert 'value="2"' in form.text
    assert '<option value="days" selected>' in form.text


def test_editing_and_deleting_steps(
    signed_in: TestClient, container: Container, tenant: Tenant, ready: tuple[int, int]
) -> None:
    workflow_id = create_from_template(signed_in, tenant, *ready)
    editor = signed_in.get(f"/app/workflows/{workflow_id}?step=1")
    assert 'value="Call patient to confirm their appointment"' in editor.text
    response = post_form(
        signed_in,
        editor,
        f"/app/workflows/{workflow_id}/steps/1",
        {
            "revision": revision(editor),
            "type": "voice_ai_call",
            "action_name": "   ",
            "agent_id": str(ready[0]),
            "from_number_id": str(ready[1]),
            "purpose": "appointment_confirmation",
        },
    )
    assert response.status_code == 422
    assert 'id="step-action_name-error">Action Name is required' in response.text

    # Deleting the call would leave the branch without one: refused, nothing saved.
    response = post_form(
        signed_in,
        editor,
        f"/app/workflows/{workflow_id}/steps/1/delete",
        {"revision": revision(editor)},
    )
    assert response.status_code == 303
    page = signed_in.get(response.headers["location"])
    assert "Step 2 was not deleted" in page.text
    assert len(stored(container, workflow_id).definition["steps"]) == 3

    response = post_form(
        signed_in,
        editor,
        f"/app/workflows/{workflow_id}/steps/0/delete",
        {"revision": revision(editor)},
    )
    assert response.status_code == 303
    steps = stored(container, workflow_id).definition["steps"]
    assert [s["type"] for s in steps] == ["voice_ai_call", "branch"]

    editor = signed_in.get(f"/app/workflows/{workflow_id}")
    response = post_form(signed_in, editor, f"/app/workflows/{workflow_id}/name", {"name": " "})
    assert response.status_code == 422
    assert "Name is required" in response.text
    response = post_form(
        signed_in, editor, f"/app/workflows/{workflow_id}/name", {"name": "Confirm Botox"}
    )
    assert response.status_code == 303
    assert stored(container, workflow_id).name == "Confirm Botox"


def test_trigger_and_audience_forms(
    signed_in: TestClient, container: Container, tenant: Tenant, ready: tuple[int, int]
) -> None:
    workflow_id = create_from_template(signed_in, tenant, *ready, key="lead_reactivation")
    editor = signed_in.get(f"/app/workflows/{workflow_id}?section=trigger")
    assert '<option value="contact_tag_added" selected>' in editor.text
    response = post_form(
        signed_in,
        editor,
        f"/app/workflows/{workflow_id}/trigger",
        {"revision": revision(editor), "kind": "contact_tag_added", "tag": "Never made"},
    )
    assert response.status_code == 422
    assert 'id="trigger-tag-error">unknown tag &#39;Never made&#39;' in response.text

    editor = signed_in.get(f"/app/workflows/{workflow_id}?section=audience")
    response = post_form(
        signed_in,
        editor,
        f"/app/workflows/{workflow_id}/audience",
        {
            "revision": revision(editor),
            "has_tags": "Reactivate",
            "require_crm_form_consent": "on",
            "exclude_voice_dnd": "on",
            "last_contacted_more_than_days": "45",
            "test_mode": "on",
        },
    )
    assert response.status_code == 303
    definition = stored(container, workflow_id).definition
    assert definition["test_mode"] is True
    audience = definition["audience"]
    assert audience["has_tags"] == ["Reactivate"]
    assert audience["exclude_opt_out_tag"] is False
    assert audience["last_contacted_more_than_days"] == 45
    page = signed_in.get(f"/app/workflows/{workflow_id}")
    assert "Last contacted more than 45 days ago" in page.text
    assert "Test mode: only contacts tagged" in page.text


def test_the_picker_filters_as_you_type(
    signed_in: TestClient, tenant: Tenant, ready: tuple[int, int]
) -> None:
    workflow_id = create_from_template(signed_in, tenant, *ready)
    results = signed_in.get(f"/app/workflows/{workflow_id}/picker?at=1&q=voice&results=true")
    assert results.status_code == 200
    names = re.findall(r'class="picker__name">([^<]+)<', results.text)
    assert names == ["Voice AI Outbound Call"]
    everything = signed_in.get(f"/app/workflows/{workflow_id}/picker?at=1")
    assert len(re.findall(r'class="picker__name"', everything.text)) == 7
    nothing = signed_in.get(f"/app/workflows/{workflow_id}?at=1&q=fax")
    assert "No action matches “fax”." in nothing.text


def _consented_contacts(container: Container, tenant: Tenant, count: int) -> None:
    practice = Practice(container, account_id=tenant.account_id, location_id=tenant.location_id)
    for n in range(count):
        practice.add_contact(f"+1212555{3000 + n:04d}")


def test_publishing_a_large_audience_asks_to_confirm_after_the_forecast(
    signed_in: TestClient, container: Container, tenant: Tenant, ready: tuple[int, int]
) -> None:
    workflow_id = create_from_template(signed_in, tenant, *ready, key="lead_reactivation")
    _consented_contacts(container, tenant, 201)
    listing = signed_in.get("/app/workflows")
    response = post_form(
        signed_in,
        listing,
        f"/app/workflows/{workflow_id}/publish",
        {"return_to": "/app/workflows"},
    )
    assert response.status_code == 200
    assert "Its audience is <strong>201 contacts</strong>" in response.text
    assert 'id="forecast-audience">201<' in response.text
    assert 'name="confirm_audience" value="201"' in response.text
    assert stored(container, workflow_id).status is WorkflowStatus.DRAFT

    # A stale confirmation shows the new numbers instead of publishing.
    stale = post_form(
        signed_in,
        response,
        f"/app/workflows/{workflow_id}/publish",
        {"return_to": "/app/workflows", "confirm_audience": "150"},
    )
    assert stale.status_code == 200
    assert "The audience changed since the confirmation" in stale.text
    assert stored(container, workflow_id).status is WorkflowStatus.DRAFT

    confirmed = post_form(
        signed_in,
        response,
        f"/app/workflows/{workflow_id}/publish",
        {"return_to": "/app/workflows", "confirm_audience": "201"},
    )
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/app/workflows"
    assert stored(container, workflow_id).status is WorkflowStatus.PUBLISHED
    page = signed_in.get("/app/workflows")
    assert "is published (version 1); its audience is 201 contacts right now." in page.text
    assert 'role="switch" aria-checked="true"' in page.text


def test_unpublishing_says_how_many_calls_were_canceled(
    signed_in: TestClient, container: Container, tenant: Tenant, ready: tuple[int, int]
) -> None:
    workflow_id = create_from_template(signed_in, tenant, *ready, key="lead_reactivation")
    listing = signed_in.get("/app/workflows")
    assert post_form(signed_in, listing, f"/app/workflows/{workflow_id}/publish", {}).is_redirect
    practice = Practice(container, account_id=tenant.account_id, location_id=tenant.location_id)
    contacts = [practice.add_contact(f"+1212555{4000 + n:04d}") for n in range(2)]
    with container.uow() as uow:
        enqueue_calls(
            uow.session,
            account_id=tenant.account_id,
            requests=[
                CallRequest(
                    contact_id=c,
                    purpose=CallPurpose.LEAD_REACTIVATION,
                    agent_id=ready[0],
                    from_number_id=ready[1],
                    workflow_id=workflow_id,
                )
                for c in contacts
            ],
            now=uow.clock.now(),
        )
        uow.commit()
    listing = signed_in.get("/app/workflows")
    response = post_form(
        signed_in,
        listing,
        f"/app/workflows/{workflow_id}/unpublish",
        {"return_to": f"/app/workflows/{workflow_id}"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/app/workflows/{workflow_id}"
    assert FLASH_COOKIE in response.cookies
    page = signed_in.get(response.headers["location"])
    assert "is back to Draft: 2 queued or deferred calls were canceled." in page.text
    assert stored(container, workflow_id).status is WorkflowStatus.DRAFT


def test_the_forecast_panel_with_and_without_htmx(
    signed_in: TestClient, container: Container, tenant: Tenant, ready: tuple[int, int]
) -> None:
    workflow_id = create_from_template(signed_in, tenant, *ready, key="lead_reactivation")
    _consented_contacts(container, tenant, 3)
    editor = signed_in.get(f"/app/workflows/{workflow_id}")
    token = csrf_token(editor)
    fragment = signed_in.post(
        f"/app/workflows/{workflow_id}/forecast",
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'id="forecast-audience">3<' in fragment.text
    assert 'id="forecast-called">3<' in fragment.text
    whole = post_form(signed_in, editor, f"/app/workflows/{workflow_id}/forecast", {})
    assert whole.status_code == 200
    assert "<html" in whole.text
    assert 'id="forecast-called">3<' in whole.text


def test_another_accounts_workflow_is_not_found(
    client: TestClient,
    container: Container,
    tenant: Tenant,
    other_tenant: Tenant,
    ready: tuple[int, int],
) -> None:
    sign_in(client, tenant)
    workflow_id = create_from_template(client, tenant, *ready)
    client.cookies.clear()
    sign_in(client, other_tenant)
    assert client.get(f"/app/workflows/{workflow_id}").status_code == 404
    page = client.get("/app/workflows")
    response = post_form(client, page, f"/app/workflows/{workflow_id}/publish", {})
    assert response.status_code == 404
    assert stored(container, workflow_id).status is WorkflowStatus.DRAFT
