"""The Voice AI page in words: the dialogue policy as the edit page's select names it, the
guardrail problems by the field's label (never `voicemail_script` in <code>), and each agent's
voicemail script and openings as the agent will say them, so staff can read them."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from ringfence.adapters.db.orm import VoiceAgent
from ringfence.bootstrap import Container
from tests.conftest import Tenant
from tests.e2e.web_client import sign_in
from tests.factories import add_voice_agent

VOICEMAIL = "Hi, this is the AI assistant for {practice}. Please call us back at {callback_number}."
CLINICAL = "Hi from {practice} about your diabetes medication. Call {callback_number}."
OPENING = (
    "Hi, this is the AI assistant for {practice}. "
    "I'm calling about your upcoming appointment with us."
)


def _card(html: str, agent_id: int) -> str:
    return html.split(f'id="agent-{agent_id}"')[1].split('<li class="card agent"')[0]


def _set(container: Container, agent_id: int, **fields: str) -> None:
    with container.uow() as uow:
        agent = uow.session.get(VoiceAgent, agent_id)
        assert agent is not None
        for name, value in fields.items():
            setattr(agent, name, value)
        uow.commit()


def test_policies_problems_and_scripts_read_as_words(
    client: TestClient, container: Container, tenant: Tenant
) -> None:
    talker = add_voice_agent(container, tenant, name="Ava", outbound_opening=OPENING)
    _set(container, talker, dialogue_policy="llm", voicemail_script=VOICEMAIL)
    # Saved before today's guardrails (or straight into the database): a clinical voicemail.
    broken = add_voice_agent(container, tenant, name="Bea")
    _set(container, broken, voicemail_script=CLINICAL)
    assert sign_in(client, tenant).status_code == 303
    page = client.get("/app/voice-ai")
    assert page.status_code == 200

    ava = _card(page.text, talker)
    assert (
        "<dt>How the agent talks</dt><dd>AI language model: free conversation within the "
        "guardrails</dd>" in ava
    )
    # What it will say, rendered for Glow Aesthetics, in a collapsible block.
    assert "<details" in ava
    assert "Voicemail" in ava
    assert "Hi, this is the AI assistant for Glow Aesthetics. Please call us back at" in ava
    assert (
        "Hi, this is the AI assistant for Glow Aesthetics. I&#39;m calling about your upcoming "
        "appointment with us." in ava
    )
    # A purpose with no opening of its own says the built-in one it falls back to.
    assert "you can say stop at any time to opt out of these calls" in ava

    bea = _card(page.text, broken)
    assert (
        "<dt>How the agent talks</dt><dd>Scripted: fixed, pre-approved sentences (no AI "
        "model)</dd>" in bea
    )
    assert "Voicemail script: must not mention clinical details" in bea
    # The failing script is replaced on calls: the page says the words actually used.
    assert "diabetes" not in bea.split("Other problems")[0]

    for code in ("<code>", ">llm<", ">scripted<", "voicemail_script", "appointment_confirmation"):
        assert code not in page.text.split("<main")[1], code
    assert re.search(r"Appointment confirmation</th>", page.text)
