"""AI Agents → Voice AI → Edit over HTTP: every field the API's PATCH takes, saved through the
same service, shown on the Voice AI page; problems named in plain words with the input kept."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from ringfence.bootstrap import Container
from tests.conftest import Tenant
from tests.e2e.web_client import sign_in
from tests.factories import add_caller_id, add_voice_agent

VOICEMAIL = "Hi, this is the AI assistant for {practice}. Please call us back at {callback_number}."
OPENING = (
    "Hi, this is the AI assistant for {practice}. "
    "I'm calling about your upcoming appointment with us."
)


def _edit_path(agent_id: int) -> str:
    return f"/app/voice-ai/agents/{agent_id}/edit"


def _form(page_text: str) -> dict[str, str]:
    """The form's fields as the page fills them (inputs, selected options, textareas)."""
    values: dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page_text):
        values[name] = value
    for name, body in re.findall(
        r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page_text, re.S
    ):
        values[name] = body
    for name, body in re.findall(
        r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page_text, re.S
    ):
        chosen = re.search(r'<option value="([^"]+)" selected>', body)
        values[name] = chosen.group(1) if chosen else ""
    return {k: v.replace("&#39;", "'").replace("&amp;", "&") for k, v in values.items()}


def _errors(page_text: str) -> str:
    found = re.search(
        r'<div class="notice notice--warning" role="alert"(.*?)</div>', page_text, re.S
    )
    assert found is not None, "no error summary on the page"
    return found.group(1)


def test_every_field_is_saved_and_shown_on_the_voice_ai_page(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    agent_id = add_voice_agent(container, tenant, name="Front desk")
    sign_in(client, tenant)
    voice_ai = client.get("/app/voice-ai")
    assert f'href="{_edit_path(agent_id)}" aria-label="Edit Front desk">Edit</a>' in voice_ai.text

    page = client.get(_edit_path(agent_id))
    assert page.status_code == 200
    assert "<h1>Edit Front desk</h1>" in page.text
    form = _form(page.text)
    assert form["callback_number"] == "(212) 555-0199"
    assert form["dialogue_policy"] == "scripted"
    form.update(
        {
            "name": "Upper East desk",
            "practice_name": "Glow Aesthetics",
            "system_prompt": "Be brief and kind; tell inbound from outbound calls.",
            "inbound_greeting": "Thanks for calling {practice}. How can I help you today?",
            "outbound_opening": OPENING,
            "opening.lead_reactivation": (
                "Hi, this is the AI assistant for {practice}, you can say stop at any time. "
                "I'm calling because you reached out to us a while back."
            ),
            "callback_number": "646-555-0123",
            "voicemail_script": VOICEMAIL,
            "dialogue_policy": "llm",
            "transfer_number": "(212) 555-0150",
            "hours.mon.opens": "09:00",
            "hours.mon.closes": "12:30",
            "hours.mon.opens2": "13:30",
            "hours.mon.closes2": "17:00",
            "hours.tue.opens": "09:00",
            "hours.tue.closes": "17:00",
        }
    )
    saved = client.post(_edit_path(agent_id), data=form)
    assert saved.status_code == 200, saved.text  # followed the redirect
    assert str(saved.url).endswith(f"/app/voice-ai?location={tenant.location_id}#agent-{agent_id}")
    assert "Saved “Front desk”:" in saved.text
    assert "voicemail script" in saved.text
    card = saved.text.split(f'id="agent-{agent_id}"')[1].split("</li>")[0]
    assert "Upper East desk" in card
    assert "+16465550123" in card
    assert "to +12125550150 during Mon 09:00-12:30, 13:30-17:00; Tue 09:00-17:00" in card
    assert (
        "<dt>How the agent talks</dt><dd>AI language model: free conversation within the "
        "guardrails</dd>" in card
    )
    lead = re.search(r"Lead reactivation</th>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", card, re.S)
    assert lead is not None
    assert lead.group(1) == "its own opening"
    assert "passes" in lead.group(2)

    again = _form(client.get(_edit_path(agent_id)).text)
    assert again["voicemail_script"] == VOICEMAIL
    assert again["system_prompt"] == "Be brief and kind; tell inbound from outbound calls."
    assert again["inbound_greeting"] == "Thanks for calling {practice}. How can I help you today?"
    assert again["outbound_opening"] == OPENING
    assert again["hours.mon.closes2"] == "17:00"
    assert again.get("hours.wed.opens", "") == ""
    api = client.get(f"/api/v1/voice-agents/{agent_id}", headers=tenant.headers).json()
    assert api["staff_hours"] == {"mon": ["09:00-12:30", "13:30-17:00"], "tue": ["09:00-17:00"]}
    assert api["dialogue_policy"] == "llm"
    assert api["transfer_number"] == "+12125550150"
    assert set(api["outbound_openings"]) == {"lead_reactivation"}

    # Emptied fields clear: no transfer, no hours, the location's number as the callback.
    add_caller_id(container, tenant, "+12125550100")
    cleared = dict(again, callback_number="", transfer_number="")
    cleared.update({k: "" for k in again if k.startswith("hours.")})
    cleared["csrf_token"] = again["csrf_token"]
    done = client.post(_edit_path(agent_id), data=cleared)
    assert done.status_code == 200, done.text
    card = done.text.split(f'id="agent-{agent_id}"')[1].split("</li>")[0]
    assert "+12125550100 (the location's caller ID)" in card
    assert "none: callers who ask for a person get a call-back task" in card


def test_a_bad_staff_hours_range_comes_back_with_what_was_typed(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    agent_id = add_voice_agent(container, tenant)
    sign_in(client, tenant)
    form = _form(client.get(_edit_path(agent_id)).text)
    form.update(
        {
            "voicemail_script": VOICEMAIL,
            "hours.mon.opens": "17:00",
            "hours.mon.closes": "09:00",
        }
    )
    refused = client.post(_edit_path(agent_id), data=form)
    assert refused.status_code == 422
    assert "Staff hours, Monday: it closes before it opens" in _errors(refused.text)
    kept = _form(refused.text)
    assert kept["hours.mon.opens"] == "17:00"
    assert kept["hours.mon.closes"] == "09:00"
    assert kept["voicemail_script"] == VOICEMAIL

    half = dict(form, **{"hours.mon.opens": "09:00", "hours.mon.closes": ""})
    refused = client.post(_edit_path(agent_id), data=half)
    assert refused.status_code == 422
    assert "Staff hours, Monday: give both the opening and the closing time" in refused.text

    # A transfer line needs hours: the service's rule, in the form's words.
    no_hours = dict(form, transfer_number="212-555-0150", **{"hours.mon.opens": ""})
    no_hours["hours.mon.closes"] = ""
    refused = client.post(_edit_path(agent_id), data=no_hours)
    assert refused.status_code == 422
    summary = _errors(refused.text)
    assert "Staff hours: required with transfer (staff) number" in summary
    assert "transfer_number" not in summary
    assert "staff_hours" not in summary
    api = client.get(f"/api/v1/voice-agents/{agent_id}", headers=tenant.headers).json()
    assert api["staff_hours"] is None
    assert api["voicemail_script"] == ""


def test_a_non_us_callback_number_and_a_guardrail_problem_are_refused_by_name(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    agent_id = add_voice_agent(container, tenant)
    sign_in(client, tenant)
    form = _form(client.get(_edit_path(agent_id)).text)

    foreign = client.post(_edit_path(agent_id), data=dict(form, callback_number="+44 20 7946 0958"))
    assert foreign.status_code == 422
    assert "Callback number: only US phone numbers can be used as the callback number" in (
        _errors(foreign.text)
    )
    assert _form(foreign.text)["callback_number"] == "+44 20 7946 0958"

    clinical = "Hi from {practice} about your diabetes medication. Call {callback_number}."
    refused = client.post(_edit_path(agent_id), data=dict(form, voicemail_script=clinical))
    assert refused.status_code == 422
    assert "Voicemail script: must not mention clinical details" in _errors(refused.text)
    assert _form(refused.text)["voicemail_script"] == clinical

    nameless = client.post(_edit_path(agent_id), data=dict(form, practice_name=" "))
    assert nameless.status_code == 422
    assert "Practice name: required" in _errors(nameless.text)
    policy = client.post(_edit_path(agent_id), data=dict(form, dialogue_policy="gpt"))
    assert policy.status_code == 422
    assert "How the agent talks: choose one of the listed ways of talking" in policy.text

    api = client.get(f"/api/v1/voice-agents/{agent_id}", headers=tenant.headers).json()
    assert api["callback_number"] == "+12125550199"
    assert api["voicemail_script"] == ""

    unchanged = client.post(_edit_path(agent_id), data=form)
    assert "Nothing changed for “Front desk”." in unchanged.text


def test_another_accounts_agent_is_not_found_and_saving_needs_the_csrf_token(
    client: TestClient, container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = add_voice_agent(container, tenant)
    theirs = add_voice_agent(container, other_tenant, name="Rival desk", practice_name="Rival")
    sign_in(client, tenant)
    form = _form(client.get(_edit_path(mine)).text)
    for agent_id in (theirs, 999_999):
        page = client.get(_edit_path(agent_id))
        assert page.status_code == 404
        assert "That voice agent does not exist in this account." in page.text
    taken = client.post(_edit_path(theirs), data=dict(form, name="Taken over"))
    assert taken.status_code == 404
    api = client.get(f"/api/v1/voice-agents/{theirs}", headers=other_tenant.headers).json()
    assert api["name"] == "Rival desk"

    no_token = {k: v for k, v in form.items() if k != "csrf_token"}
    refused = client.post(_edit_path(mine), data=dict(no_token, name="No token"))
    assert refused.status_code == 403
    api = client.get(f"/api/v1/voice-agents/{mine}", headers=tenant.headers).json()
    assert api["name"] == "Front desk"
