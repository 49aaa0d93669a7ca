"""Rows the web tests need, written straight to the database (no API rules in the way, so a
test can also make the invalid states that the API refuses to save)."""

from __future__ import annotations

from ringfence.adapters.db.orm import PhoneNumber, VoiceAgent
from ringfence.bootstrap import Container
from tests.conftest import Tenant


def add_voice_agent(
    container: Container,
    tenant: Tenant,
    *,
    name: str = "Front desk",
    practice_name: str = "Glow Aesthetics",
    callback_number: str | None = "+12125550199",
    outbound_opening: str = "",
    outbound_openings: dict[str, str] | None = None,
    location_id: int | None = None,
) -> int:
    with container.uow() as uow:
        now = uow.clock.now()
        agent = VoiceAgent(
            account_id=tenant.account_id,
            location_id=location_id or tenant.location_id,
            name=name,
            practice_name=practice_name,
            callback_number=callback_number,
            outbound_opening=outbound_opening,
            outbound_openings=outbound_openings or {},
            created_at=now,
            updated_at=now,
        )
        uow.session.add(agent)
        uow.session.flush()
        agent_id = agent.id
        uow.commit()
    return agent_id


def add_caller_id(container: Container, tenant: Tenant, e164: str) -> None:
    with container.uow() as uow:
        now = uow.clock.now()
        uow.session.add(
            PhoneNumber(
                account_id=tenant.account_id,
                location_id=tenant.location_id,
                e164=e164,
                created_at=now,
                updated_at=now,
            )
        )
        uow.commit()
