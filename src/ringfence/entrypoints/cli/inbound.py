"""`ringfence call-inbound`: a simulated inbound call on the sandbox, for trying the agent's
inbound side (issue 19) without a phone.

    ringfence call-inbound --to +12125550100 --from +16465550123 --say "stop calling me"

The call is routed to the practice that owns `--to` and answered by its agent; each `--say`
is the caller's next turn. It is recorded as an inbound call with its transcript, and its
outcome is applied as a real call's would be (an opt-out suppresses the number). Exit status 0
when answered, 1 when refused (no practice, or more than one, owns the number; no agent).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from ringfence.bootstrap.policies import policy_factory
from ringfence.entrypoints.cli.support import open_container
from ringfence.services.inbound_calls import InboundCallResult
from ringfence.services.inbound_sandbox import take_sandbox_call

console = Console(soft_wrap=True, highlight=False)


def call_inbound(
    to: Annotated[str, typer.Option("--to", help="The practice number the caller dials")],
    caller: Annotated[
        str | None, typer.Option("--from", help="The caller's number (leave out: withheld)")
    ] = None,
    say: Annotated[
        list[str] | None, typer.Option("--say", help="What the caller says, one turn each")
    ] = None,
) -> None:
    """Ring a practice number on the sandbox and talk to the agent that answers."""
    with open_container() as container, container.uow() as uow:
        result = take_sandbox_call(
            uow,
            dialed=to,
            caller=caller,
            utterances=say or [],
            policy_factory=policy_factory(container.settings),
        )
    if not isinstance(result, InboundCallResult):
        console.print(f"Call refused: {result.explanation}.")
        raise typer.Exit(1)
    who = "a known contact" if result.recognised else "an unknown caller"
    console.print(f"Inbound call {result.job_id} answered ({who}):")
    for line in result.transcript:
        speaker = "Agent" if line.speaker.value == "agent" else "Caller"
        console.print(f"  {speaker}: {line.text}")
    console.print(
        f"Outcome: {result.outcome.value.replace('_', ' ')} "
        f"({result.duration_seconds} s, ended: {result.ended_by.value.replace('_', ' ')})"
    )
