"""The test console's API: talk to an agent in text, as the callee."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from ringfence.entrypoints.api.deps import (
    Scope,
)
from ringfence.entrypoints.api.schemas.console_calls import (
    ConsoleCallCreate,
    ConsoleCallOut,
    ConsoleEventOut,
    TestTurnCreate,
    TestTurnOut,
)
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.services.console import AgentConsole, console_events

router = APIRouter(tags=["test console"])


def _console(request: Request) -> AgentConsole:
    console: AgentConsole = request.app.state.agent_console
    return console


@router.post(
    "/test-calls",
    response_model=ConsoleCallOut,
    status_code=status.HTTP_201_CREATED,
    summary="Start a test call with an agent",
)
def start_test_call(
    request: Request, uow: Uow, scope: Scope, body: ConsoleCallCreate
) -> ConsoleCallOut:
    """Starts a conversation with the agent as the callee (`contact_id` to be that contact, or
    `phone` for an unknown caller) and returns the agent's opening. Logged as Call Type Test;
    a dry run: the actions it reports are not applied to the CRM."""
    call_id, turn = _console(request).start(
        uow=uow,
        scope=scope,
        agent_id=body.agent_id,
        contact_id=body.contact_id,
        phone=body.phone,
        purpose=body.purpose,
    )
    return ConsoleCallOut(
        id=call_id,
        agent_text=turn.text,
        events=[ConsoleEventOut(type=e.type, detail=e.detail) for e in console_events(turn.events)],
        ended=turn.ended,
    )


@router.post("/test-calls/{call_id}/turns", response_model=TestTurnOut, summary="Say something")
def test_call_turn(
    request: Request,
    uow: Uow,
    scope: Scope,
    call_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: TestTurnCreate,
) -> TestTurnOut:
    """The callee's words in; the agent's reply and typed events out (409 once ended)."""
    turn = _console(request).respond(uow=uow, scope=scope, call_id=call_id, text=body.text)
    return TestTurnOut(
        agent_text=turn.text,
        events=[ConsoleEventOut(type=e.type, detail=e.detail) for e in console_events(turn.events)],
        ended=turn.ended,
    )


@router.post(
    "/test-calls/{call_id}/hangup",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Hang up a test call",
)
def hang_up_test_call(
    request: Request,
    uow: Uow,
    scope: Scope,
    call_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> None:
    """Ends the test call as the callee hanging up (409 once ended): it shows as a completed
    call in the call log's Test view. Calls left open end by themselves after 30 minutes."""
    _console(request).hang_up(uow=uow, scope=scope, call_id=call_id)
