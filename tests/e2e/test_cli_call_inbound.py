"""`ringfence call-inbound`: a simulated call to a practice number prints the transcript and
the outcome, and is recorded as an inbound call; a number no practice owns is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ringfence.adapters.db.calls import CallJob
from ringfence.bootstrap import Container
from ringfence.clock import VirtualClock
from ringfence.domain.vocabulary import CallDirection
from ringfence.entrypoints.cli import app
from tests.integration.dispatch.practice import BEFORE_WINDOW, make_practice


@pytest.fixture
def env(container: Container, database_url: str) -> dict[str, str]:
    # `container` wiped the database; the CLI opens its own engine on the same URL.
    return {"RINGFENCE_DATABASE_URL": database_url}


def test_a_caller_who_says_stop_hears_the_agent_and_is_opted_out(
    container: Container, clock: VirtualClock, env: dict[str, str]
) -> None:
    clock.set(BEFORE_WINDOW)
    practice = make_practice(container)
    practice.add_contact("+12125550100", first_name="Maria")
    result = CliRunner().invoke(
        app,
        [
            "call-inbound",
            "--to",
            "(212) 555-0199",
            "--from",
            "+12125550100",
            "--say",
            "Stop calling me.",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "answered (a known contact)" in result.output
    assert "Agent: Thank you for calling Glow." in result.output
    assert "Caller: Stop calling me." in result.output
    assert "Outcome: opted out" in result.output
    with container.uow() as uow:
        directions = list(uow.session.scalars(select(CallJob.direction)))
    assert directions == [CallDirection.INBOUND]


def test_a_number_no_practice_owns_is_refused(
    container: Container, clock: VirtualClock, env: dict[str, str]
) -> None:
    clock.set(BEFORE_WINDOW)
    make_practice(container)
    result = CliRunner().invoke(
        app, ["call-inbound", "--to", "+13055550111", "--say", "hello"], env=env
    )
    assert result.exit_code == 1
    assert "Call refused: no location owns the dialed number." in result.output
    with container.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CallJob)) == 0
