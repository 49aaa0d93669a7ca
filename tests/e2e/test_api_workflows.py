"""The workflow API over HTTP: field-named validation errors, the publish lifecycle, trigger
events and their re-entry rules, templates, the CRM actions a path runs after a call, and a
runner that crashes mid-run.

The runner and the dispatcher tick on the virtual clock (tests/e2e/workflow_practice.py);
nothing here waits on the wall clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response  # what the TestClient returns
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.calls import CallAction, CallTranscript
from ringfence.adapters.db.orm import Contact, Note, VoiceAgent
from ringfence.adapters.db.schema import metadata
from ringfence.adapters.db.workflows import Enrollment, WebhookDelivery, Workflow
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import ContactSource
from ringfence.services.dispatch_queries import defer_overflow
from ringfence.services.workflows.runner import WorkflowRunner
from ringfence.services.workflows.webhook_secrets import HIDDEN_SECRET
from ringfence.services.workflows.webhooks import deliver_due
from tests.conftest import Tenant
from tests.e2e.workflow_practice import WorkflowPractice

# Friday 27 Nov 2026, 13:00 in New York: inside the calling window.
FRIDAY_1PM = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
DAY = timedelta(days=1)
WEBHOOK_SECRET = "s3cret-s3cret-s3cret"


@pytest.fixture
def wp(
    client: TestClient, container: Container, clock: VirtualClock, tenant: Tenant
) -> WorkflowPractice:
    clock.set(FRIDAY_1PM)
    return WorkflowPractice(client, container, clock, tenant)


# --- helpers --------------------------------------------------------------------------------


def _call(wp: WorkflowPractice, **fields: Any) -> dict[str, Any]:
    return {
        "type": "voice_ai_call",
        "action_name": "Call patient about their visit",
        "agent_id": wp.agent_id,
        "from_number_id": wp.number_id,
        "purpose": "appointment_confirmation",
    } | fields


def _custom(name: str, *steps: dict[str, Any], **audience: Any) -> dict[str, Any]:
    return {
        "trigger": {"kind": "custom", "event_name": name},
        "audience": audience,
        "steps": list(steps),
    }


def _wait(minutes: int) -> dict[str, Any]:
    return {"type": "wait", "until": "duration", "minutes": minutes}


def _send(wp: WorkflowPractice, method: str, path: str, body: Any = None) -> Response:
    return wp.client.request(method, f"/api/v1{path}", json=body, headers=wp.tenant.headers)


def _create(wp: WorkflowPractice, definition: dict[str, Any]) -> Response:
    body = {"name": "W", "location_id": wp.tenant.location_id, "definition": definition}
    return _send(wp, "POST", "/workflows", body)


def _field_error(response: Response) -> tuple[list[str], str]:
    assert response.status_code == 422, response.text
    [detail] = response.json()["detail"][:1]
    return [str(part) for part in detail["loc"]], str(detail["msg"])


def _row_counts(container: Container) -> dict[str, int]:
    with container.engine.connect() as conn:
        return {
            table.name: int(conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }


def _event(
    wp: WorkflowPractice, event_id: str, kind: str, contact_id: int, **fields: Any
) -> Response:
    body = {"event_id": event_id, "type": kind, "contact_id": contact_id} | fields
    return _send(wp, "POST", "/events", body)


def _enrollments(wp: WorkflowPractice, workflow_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = wp.get(f"/workflows/{workflow_id}/enrollments")["items"]
    return sorted(items, key=lambda e: e["id"])


def _version_ids(wp: WorkflowPractice, workflow_id: int) -> list[int]:
    with wp.container.uow() as uow:
        return list(
            uow.session.scalars(
                select(Enrollment.version_id)
                .where(Enrollment.workflow_id == workflow_id)
                .order_by(Enrollment.id)
            )
        )


def _second_location(wp: WorkflowPractice) -> tuple[int, int, int]:
    """Another location of the same account with its own caller ID and agent."""
    location = wp.post("/locations", {"name": "Uptown", "time_zone": "America/New_York"})
    number = wp.post("/phone-numbers", {"location_id": location["id"], "e164": "+12125550188"})
    agent = wp.post(
        "/voice-agents",
        {
            "location_id": location["id"],
            "name": "Uptown desk",
            "practice_name": "Glow",
            "callback_number": "+12125550188",
        },
    )
    return int(location["id"]), int(number["id"]), int(agent["id"])


# --- invalid action configurations ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("action_name", "Action Name"),
        ("agent_id", "AI Agent"),
        ("from_number_id", "From Phone Number"),
    ],
)
def test_each_required_field_of_the_call_action_is_a_field_error(
    wp: WorkflowPractice, field: str, label: str
) -> None:
    before = _row_counts(wp.container)
    call = _call(wp)
    del call[field]
    loc, message = _field_error(_create(wp, _custom("go", _wait(60), call)))
    assert loc == ["body", "definition", "steps[1]", field]
    assert message == f"{label} is required"
    # An editor's empty field (null) is the same error.
    loc, message = _field_error(_create(wp, _custom("go", _wait(60), call | {field: None})))
    assert (loc[-1], message) == (field, f"{label} is required")
    assert _row_counts(wp.container) == before


def test_agent_and_number_must_belong_to_the_workflows_location(wp: WorkflowPractice) -> None:
    _location, their_number, their_agent = _second_location(wp)
    before = _row_counts(wp.container)

    loc, message = _field_error(_create(wp, _custom("go", _call(wp, agent_id=their_agent))))
    assert loc == ["body", "definition", "steps[0]", "agent_id"]
    assert message == "AI Agent: the agent belongs to another location"

    wrong_number = _custom("go", _call(wp, from_number_id=their_number))
    loc, message = _field_error(_create(wp, wrong_number))
    assert loc == ["body", "definition", "steps[0]", "from_number_id"]
    assert message == "From Phone Number: +12125550188 belongs to another location"

    # Inside a branch's otherwise path, the error names that path.
    nested = _custom(
        "go",
        _call(wp),
        {
            "type": "branch",
            "cases": [{"when": ["voicemail"], "steps": []}],
            "otherwise": [_call(wp, from_number_id=their_number)],
        },
    )
    loc, _message = _field_error(_create(wp, nested))
    assert loc == ["body", "definition", "steps[1]", "otherwise[0]", "from_number_id"]
    assert _row_counts(wp.container) == before


def test_another_accounts_agent_and_number_do_not_exist(
    wp: WorkflowPractice, other_tenant: Tenant
) -> None:
    h = other_tenant.headers
    their_agent = wp.client.post(
        "/api/v1/voice-agents",
        json={
            "location_id": other_tenant.location_id,
            "name": "Rival",
            "practice_name": "Rival Derm",
            "callback_number": "+13105550123",
        },
        headers=h,
    ).json()["id"]
    their_number = wp.client.post(
        "/api/v1/phone-numbers",
        json={"location_id": other_tenant.location_id, "e164": "+13105550123"},
        headers=h,
    ).json()["id"]
    before = _row_counts(wp.container)
    loc, message = _field_error(_create(wp, _custom("go", _call(wp, agent_id=their_agent))))
    assert (loc[-1], message) == ("agent_id", f"AI Agent: no such agent ({their_agent})")
    loc, message = _field_error(_create(wp, _custom("go", _call(wp, from_number_id=their_number))))
    assert loc[-1] == "from_number_id"
    assert message.startswith(f"From Phone Number: no such number ({their_number}): ")
    assert _row_counts(wp.container) == before


def test_an_agent_that_cannot_open_an_outbound_call_is_refused(wp: WorkflowPractice) -> None:
    draft = wp.workflow(_custom("go", _call(wp)), publish=False)
    # Saved before a guardrail tightened (the API refuses such an opening today).
    with wp.container.uow() as uow:
        agent = uow.session.get(VoiceAgent, wp.agent_id)
        assert agent is not None
        agent.outbound_opening = "Hello! Do you have a minute?"
        uow.commit()
    before = _row_counts(wp.container)
    loc, message = _field_error(_create(wp, _custom("go", _call(wp))))
    assert loc == ["body", "definition", "steps[0]", "agent_id"]
    assert message.startswith("AI Agent 'Desk' cannot place outbound calls yet: outbound_opening")
    # Publishing checks the draft again, against the agent as it is now.
    published = _send(wp, "POST", f"/workflows/{draft}/publish", {})
    assert _field_error(published) == (loc, message)
    assert _row_counts(wp.container) == before
    assert wp.get(f"/workflows/{draft}")["status"] == "draft"


def test_unknown_tags_in_filters_and_triggers_are_field_errors(wp: WorkflowPractice) -> None:
    wp.post("/tags", {"name": "VIP"})
    before = _row_counts(wp.container)
    cases = [
        (_custom("go", _call(wp), has_tags=["VIP", "Nope"]), ["audience", "has_tags[1]"]),
        (_custom("go", _call(wp), lacks_tags=["Nope"]), ["audience", "lacks_tags[0]"]),
        (
            {"trigger": {"kind": "contact_tag_added", "tag": "Nope"}, "steps": [_call(wp)]},
            ["trigger", "tag"],
        ),
        (_custom("go", {"type": "remove_tag", "tag": "Nope"}), ["steps[0]", "tag"]),
    ]
    for definition, field in cases:
        loc, message = _field_error(_create(wp, definition))
        assert loc == ["body", "definition", *field]
        assert message == "unknown tag 'Nope' (create it first)"
    assert _row_counts(wp.container) == before
    # Add-tag steps may name a new tag: it is created when the workflow is published.
    created = _create(wp, _custom("go", {"type": "add_tag", "tag": "Brand New"}))
    assert created.status_code == 201, created.text


def test_an_edit_is_validated_like_a_create(wp: WorkflowPractice) -> None:
    workflow_id = wp.workflow(_custom("go", _call(wp)), publish=False)
    before = _row_counts(wp.container)
    broken = _call(wp)
    del broken["action_name"]
    response = _send(
        wp, "PATCH", f"/workflows/{workflow_id}", {"definition": _custom("go", broken)}
    )
    loc, message = _field_error(response)
    assert loc == ["body", "definition", "steps[0]", "action_name"]
    assert message == "Action Name is required"
    assert _row_counts(wp.container) == before
    assert wp.get(f"/workflows/{workflow_id}")["definition"]["steps"][0]["action_name"]


# --- publish, edit, unpublish, delete ---------------------------------------------------------


def test_publish_edit_republish_unpublish_and_delete(wp: WorkflowPractice) -> None:
    contact = wp.practice.add_contact("+12125550131")
    definition = _custom("go", _wait(60 * 24), _call(wp))
    workflow_id = wp.workflow(definition, publish=False)
    draft = wp.get(f"/workflows/{workflow_id}")
    assert (draft["status"], draft["published_version_id"]) == ("draft", None)
    assert draft["has_unpublished_changes"] is True

    published = wp.post(f"/workflows/{workflow_id}/publish", {}, status=200)
    assert published == {"status": "published", "version": 1, "audience": 1}
    published_version = wp.get(f"/workflows/{workflow_id}")["published_version_id"]
    assert wp.get(f"/workflows/{workflow_id}")["has_unpublished_changes"] is False
    [first] = wp.post(
        "/events", {"event_id": "a", "type": "custom", "contact_id": contact, "name": "go"}
    )["enrollment_ids"]

    # Editing changes the draft only: the published version keeps running and enrolling.
    edited = _custom("go", _wait(60 * 24), _call(wp, action_name="Call them, edited"))
    out = wp.patch(f"/workflows/{workflow_id}", {"definition": edited})
    assert (out["status"], out["has_unpublished_changes"]) == ("published", True)
    assert out["published_version_id"] == published_version
    other = wp.practice.add_contact("+12125550132")
    [second] = _event(wp, "b", "custom", other, name="go").json()["enrollment_ids"]
    # Renaming is no definition change; saving the published definition again undoes the edit.
    assert wp.patch(f"/workflows/{workflow_id}", {"name": "Renamed"})["has_unpublished_changes"]
    back = wp.patch(f"/workflows/{workflow_id}", {"definition": definition})
    assert back["has_unpublished_changes"] is False
    wp.patch(f"/workflows/{workflow_id}", {"definition": edited})

    republished = wp.post(f"/workflows/{workflow_id}/publish", {}, status=200)
    assert republished["version"] == 2
    assert wp.get(f"/workflows/{workflow_id}")["has_unpublished_changes"] is False
    third = wp.practice.add_contact("+12125550133")
    _event(wp, "c", "custom", third, name="go")
    v1, v1_again, v2 = _version_ids(wp, workflow_id)
    assert v1 == v1_again == published_version != v2
    assert first < second

    # Each enrollment dials the action of the version it started on.
    wp.clock.advance(DAY)
    wp.runner.run_due()
    names = {job.contact_id: job.action_name for job in wp.jobs()}
    assert names == {
        contact: "Call patient about their visit",
        other: "Call patient about their visit",
        third: "Call them, edited",
    }

    refused = _send(wp, "DELETE", f"/workflows/{workflow_id}")
    assert refused.status_code == 409
    assert "unpublish" in refused.json()["detail"]
    unpublished = wp.post(f"/workflows/{workflow_id}/unpublish", status=200)
    assert unpublished == {"status": "draft", "calls_canceled": 3}
    assert {e["state"] for e in _enrollments(wp, workflow_id)} == {"exited"}
    assert _send(wp, "DELETE", f"/workflows/{workflow_id}").status_code == 204
    assert _send(wp, "GET", f"/workflows/{workflow_id}").status_code == 404


def _bulk_contacts(wp: WorkflowPractice, count: int, location_id: int, first: int) -> None:
    with wp.container.uow() as uow:
        now = uow.clock.now()
        uow.session.add_all(
            Contact(
                account_id=wp.tenant.account_id,
                location_id=location_id,
                first_name=f"P{i}",
                last_name="Bulk",
                source=ContactSource.FORM,
                phone_e164=f"+1212555{i:04d}",
                created_at=now,
                updated_at=now,
            )
            for i in range(first, first + count)
        )
        uow.commit()


def test_a_large_audience_needs_its_size_confirmed(wp: WorkflowPractice) -> None:
    location, _number, _agent = _second_location(wp)
    _bulk_contacts(wp, 201, wp.tenant.location_id, 2000)
    _bulk_contacts(wp, 5, location, 3000)  # another location's contacts never count
    loose = _custom("go", _call(wp), require_crm_form_consent=False)
    workflow_id = wp.workflow(loose, publish=False)

    refused = _send(wp, "POST", f"/workflows/{workflow_id}/publish", {})
    assert refused.status_code == 409
    assert refused.json()["audience"] == 201
    assert refused.json()["confirm"] == "confirm_audience"
    assert wp.get(f"/workflows/{workflow_id}")["status"] == "draft"
    no_body = _send(wp, "POST", f"/workflows/{workflow_id}/publish")
    assert no_body.status_code == 409

    loc, message = _field_error(
        _send(wp, "POST", f"/workflows/{workflow_id}/publish", {"confirm_audience": 200})
    )
    assert loc == ["body", "confirm_audience"]
    assert "201" in message
    assert wp.get(f"/workflows/{workflow_id}")["status"] == "draft"

    confirmed = wp.post(f"/workflows/{workflow_id}/publish", {"confirm_audience": 201}, status=200)
    assert confirmed == {"status": "published", "version": 1, "audience": 201}

    # The default audience (CRM-form opt-in) admits none of them: no confirmation needed.
    strict = wp.workflow(_custom("go", _call(wp)), publish=False)
    assert wp.post(f"/workflows/{strict}/publish", {}, status=200)["audience"] == 0


# --- templates ---------------------------------------------------------------------------------


def test_every_template_creates_a_valid_draft_that_publishes(wp: WorkflowPractice) -> None:
    templates = wp.get("/workflow-templates")
    assert len(templates) == 5
    for template in templates:
        created = wp.post(
            "/workflows/from-template",
            {
                "template": template["key"],
                "location_id": wp.tenant.location_id,
                "agent_id": wp.agent_id,
                "from_number_id": wp.number_id,
            },
        )
        assert (created["status"], created["name"]) == ("draft", template["name"])
        [call] = [s for s in created["definition"]["steps"] if s["type"] == "voice_ai_call"]
        assert (call["agent_id"], call["from_number_id"]) == (wp.agent_id, wp.number_id)
        assert call["purpose"] == template["purpose"]
        published = wp.post(f"/workflows/{created['id']}/publish", {}, status=200)
        assert (published["status"], published["version"]) == ("published", 1)
    unknown = _send(
        wp,
        "POST",
        "/workflows/from-template",
        {
            "template": "cold_calls",
            "location_id": wp.tenant.location_id,
            "agent_id": wp.agent_id,
            "from_number_id": wp.number_id,
        },
    )
    assert _field_error(unknown)[0] == ["body", "template"]


# --- trigger events ------------------------------------------------------------------------------


def test_events_are_idempotent_by_event_id(wp: WorkflowPractice, other_tenant: Tenant) -> None:
    workflow_id = wp.workflow(_custom("quiz_done", _wait(60), _call(wp)))
    contact = wp.practice.add_contact("+12125550131")
    first = _event(wp, "evt-1", "custom", contact, name="quiz_done")
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["event_id"], body["duplicate"], body["skipped"]) == ("evt-1", False, [])
    [enrollment_id] = body["enrollment_ids"]

    again = _event(wp, "evt-1", "custom", contact, name="quiz_done")
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True
    assert again.json()["enrollment_ids"] == [enrollment_id]
    assert [e["id"] for e in _enrollments(wp, workflow_id)] == [enrollment_id]

    # Event ids are per account: another tenant's "evt-1" is a new event.
    theirs = wp.client.post(
        "/api/v1/contacts",
        json={"location_id": other_tenant.location_id, "first_name": "Rita"},
        headers=other_tenant.headers,
    ).json()["id"]
    response = wp.client.post(
        "/api/v1/events",
        json={"event_id": "evt-1", "type": "custom", "contact_id": theirs, "name": "quiz_done"},
        headers=other_tenant.headers,
    )
    assert (response.status_code, response.json()["duplicate"]) == (201, False)


def test_events_about_unknown_records_are_field_errors(
    wp: WorkflowPractice, other_tenant: Tenant
) -> None:
    wp.workflow({"trigger": {"kind": "appointment_scheduled"}, "steps": [_call(wp)]})
    contact = wp.practice.add_contact("+12125550131")
    someone_else = wp.practice.add_contact("+12125550132")
    their_appointment = wp.appointment(someone_else, FRIDAY_1PM + 3 * DAY)
    their_opportunity = wp.post(
        "/opportunities", {"contact_id": someone_else, "name": "Filler", "stage": "New"}
    )["id"]
    foreign_contact = wp.client.post(
        "/api/v1/contacts",
        json={"location_id": other_tenant.location_id, "first_name": "Rita"},
        headers=other_tenant.headers,
    ).json()["id"]
    before = _row_counts(wp.container)
    cases = [
        (_event(wp, "x1", "custom", 999_999, name="go"), "contact_id"),
        (_event(wp, "x2", "custom", foreign_contact, name="go"), "contact_id"),
        (
            _event(wp, "x3", "appointment_scheduled", contact, appointment_id=their_appointment),
            "appointment_id",
        ),
        (
            _event(wp, "x4", "appointment_scheduled", contact, appointment_id=999_999),
            "appointment_id",
        ),
        (
            _event(
                wp,
                "x5",
                "opportunity_stage_changed",
                contact,
                stage="New",
                opportunity_id=their_opportunity,
            ),
            "opportunity_id",
        ),
        (_event(wp, "x6", "appointment_no_show", contact), "appointment_id"),
        (_event(wp, "x7", "form_submitted", contact, form_id=999_999), "form_id"),
    ]
    for response, field in cases:
        loc, message = _field_error(response)
        assert loc == ["body", field], response.text
        assert message.startswith(("no such", "required for an event of kind appointment_no_show"))
    assert _row_counts(wp.container) == before


def test_skipped_workflows_are_listed_with_every_reason(wp: WorkflowPractice) -> None:
    wp.post("/tags", {"name": "VIP"})
    open_to_all = wp.workflow(_custom("go", _call(wp)))
    vip_only = wp.workflow(
        _custom("go", _call(wp), has_tags=["VIP"], opportunity_stages=["Quoted"])
    )
    other_event = wp.workflow(_custom("something_else", _call(wp)))
    contact = wp.practice.add_contact("+12125550131")
    body = _event(wp, "e1", "custom", contact, name="go").json()
    [enrolled] = body["enrollment_ids"]
    assert [e["id"] for e in _enrollments(wp, open_to_all)] == [enrolled]
    assert body["skipped"] == [
        {
            "workflow_id": vip_only,
            "reasons": ["lacks tag 'VIP'", "no opportunity in stage 'Quoted'"],
        }
    ]
    assert _enrollments(wp, other_event) == []  # the event name did not match: not even skipped

    no_consent = wp.practice.add_contact("+12125550132", consent=False)
    body = _event(wp, "e2", "custom", no_consent, name="go").json()
    assert body["enrollment_ids"] == []
    reasons = {s["workflow_id"]: s["reasons"] for s in body["skipped"]}
    assert reasons[open_to_all] == ["no opt-in through a CRM-hosted form"]
    assert reasons[vip_only][0] == "lacks tag 'VIP'"


def test_trigger_tags_and_stages_narrow_which_workflows_start(wp: WorkflowPractice) -> None:
    for name in ("VIP", "Botox"):
        wp.post("/tags", {"name": name})
    vip = wp.workflow(
        {"trigger": {"kind": "contact_tag_added", "tag": "VIP"}, "steps": [_wait(60)]}
    )
    quoted = wp.workflow(
        {"trigger": {"kind": "opportunity_stage_changed", "stage": "Quoted"}, "steps": [_wait(60)]}
    )
    contact = wp.practice.add_contact("+12125550131")
    assert (
        _event(wp, "t1", "contact_tag_added", contact, tag="Botox").json()["enrollment_ids"] == []
    )
    [by_event] = _event(wp, "t2", "contact_tag_added", contact, tag="VIP").json()["enrollment_ids"]
    assert [e["id"] for e in _enrollments(wp, vip)] == [by_event]

    # The CRM's own changes are events too: tagging through the API, moving an opportunity.
    other = wp.practice.add_contact("+12125550132")
    wp.patch(f"/contacts/{other}", {"tags": ["Botox"]})
    assert [e["contact_id"] for e in _enrollments(wp, vip)] == [contact]
    wp.patch(f"/contacts/{other}", {"tags": ["Botox", "VIP"]})
    assert [e["contact_id"] for e in _enrollments(wp, vip)] == [contact, other]

    opportunity = wp.post(
        "/opportunities", {"contact_id": contact, "name": "Filler", "stage": "New"}
    )
    wp.patch(f"/opportunities/{opportunity['id']}", {"stage": "Consult"})
    assert _enrollments(wp, quoted) == []
    wp.patch(f"/opportunities/{opportunity['id']}", {"stage": "Quoted"})
    [enrollment] = _enrollments(wp, quoted)
    assert enrollment["opportunity_id"] == opportunity["id"]


def test_a_contact_running_a_subjectless_workflow_is_not_enrolled_twice(
    wp: WorkflowPractice,
) -> None:
    workflow_id = wp.workflow(_custom("go", _wait(60), {"type": "add_note", "body": "Done"}))
    contact = wp.practice.add_contact("+12125550131")
    [first] = _event(wp, "r1", "custom", contact, name="go").json()["enrollment_ids"]
    wp.runner.run_due()  # now waiting
    second = _event(wp, "r2", "custom", contact, name="go").json()
    assert second["enrollment_ids"] == []
    assert second["skipped"] == [
        {"workflow_id": workflow_id, "reasons": ["already running this workflow"]}
    ]
    wp.clock.advance(timedelta(minutes=61))
    wp.runner.run_due()
    assert [e["state"] for e in _enrollments(wp, workflow_id)] == ["completed"]
    # Once it has finished, the next event starts it again.
    [third] = _event(wp, "r3", "custom", contact, name="go").json()["enrollment_ids"]
    assert [e["id"] for e in _enrollments(wp, workflow_id)] == [first, third]


def test_an_appointment_event_supersedes_only_that_appointments_enrollment(
    wp: WorkflowPractice,
) -> None:
    workflow_id = wp.workflow(
        {"trigger": {"kind": "appointment_scheduled"}, "steps": [_wait(60 * 24), _call(wp)]}
    )
    contact = wp.practice.add_contact("+12125550131")
    botox = wp.appointment(contact, FRIDAY_1PM + 5 * DAY)  # booking is an event already
    filler = wp.appointment(contact, FRIDAY_1PM + 6 * DAY)
    wp.runner.run_due()
    by_appointment = {e["appointment_id"]: e for e in _enrollments(wp, workflow_id)}
    assert set(by_appointment) == {botox, filler}

    resent = _event(wp, "resend", "appointment_scheduled", contact, appointment_id=botox).json()
    [new] = resent["enrollment_ids"]
    after = {e["id"]: e for e in _enrollments(wp, workflow_id)}
    old = after[by_appointment[botox]["id"]]
    assert (old["state"], old["exit_reason"]) == ("exited", "superseded by event 'resend'")
    assert after[by_appointment[filler]["id"]]["state"] == "waiting"
    assert (after[new]["state"], after[new]["appointment_id"]) == ("active", botox)


def test_an_opportunity_event_supersedes_only_that_opportunitys_enrollment(
    wp: WorkflowPractice,
) -> None:
    workflow_id = wp.workflow(
        {
            "trigger": {"kind": "opportunity_stage_changed", "stage": "Quoted"},
            "steps": [_wait(60 * 24), _call(wp)],
        }
    )
    contact = wp.practice.add_contact("+12125550131")
    one, two = (
        wp.post("/opportunities", {"contact_id": contact, "name": n, "stage": "New"})["id"]
        for n in ("Filler", "Laser")
    )
    ids = []
    for event_id, opportunity in (("o1", one), ("o2", two), ("o3", one)):
        response = _event(
            wp,
            event_id,
            "opportunity_stage_changed",
            contact,
            stage="Quoted",
            opportunity_id=opportunity,
        )
        ids += response.json()["enrollment_ids"]
    states = {e["id"]: (e["opportunity_id"], e["state"]) for e in _enrollments(wp, workflow_id)}
    assert states == {ids[0]: (one, "exited"), ids[1]: (two, "active"), ids[2]: (one, "active")}


# --- actions after a call --------------------------------------------------------------------

WEBHOOK_URL = "https://crm.example.com/hooks/ringfence"


def _after_call_actions() -> list[dict[str, Any]]:
    return [
        {"type": "add_tag", "tag": "Followed Up"},
        {"type": "remove_tag", "tag": "Cold Lead"},
        {
            "type": "create_task",
            "title": "Send the filler price list",
            "assignee": "Dana (front desk)",
            "due_in_hours": 4,
            "priority": "urgent",
        },
        {"type": "move_opportunity", "stage": "Contacted"},
        {"type": "add_note", "body": "Reached by Voice AI."},
        {"type": "send_webhook", "url": WEBHOOK_URL, "secret": WEBHOOK_SECRET},
    ]


def _finish_calls(wp: WorkflowPractice) -> None:
    """Enqueue, dial, let the sandbox call end, and run what follows it."""
    wp.tick()
    wp.clock.advance(timedelta(minutes=5))
    wp.tick()
    wp.runner.run_due()


def test_actions_after_a_call_change_the_crm_and_are_logged_on_the_call(
    wp: WorkflowPractice,
) -> None:
    wp.post("/tags", {"name": "Cold Lead"})
    follow_up = wp.workflow(
        _custom(
            "consult_done",
            _call(wp, purpose="consult_follow_up"),
            {
                "type": "branch",
                "cases": [{"when": ["connected"], "steps": _after_call_actions()}],
            },
        )
    )
    # Another workflow starts when the opportunity reaches "Contacted" (the move step's event).
    watcher = wp.workflow(
        {
            "trigger": {"kind": "opportunity_stage_changed", "stage": "Contacted"},
            "steps": [{"type": "add_tag", "tag": "Stage Watched"}],
        }
    )
    contact = wp.practice.add_contact("+12125550100", first_name="Jane")  # answers
    wp.patch(f"/contacts/{contact}", {"tags": ["Cold Lead"]})
    opportunity = wp.post(
        "/opportunities", {"contact_id": contact, "name": "Filler", "stage": "Consult done"}
    )["id"]
    _event(wp, "c1", "custom", contact, name="consult_done")

    _finish_calls(wp)

    [job] = wp.jobs(contact)
    assert (job.status.value, job.outcome and job.outcome.value) == ("completed", "connected")
    [enrollment] = _enrollments(wp, follow_up)
    assert enrollment["state"] == "completed"
    ran_at = datetime.fromisoformat(enrollment["ended_at"])

    tags = wp.get(f"/contacts/{contact}")["tags"]
    assert "Followed Up" in tags
    assert "Cold Lead" not in tags
    tasks = wp.get(f"/tasks?contact_id={contact}")["items"]
    [task] = [t for t in tasks if t["title"] == "Send the filler price list"]
    assert (task["title"], task["assignee"], task["priority"]) == (
        "Send the filler price list",
        "Dana (front desk)",
        "urgent",
    )
    assert datetime.fromisoformat(task["due_at"]) == ran_at + timedelta(hours=4)
    assert wp.get(f"/opportunities/{opportunity}")["stage"] == "Contacted"
    [note] = wp.get(f"/notes?contact_id={contact}")["items"]
    assert note["body"] == "Reached by Voice AI."

    # The stage change started the other workflow, about the same opportunity.
    [watched] = _enrollments(wp, watcher)
    assert (watched["opportunity_id"], watched["state"]) == (opportunity, "completed")
    assert "Stage Watched" in wp.get(f"/contacts/{contact}")["tags"]

    # Every action of the path after the call is one of the call's "Actions Triggered"
    # (the watcher's tag is not: no call of its own came before it).
    actions = wp.call_actions(job.id)
    from_the_path = [
        ("tag_applied", "Followed Up"),
        ("tag_removed", "Cold Lead"),
        ("task_created", "urgent: Send the filler price list"),
        ("opportunity_moved", "Consult done → Contacted"),
        ("note_added", "Reached by Voice AI."),
        # The host only: a webhook URL's path or query may carry the receiver's token.
        ("webhook_sent", urlsplit(WEBHOOK_URL).hostname),
    ]
    assert actions[-len(from_the_path) :] == from_the_path
    assert ("tag_applied", "Stage Watched") not in actions


def test_the_webhook_is_signed_and_carries_no_transcript(wp: WorkflowPractice) -> None:
    wp.workflow(
        _custom(
            "consult_done",
            _call(wp, purpose="consult_follow_up"),
            {"type": "send_webhook", "url": WEBHOOK_URL, "secret": WEBHOOK_SECRET},
        )
    )
    contact = wp.practice.add_contact("+12125550100", first_name="Jane")
    _event(wp, "c1", "custom", contact, name="consult_done")
    _finish_calls(wp)

    [job] = wp.jobs(contact)
    with wp.container.uow() as uow:
        [delivery] = uow.session.scalars(select(WebhookDelivery))
        transcript = uow.session.scalars(
            select(CallTranscript).where(CallTranscript.job_id == job.id)
        ).one()
        said = [str(turn["text"]) for turn in transcript.turns]
        delivery_id, body, signature = delivery.id, delivery.body, delivery.signature
        assert (delivery.call_job_id, delivery.url) == (job.id, WEBHOOK_URL)
    expected = hmac.new(WEBHOOK_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"

    payload = json.loads(body)
    assert set(payload) == {
        "type",
        "workflow",
        "enrollment_id",
        "contact_id",
        "call",
        "sent_at",
    }
    assert payload["contact_id"] == contact
    assert payload["call"]["id"] == job.id
    assert payload["call"]["outcome"] == "connected"
    assert said, "the connected call has a transcript"
    for text in said:
        assert text not in body
    assert "transcript" not in body.lower()

    # Delivered as stored: the receiver can verify the signature over the raw body.
    received: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(receiver)) as client:
        report = deliver_due(wp.container.session_factory, wp.clock, client)
    assert report.delivered == 1
    [request] = received
    assert str(request.url) == WEBHOOK_URL
    assert request.content == body.encode()
    digest = hmac.new(WEBHOOK_SECRET.encode(), request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Ringfence-Signature"] == f"sha256={digest}"
    assert request.headers["X-Ringfence-Delivery"] == str(delivery_id)


def test_actions_without_a_call_before_them_are_not_logged_on_any_call(
    wp: WorkflowPractice,
) -> None:
    wp.workflow(
        _custom("go", {"type": "add_tag", "tag": "Touched"}, {"type": "add_note", "body": "x"})
    )
    contact = wp.practice.add_contact("+12125550131")
    _event(wp, "g1", "custom", contact, name="go")
    wp.runner.run_due()
    assert "Touched" in wp.get(f"/contacts/{contact}")["tags"]
    with wp.container.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CallAction)) == 0


# --- a worker that crashes mid-run ----------------------------------------------------------------


def test_a_new_runner_carries_on_where_the_last_one_stopped(wp: WorkflowPractice) -> None:
    workflow_id = wp.workflow(
        _custom(
            "go",
            {"type": "add_tag", "tag": "Step One"},
            _wait(60),
            {"type": "add_note", "body": "Step two"},
        )
    )
    contact = wp.practice.add_contact("+12125550131")
    _event(wp, "w1", "custom", contact, name="go")
    first_worker = WorkflowRunner(wp.container.session_factory, wp.clock)
    assert first_worker.run_due().advanced == 1
    [waiting] = _enrollments(wp, workflow_id)
    assert (waiting["state"], waiting["cursor"]) == ("waiting", [1])
    del first_worker  # the process died while the enrollment waited

    wp.clock.advance(timedelta(minutes=60))
    second_worker = WorkflowRunner(wp.container.session_factory, wp.clock)
    report = second_worker.run_due()
    assert (report.advanced, report.completed, report.errors) == (1, 1, [])
    [done] = _enrollments(wp, workflow_id)
    assert done["state"] == "completed"
    assert [n["body"] for n in wp.get(f"/notes?contact_id={contact}")["items"]] == ["Step two"]
    assert wp.get(f"/contacts/{contact}")["tags"] == ["Step One"]


class WorkerCrash(Exception):
    pass


@pytest.fixture
def crashing_sessions(container: Container) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test database whose flush dies when a note with the body "boom" is
    written: a worker crashing in the middle of a step, after the step's first writes."""
    factory = sessionmaker(bind=container.engine, expire_on_commit=False, autoflush=True)

    def crash(session: Session, _context: object, _instances: object) -> None:
        if any(isinstance(row, Note) and row.body == "boom" for row in session.new):
            raise WorkerCrash("worker died mid-step")

    event.listen(factory, "before_flush", crash)
    yield factory
    event.remove(factory, "before_flush", crash)


def test_a_crash_inside_a_step_rolls_back_to_the_last_committed_step(
    wp: WorkflowPractice, crashing_sessions: sessionmaker[Session]
) -> None:
    steps = [{"type": "add_tag", "tag": "Step One"}, {"type": "add_note", "body": "boom"}]
    crashing_workflow = wp.workflow(_custom("crash", _wait(60), *steps))
    healthy_workflow = wp.workflow(_custom("fine", _wait(60), *steps[:1]))
    unlucky = wp.practice.add_contact("+12125550131")
    lucky = wp.practice.add_contact("+12125550132")
    _event(wp, "k1", "custom", unlucky, name="crash")
    _event(wp, "k2", "custom", lucky, name="fine")
    wp.runner.run_due()
    wp.clock.advance(timedelta(minutes=60))

    report = WorkflowRunner(crashing_sessions, wp.clock).run_due()

    # The crash is reported and the other enrollment still advanced.
    [error] = report.errors
    assert "worker died mid-step" in error
    assert [e["state"] for e in _enrollments(wp, healthy_workflow)] == ["completed"]
    assert wp.get(f"/contacts/{lucky}")["tags"] == ["Step One"]
    # The crashed enrollment is where its last committed step left it: past the wait's
    # start, before the tag; the tag written before the crash was rolled back.
    [stuck] = _enrollments(wp, crashing_workflow)
    assert (stuck["state"], stuck["cursor"]) == ("waiting", [0])
    assert wp.get(f"/contacts/{unlucky}")["tags"] == []
    steps_logged = wp.get(f"/workflow-enrollments/{stuck['id']}")["steps"]
    assert [s["step_type"] for s in steps_logged] == ["trigger", "wait"]

    # A healthy worker finishes it, running each step exactly once.
    with wp.container.uow() as uow:
        note = uow.session.scalars(select(Note)).first()
        assert note is None
    report = WorkflowRunner(wp.container.session_factory, wp.clock).run_due()
    assert (report.completed, report.errors) == (1, [])
    [done] = _enrollments(wp, crashing_workflow)
    assert done["state"] == "completed"
    assert wp.get(f"/contacts/{unlucky}")["tags"] == ["Step One"]
    assert [n["body"] for n in wp.get(f"/notes?contact_id={unlucky}")["items"]] == ["boom"]


# --- branches on how the call ended ------------------------------------------------------------

# Friday 27 Nov 2026, 19:00 in New York: after the calling window.
FRIDAY_7PM = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
# Sunday 29 Nov 2026, 14:00 in New York.
SUNDAY_2PM = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)


def _noting_branch() -> dict[str, Any]:
    """A branch that writes which case it took as a note."""
    cases = ["failed", "deferred_then_failed", "connected", "voicemail", "no_answer"]
    return {
        "type": "branch",
        "cases": [
            {"when": [case], "steps": [{"type": "add_note", "body": f"took {case}"}]}
            for case in cases
        ],
        "otherwise": [{"type": "add_note", "body": "took otherwise"}],
    }


def _notes(wp: WorkflowPractice, contact: int) -> list[str]:
    return [n["body"] for n in wp.get(f"/notes?contact_id={contact}")["items"]]


def test_a_call_the_gate_rejects_at_once_takes_the_failed_case(wp: WorkflowPractice) -> None:
    # The audience lets a contact without CRM-form consent through; the gate never does.
    wp.workflow(_custom("go", _call(wp), _noting_branch(), require_crm_form_consent=False))
    contact = wp.practice.add_contact("+12125550131", consent=False)
    _event(wp, "f1", "custom", contact, name="go")
    wp.tick()
    wp.runner.run_due()
    [job] = wp.jobs(contact)
    assert (job.status.value, job.dialed_at) == ("failed", None)
    assert _notes(wp, contact) == ["took failed"]


def test_a_call_deferred_then_past_its_deadline_takes_deferred_then_failed(
    wp: WorkflowPractice,
) -> None:
    wp.workflow(
        {
            "trigger": {"kind": "appointment_scheduled"},
            "steps": [{"type": "wait", "until": "before_appointment"}, _call(wp), _noting_branch()],
        }
    )
    wp.clock.set(FRIDAY_7PM)  # booked after hours, inside 24-48 h: deferred to Saturday 10:00
    contact = wp.practice.add_contact("+12125550100")
    wp.appointment(contact, SUNDAY_2PM)
    wp.tick()
    [job] = wp.jobs(contact)
    assert job.status.value == "deferred"
    # The workers were down all Saturday: by the next tick the deadline (Sat 14:00) is gone.
    wp.clock.set(SUNDAY_2PM - timedelta(hours=20))
    wp.tick()
    wp.runner.run_due()
    [job] = wp.jobs(contact)
    assert (job.status.value, job.dialed_at) == ("failed", None)
    assert _notes(wp, contact) == ["took deferred_then_failed"]


def test_a_call_deferred_by_the_daily_cap_counts_as_deferred(wp: WorkflowPractice) -> None:
    wp.workflow(
        {
            "trigger": {"kind": "appointment_scheduled"},
            "steps": [{"type": "wait", "until": "before_appointment"}, _call(wp), _noting_branch()],
        }
    )
    contact = wp.practice.add_contact("+12125550100")
    wp.appointment(contact, SUNDAY_2PM)
    wp.clock.set(SUNDAY_2PM - timedelta(hours=48))  # the window opens: the call is enqueued
    wp.runner.run_due()
    [job] = wp.jobs(contact)
    assert job.status.value == "queued"
    # The location has used its 100 calls today: its due jobs move to tomorrow.
    with wp.container.uow() as uow:
        tomorrow = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)  # Saturday 00:00 in New York
        assert defer_overflow(uow.session, wp.tenant.location_id, tomorrow, wp.clock.now()) == 1
        uow.commit()
    wp.clock.set(SUNDAY_2PM - timedelta(hours=20))  # past the deadline (Sat 14:00)
    wp.tick()
    wp.runner.run_due()
    [job] = wp.jobs(contact)
    assert job.status.value == "failed"
    assert _notes(wp, contact) == ["took deferred_then_failed"]


def test_an_enrollment_superseded_by_its_own_step_stops_there(wp: WorkflowPractice) -> None:
    """A step whose CRM change re-triggers the same workflow for the same opportunity ends
    the running enrollment (superseded); it must not run on as if nothing happened."""
    workflow_id = wp.workflow(
        {
            "trigger": {"kind": "opportunity_stage_changed", "stage": "Quoted"},
            "steps": [
                {"type": "move_opportunity", "stage": "Quoted"},
                {"type": "add_note", "body": "after the move"},
            ],
        }
    )
    contact = wp.practice.add_contact("+12125550131")
    opportunity = wp.post("/opportunities", {"contact_id": contact, "name": "Lips", "stage": "New"})
    # An external system reports the stage before Ringfence's record has it.
    _event(
        wp,
        "q1",
        "opportunity_stage_changed",
        contact,
        stage="Quoted",
        opportunity_id=opportunity["id"],
    )
    wp.runner.run_due()  # the first run moves the opportunity: a new event, a new enrollment
    wp.runner.run_due()  # the second run finds it already in "Quoted"
    first, second = _enrollments(wp, workflow_id)
    assert first["state"] == "exited"
    assert first["exit_reason"].startswith("superseded by event ")
    assert second["state"] == "completed"
    assert _notes(wp, contact) == ["after the move"]  # once, by the second enrollment


def test_a_redelivered_event_answers_the_first_deliverys_skipped_list(
    wp: WorkflowPractice,
) -> None:
    wp.post("/tags", {"name": "VIP"})
    workflow_id = wp.workflow(_custom("go", _call(wp), has_tags=["VIP"]))
    contact = wp.practice.add_contact("+12125550131")
    first = _event(wp, "d1", "custom", contact, name="go").json()
    assert first["skipped"] == [{"workflow_id": workflow_id, "reasons": ["lacks tag 'VIP'"]}]
    again = _event(wp, "d1", "custom", contact, name="go").json()
    assert again["duplicate"] is True
    assert again["skipped"] == first["skipped"]


def test_an_appointment_moved_out_of_short_notice_is_confirmed_for_its_new_time(
    wp: WorkflowPractice,
) -> None:
    """Booked 20 h ahead (no confirmation: the short-notice rule), then moved to next week:
    "appointment_scheduled" fires again for the new time, and the new time is confirmed."""
    workflow_id = wp.workflow(
        {
            "trigger": {"kind": "appointment_scheduled"},
            "steps": [{"type": "wait", "until": "before_appointment"}, _call(wp)],
        }
    )
    contact = wp.practice.add_contact("+12125550100")
    appointment = wp.appointment(contact, FRIDAY_1PM + timedelta(hours=20))
    wp.runner.run_due()
    [skipped] = _enrollments(wp, workflow_id)
    assert skipped["state"] == "exited"

    moved = FRIDAY_1PM + 5 * DAY
    wp.patch(f"/appointments/{appointment}", {"starts_at": moved.isoformat()})
    wp.runner.run_due()
    _skipped, again = _enrollments(wp, workflow_id)
    assert (again["appointment_id"], again["state"]) == (appointment, "waiting")
    assert datetime.fromisoformat(again["resume_at"]) == moved - timedelta(hours=48)


def test_an_appointment_moved_away_and_back_is_confirmed_for_its_time(
    wp: WorkflowPractice,
) -> None:
    workflow_id = wp.workflow(
        {
            "trigger": {"kind": "appointment_scheduled"},
            "steps": [{"type": "wait", "until": "before_appointment"}, _call(wp)],
        }
    )
    contact = wp.practice.add_contact("+12125550100")
    booked = FRIDAY_1PM + 4 * DAY
    appointment = wp.appointment(contact, booked)
    wp.clock.advance(timedelta(hours=1))
    wp.patch(f"/appointments/{appointment}", {"starts_at": (booked + DAY).isoformat()})
    wp.clock.advance(timedelta(hours=1))
    wp.patch(f"/appointments/{appointment}", {"starts_at": booked.isoformat()})
    wp.runner.run_due()
    states = [e["state"] for e in _enrollments(wp, workflow_id)]
    assert states == ["exited", "exited", "waiting"]
    [open_one] = [e for e in _enrollments(wp, workflow_id) if e["state"] == "waiting"]
    assert datetime.fromisoformat(open_one["resume_at"]) == booked - timedelta(hours=48)


def test_webhook_secrets_never_leave_and_survive_a_round_trip(wp: WorkflowPractice) -> None:
    steps = [_call(wp), {"type": "send_webhook", "url": WEBHOOK_URL, "secret": WEBHOOK_SECRET}]
    workflow_id = wp.workflow(_custom("go", *steps))
    shown = wp.get(f"/workflows/{workflow_id}")
    assert WEBHOOK_SECRET not in str(shown)
    assert shown["definition"]["steps"][1]["secret"] == HIDDEN_SECRET
    listed = wp.get("/workflows")
    assert WEBHOOK_SECRET not in str(listed)

    # Sent back as shown (a rename of the call step), the saved secret is kept.
    definition = shown["definition"]
    definition["steps"][0]["action_name"] = "Renamed"
    wp.patch(f"/workflows/{workflow_id}", {"definition": definition})
    with wp.container.uow() as uow:
        stored = uow.session.get(Workflow, workflow_id)
        assert stored is not None
        assert stored.definition["steps"][1]["secret"] == WEBHOOK_SECRET

    # A hidden secret for a URL with no saved webhook cannot be kept: the field is named.
    definition["steps"][1]["url"] = "https://elsewhere.example/hook"
    refused = wp.client.patch(
        f"/api/v1/workflows/{workflow_id}",
        json={"definition": definition},
        headers=wp.tenant.headers,
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "definition", "steps[1]", "secret"]
