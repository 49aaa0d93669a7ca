"""The Voice AI page's read side: each agent judged by the same checks a call would use."""

from __future__ import annotations

import pytest

from ringfence.adapters.db.orm import VoiceAgent
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import CallPurpose, KycStatus
from ringfence.services.agent_readiness import (
    AgentReadiness,
    OpeningSource,
    Readiness,
    voice_ai_overview,
)
from ringfence.services.errors import NotFound
from tests.conftest import Tenant
from tests.factories import add_caller_id, add_voice_agent


def _agents(container: Container, tenant: Tenant) -> dict[str, AgentReadiness]:
    with container.uow() as uow:
        overview = voice_ai_overview(
            uow.session, account_id=tenant.account_id, location_id=tenant.location_id
        )
    return {agent.name: agent for agent in overview.agents}


def test_a_valid_agent_is_ready_and_says_where_each_opening_comes_from(
    container: Container, tenant: Tenant
) -> None:
    add_voice_agent(
        container,
        tenant,
        name="Front desk",
        outbound_opening="Hi, this is the AI assistant for {practice}. "
        "I'm calling about your upcoming appointment.",
    )
    agent = _agents(container, tenant)["Front desk"]
    assert agent.readiness is Readiness.READY
    assert agent.callback_number == "+12125550199"
    assert not agent.callback_from_location
    sources = {o.purpose: o.source for o in agent.openings}
    assert sources[CallPurpose.APPOINTMENT_CONFIRMATION] is OpeningSource.DEFAULT
    assert sources[CallPurpose.LEAD_REACTIVATION] is OpeningSource.BUILT_IN
    assert all(o.valid for o in agent.openings)


def test_an_opening_that_fails_the_guardrails_needs_attention(
    container: Container, tenant: Tenant
) -> None:
    add_voice_agent(
        container,
        tenant,
        name="Pushy",
        outbound_openings={"lead_reactivation": "Hello there, got a minute?"},
    )
    agent = _agents(container, tenant)["Pushy"]
    assert agent.readiness is Readiness.NEEDS_ATTENTION
    failing = [o for o in agent.openings if not o.valid]
    assert [o.purpose for o in failing] == [CallPurpose.LEAD_REACTIVATION]
    assert failing[0].source is OpeningSource.PURPOSE
    assert any("opt-out" in problem for problem in failing[0].problems)
    assert agent.other_problems == ()


def test_the_callback_number_falls_back_to_the_locations_caller_id(
    container: Container, tenant: Tenant
) -> None:
    add_voice_agent(container, tenant, name="No number", callback_number=None)
    agent = _agents(container, tenant)["No number"]
    assert agent.readiness is Readiness.CANNOT_CALL
    assert agent.callback_number is None

    add_caller_id(container, tenant, "+12125550142")
    agent = _agents(container, tenant)["No number"]
    assert agent.readiness is Readiness.READY
    assert agent.callback_number == "+12125550142"
    assert agent.callback_from_location


def test_only_the_accounts_own_locations_and_agents(
    container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    add_voice_agent(container, other_tenant, name="Rival agent")
    add_voice_agent(container, tenant, name="Ours")
    with container.uow() as uow:
        overview = voice_ai_overview(uow.session, account_id=tenant.account_id, location_id=None)
        assert overview.location is not None
        assert overview.location.location_id == tenant.location_id
        assert [a.name for a in overview.agents] == ["Ours"]
        assert overview.ready_count == 1
        assert overview.kyc_status is KycStatus.APPROVED
        with pytest.raises(NotFound):
            voice_ai_overview(
                uow.session, account_id=tenant.account_id, location_id=other_tenant.location_id
            )


def test_the_staff_line_and_its_hours_are_shown(container: Container, tenant: Tenant) -> None:
    agent_id = add_voice_agent(container, tenant, name="Front desk")
    assert _agents(container, tenant)["Front desk"].transfer_number is None
    with container.uow() as uow:
        row = uow.session.get(VoiceAgent, agent_id)
        assert row is not None
        row.transfer_number = "+12125550142"
        row.staff_hours = {"mon": ["09:00-17:00"], "sat": ["10:00-14:00"]}
        uow.commit()
    agent = _agents(container, tenant)["Front desk"]
    assert agent.transfer_number == "+12125550142"
    assert agent.staff_hours == "Mon 09:00-17:00; Sat 10:00-14:00"
