"""The Workflows pages in headless Chromium: a workflow from the confirmation template, a Voice
AI Outbound Call added through "+" and the action picker (refused without an AI Agent, then
saved), the forecast panel, Draft → Published → Draft with the switch, and the confirmation a
large audience asks for. Screenshots of the editor and the list go to test-artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

from playwright.sync_api import Page, expect
from sqlalchemy import select

from ringfence.adapters.db.orm import Appointment
from ringfence.adapters.db.workflows import Workflow
from ringfence.bootstrap import Container
from ringfence.domain.workflows.states import WorkflowStatus
from ringfence.services.workflows.forecast import dispatch_cadence, forecast_workflow
from ringfence.services.workflows.templates import BY_KEY
from tests.conftest import Tenant
from tests.e2e.browser import ARTIFACTS, log_in
from tests.factories import add_caller_id, add_voice_agent
from tests.integration.dispatch.practice import Practice

CALLER_ID: Final = "+12125550199"


def _patients_with_appointments(container: Container, tenant: Tenant, count: int) -> None:
    """Consented patients, each with a Botox appointment a day and a half away."""
    practice = Practice(container, account_id=tenant.account_id, location_id=tenant.location_id)
    for n in range(count):
        contact_id = practice.add_contact(f"+1212555{5000 + 7 * n:04d}")
        with container.uow() as uow:
            now = uow.clock.now()
            uow.session.add(
                Appointment(
                    account_id=tenant.account_id,
                    location_id=tenant.location_id,
                    contact_id=contact_id,
                    starts_at=now + timedelta(hours=36 + n),
                    service="Botox",
                    created_at=now,
                    updated_at=now,
                )
            )
            uow.commit()


def _the_workflow(container: Container) -> Workflow:
    with container.uow() as uow:
        workflow = uow.session.scalars(select(Workflow)).one()
        uow.session.expunge(workflow)
        return workflow


def _screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the forecast panel is sticky: show the top
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _create_from_template(
    page: Page, live_server: str, template_name: str, *, screenshot: str | None = None
) -> None:
    page.goto(f"{live_server}/app/workflows")
    page.get_by_role("link", name="New workflow").first.click()
    expect(page.get_by_role("heading", name="New workflow", level=1)).to_be_visible()
    form = page.locator("form.new-workflow")
    form.get_by_role("radio", name=template_name).check()
    form.get_by_label("AI Agent").select_option(label="Front desk")
    form.get_by_label("From Phone Number").select_option(label=CALLER_ID)
    if screenshot is not None:
        _screenshot(page, screenshot)
    form.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", name=template_name, level=1)).to_be_visible()


def test_build_a_confirmation_workflow_forecast_and_publish_it(
    page: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant, name="Front desk")
    add_caller_id(container, tenant, CALLER_ID)
    _patients_with_appointments(container, tenant, 3)

    page.goto(f"{live_server}/app/workflows")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fapp%2Fworkflows$"))
    page.get_by_label("API key").fill(tenant.api_key)  # the form that came back here
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/app/workflows")
    expect(page.get_by_text("No workflows at Glow Aesthetics main yet.")).to_be_visible()

    template = BY_KEY["appointment_confirmation"]
    _create_from_template(page, live_server, template.name, screenshot="workflows-new.png")
    expect(page.get_by_text("was created as a draft")).to_be_visible()
    workflow = _the_workflow(container)
    editor_url = f"{live_server}/app/workflows/{workflow.id}"
    expect(page).to_have_url(editor_url)

    # The flow: trigger, audience, then the steps as cards in order.
    flow = page.locator(".flow")
    expect(flow.locator(".flow-card--trigger")).to_contain_text("Appointment scheduled")
    expect(flow.locator(".flow-card--audience")).to_contain_text("The appointment is scheduled")
    steps = page.get_by_role("list", name="Steps").locator(":scope > li")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_contain_text("Wait until 48-24 h before the appointment")
    expect(steps.nth(1)).to_contain_text("Call patient to confirm their appointment")
    expect(steps.nth(1)).to_contain_text("Front desk")
    expect(steps.nth(2)).to_contain_text("Branch on the call's outcome")
    expect(steps.nth(2)).to_contain_text("Shown read-only")

    # "+" opens the picker; typing filters it down to the one action.
    page.get_by_role("button", name="Add a step after step 1").click()
    # Clicked before htmx (a deferred script) has started, "+" is a plain form and reloads the
    # page with the picker open; typing before that page's htmx is up would filter nothing
    # (seen twice on a busy CI machine). A person cannot type that fast; the test waits.
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
    # Swapped in by htmx, the picker's search box listens only once htmx has processed it (a
    # settle later): typing before then filtered nothing on a busy CI machine. htmx marks a
    # processed element (firstInitCompleted), as test_web_keyboard.py waits for.
    page.wait_for_function(
        "() => document.querySelector('.picker input[type=search]')"
        "?.['htmx-internal-data']?.firstInitCompleted === true"
    )
    picker = page.get_by_role("group", name="Add an action")
    actions = picker.get_by_role("list", name="Actions").get_by_role("link")
    expect(actions).to_have_count(7)
    picker.get_by_label("Search actions").fill("voice")
    expect(actions).to_have_count(1)
    expect(actions.first).to_contain_text("Voice AI Outbound Call")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    picker.screenshot(path=str(ARTIFACTS / "workflows-picker.png"))
    actions.first.click()

    # Its form without an AI Agent: refused, the error by the field, what was typed kept.
    form = page.locator("#step-form")
    expect(form.get_by_role("heading", name="Voice AI Outbound Call")).to_be_visible()
    form.get_by_label("Action Name").fill("Call about the Botox touch-up")
    form.get_by_label("From Phone Number").select_option(label=CALLER_ID)
    form.get_by_label("Call purpose").select_option("appointment_confirmation")
    form.get_by_role("button", name="Save step").click()
    agent = page.locator("#step-form").get_by_label("AI Agent")
    expect(agent).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#step-agent_id-error")).to_have_text("AI Agent is required")
    expect(page.locator("#step-agent_id + .field-error")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Not saved")
    expect(page.locator("#step-form").get_by_label("Action Name")).to_have_value(
        "Call about the Botox touch-up"
    )
    expect(steps).to_have_count(3)
    page.locator("#step-form").screenshot(path=str(ARTIFACTS / "workflows-step-error.png"))
    assert _the_workflow(container).definition == workflow.definition  # nothing saved

    # With the agent chosen it is saved and shown in the flow, as step 2.
    agent.select_option(label="Front desk")
    page.locator("#step-form").get_by_role("button", name="Save step").click()
    expect(page.get_by_text("Step 2 added: Voice AI Outbound Call.")).to_be_visible()
    expect(steps).to_have_count(4)
    expect(steps.nth(1)).to_contain_text("Call about the Botox touch-up")
    expect(steps.nth(1)).to_contain_text(CALLER_ID)
    saved = _the_workflow(container).definition["steps"]
    assert [s["type"] for s in saved] == ["wait", "voice_ai_call", "voice_ai_call", "branch"]
    _screenshot(page, "workflows-editor.png")

    # The forecast panel: the numbers the forecast service gives for this draft.
    with container.uow() as uow:
        expected = forecast_workflow(
            uow.session,
            uow.session.get_one(Workflow, workflow.id),
            now=uow.clock.now(),
            cadence=dispatch_cadence(container.settings.dispatch_interval),
        )
    # Three consented patients, each reaching the call within their 24-48 h window today.
    assert (expected.audience, expected.calls, expected.result.called) == (3, 3, 3)
    page.get_by_role("button", name="Run forecast").click()
    panel = page.locator("#forecast-panel")
    expect(panel.locator("#forecast-audience")).to_have_text("3")
    expect(panel.locator("#forecast-calls")).to_have_text(str(expected.calls))
    expect(panel.locator("#forecast-called")).to_have_text(str(expected.result.called))
    expect(panel.locator("#forecast-deferred")).to_have_text(
        str(sum(expected.result.deferred.values()))
    )
    expect(panel.locator("#forecast-failed")).to_have_text(
        str(sum(expected.result.failed.values()))
    )
    expect(panel.locator("#forecast-fourteen-day")).to_have_text(str(expected.fourteen_day_limit))
    schedule = panel.locator("#forecast-schedule tbody tr")
    expect(schedule).to_have_count(max(1, len(expected.result.schedule)))
    for day, dials in expected.result.schedule:
        expect(schedule.filter(has_text=f"{day.day} {day:%b %Y}")).to_contain_text(str(dials))
    _screenshot(page, "workflows-editor-forecast.png")

    # Draft → Published with the switch.
    switch = page.locator(".page-head").get_by_role("switch", name="Published")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(page.get_by_text("is published (version 1)")).to_be_visible()
    expect(page.locator("#workflow-status")).to_have_text("Published")
    expect(page.locator(".page-head").get_by_role("switch")).to_have_attribute(
        "aria-checked", "true"
    )
    assert _the_workflow(container).status is WorkflowStatus.PUBLISHED

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link").click()
    row = page.get_by_role("row", name=re.compile("Appointment confirmation"))
    expect(row.get_by_role("switch")).to_have_attribute("aria-checked", "true")
    expect(row).to_contain_text("Appointment scheduled")
    _screenshot(page, "workflows-list.png")

    # Published → Draft: the flash says how many pending calls were canceled.
    row.get_by_role("switch").click()
    expect(page.get_by_text("is back to Draft: no queued or deferred calls")).to_be_visible()
    expect(
        page.get_by_role("row", name=re.compile("Appointment confirmation")).get_by_role("switch")
    ).to_have_attribute("aria-checked", "false")
    assert _the_workflow(container).status is WorkflowStatus.DRAFT


def test_a_large_audience_is_published_only_after_the_confirmation(
    page: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant, name="Front desk")
    add_caller_id(container, tenant, CALLER_ID)
    practice = Practice(container, account_id=tenant.account_id, location_id=tenant.location_id)
    for n in range(201):
        practice.add_contact(f"+1212555{6000 + n:04d}")
    log_in(page, live_server, tenant.api_key)
    template = BY_KEY["lead_reactivation"]
    _create_from_template(page, live_server, template.name)

    page.locator(".page-head").get_by_role("switch", name="Published").click()
    expect(page.get_by_role("heading", name=re.compile("^Publish “"))).to_be_visible()
    expect(page.locator("#confirm-audience")).to_contain_text("201 contacts")
    expect(page.locator("#forecast-audience")).to_have_text("201")
    assert _the_workflow(container).status is WorkflowStatus.DRAFT
    _screenshot(page, "workflows-confirm.png")

    page.get_by_role("button", name="Publish anyway").click()
    expect(page.get_by_text("its audience is 201 contacts right now")).to_be_visible()
    expect(page.locator("#workflow-status")).to_have_text("Published")
    assert _the_workflow(container).status is WorkflowStatus.PUBLISHED


def test_a_wait_form_shows_the_fields_of_its_kind(
    page: Page, live_server: str, container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant, name="Front desk")
    add_caller_id(container, tenant, CALLER_ID)
    log_in(page, live_server, tenant.api_key)
    _create_from_template(page, live_server, BY_KEY["no_show_recovery"].name)

    page.get_by_role("link", name="Edit step 1").click()
    form = page.locator("#step-form")
    expect(form.get_by_label("Duration")).to_have_value("1")
    expect(form.get_by_label("Unit")).to_have_value("days")
    expect(form.get_by_label("Earliest, hours before")).to_be_hidden()
    form.get_by_label("Kind of wait").select_option("after_last_treatment")
    expect(form.get_by_label("Duration")).to_be_hidden()
    expect(form.get_by_label("Days after the last treatment")).to_be_visible()
    form.get_by_label("Kind of wait").select_option("duration")
    form.get_by_label("Duration").fill("3")
    form.get_by_role("button", name="Save step").click()
    expect(page.get_by_text("Step 1 saved: Wait.")).to_be_visible()
    expect(page.get_by_role("list", name="Steps").locator(":scope > li").first).to_contain_text(
        "Wait 3 d"
    )
