"""The voice-agent use cases on the fake unit of work: every save is checked against the
guardrails, with the location's first caller ID as the callback number of an agent that has
none. No database."""

from __future__ import annotations

from typing import Any, cast, get_type_hints

import pytest

from ringfence.entrypoints.api.schemas.practice import VoiceAgentCreate, VoiceAgentUpdate
from ringfence.services.agents import AgentFields, create_agent, update_agent
from ringfence.services.errors import InvalidField
from tests.unit.services.fakes import (
    ACCOUNT,
    ELSEWHERE,
    HERE,
    SCOPE,
    THERE,
    FakeUnitOfWork,
    two_locations_and_a_rival,
)

GOOD_OPENING = "Hi, this is the AI assistant for Glow. I'm calling about your visit."


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return two_locations_and_a_rival()


def _fields(**given: Any) -> AgentFields:
    """A new agent's fields as the API gives them (its schema's defaults filled in)."""
    body = VoiceAgentCreate(location_id=HERE, name="Desk", practice_name="Glow", **given)
    return cast(AgentFields, body.model_dump(exclude={"location_id"}))


def _create(uow: FakeUnitOfWork, location_id: int = HERE, **given: Any) -> int:
    return create_agent(uow=uow, scope=SCOPE, location_id=location_id, fields=_fields(**given)).id


def test_a_new_agent_is_checked_stored_and_committed_once(uow: FakeUnitOfWork) -> None:
    agent_id = _create(uow, callback_number="+12125550199", outbound_opening=GOOD_OPENING)
    agent = uow.voice_agents.rows[agent_id]
    assert (agent.account_id, agent.location_id, agent.practice_name) == (ACCOUNT, HERE, "Glow")
    assert agent.created_at == agent.updated_at == uow.clock.now()
    assert uow.commits == 1


def test_an_agent_needs_a_callback_number_of_its_own_or_its_locations(
    uow: FakeUnitOfWork,
) -> None:
    with pytest.raises(InvalidField) as refused:
        _create(uow)
    assert refused.value.field == "callback_number"
    assert uow.commits == 0
    # A caller ID at another location is not this one's; one at this location serves.
    uow.add_caller_id(ACCOUNT, THERE, "+12125550100")
    with pytest.raises(InvalidField, match="callback_number"):
        _create(uow)
    uow.add_caller_id(ACCOUNT, HERE, "+12125550101")
    _create(uow)
    assert uow.commits == 1


def test_an_opening_that_does_not_name_the_practice_is_refused(uow: FakeUnitOfWork) -> None:
    with pytest.raises(InvalidField) as refused:
        _create(
            uow,
            callback_number="+12125550199",
            outbound_opening="Hi there! I'm calling about your upcoming appointment.",
        )
    assert refused.value.field == "outbound_opening"
    assert uow.commits == 0


def test_a_change_is_checked_again_and_a_refused_one_not_committed(
    uow: FakeUnitOfWork,
) -> None:
    agent_id = _create(uow, callback_number="+12125550199", outbound_opening=GOOD_OPENING)
    update_agent(uow=uow, scope=SCOPE, agent_id=agent_id, changes={"name": "Front desk"})
    assert uow.voice_agents.rows[agent_id].name == "Front desk"
    assert uow.commits == 2
    with pytest.raises(InvalidField) as refused:
        update_agent(
            uow=uow,
            scope=SCOPE,
            agent_id=agent_id,
            changes={"outbound_opening": "Hello! Do you have a minute?"},
        )
    assert refused.value.field == "outbound_opening"
    assert uow.commits == 2  # the refused change is left to the unit of work to roll back


def test_the_location_must_be_the_callers(uow: FakeUnitOfWork) -> None:
    with pytest.raises(InvalidField) as refused:
        _create(uow, location_id=ELSEWHERE, callback_number="+12125550199")
    assert (refused.value.field, refused.value.message) == (
        "location_id",
        f"no such location ({ELSEWHERE})",
    )
    assert uow.voice_agents.rows == {}
    assert uow.commits == 0


def test_the_api_schemas_name_the_services_fields() -> None:
    # The routes hand the schemas' fields over as `AgentFields` (a cast): the names must agree.
    keys = set(get_type_hints(AgentFields))
    assert set(VoiceAgentCreate.model_fields) - {"location_id"} == keys
    assert set(VoiceAgentUpdate.model_fields) <= keys
