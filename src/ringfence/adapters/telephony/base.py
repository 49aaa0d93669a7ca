"""The telephony provider contract: what the dispatcher needs from a carrier.

This is the *control plane* (place a call, look it up, hang up, collect status reports): short
request/response operations, so the contract is synchronous. Media (audio streams, speech) is
a separate pipeline attached to a live call.

At-most-once dialing rests on one promise every implementation must keep: **`dial` is
idempotent by `idempotency_key`** — a second `dial` with a key the carrier has already seen
places no new call and returns the original call's receipt — and **`lookup(key)`** answers,
after any crash, whether a call was placed under that key. The shared contract tests in
`tests/integration/telephony/` hold every implementation to both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, runtime_checkable

from ringfence.agent.callee import Conversation
from ringfence.agent.session import AgentSession
from ringfence.domain.vocabulary import CallOutcome


class CarrierCallState(StrEnum):
    """The carrier's view of a call it placed."""

    RINGING = "ringing"
    IN_PROGRESS = "in_progress"  # answered (by a person or a machine)
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class DialRequest:
    idempotency_key: str
    to_e164: str
    from_e164: str
    # Opaque to the carrier; lets reports be matched to jobs and a sandbox pick a persona.
    job_id: int
    contact_id: int
    # The agent that will hold the call: a live carrier's media pipeline runs the runtime
    # with it; the sandbox plays the whole conversation with its simulated callee.
    agent: AgentSession | None = None
    # Whose caller ID `from_e164` is: a number is unique within an account only, and the
    # carrier router picks the carrier the account registered it with.
    account_id: int | None = None


@dataclass(frozen=True, slots=True)
class DialReceipt:
    carrier_call_id: str
    # False when the carrier refused at once (invalid number, blocked caller ID): the call
    # still counts as an attempted dial, and its report says why.
    accepted: bool
    carrier_reason: str | None = None


@dataclass(frozen=True, slots=True)
class CallReport:
    """Where a placed call stands. `outcome` and the durations are set once COMPLETED.

    `duration_seconds` is from dial to hang-up; `billable_seconds` from answer to hang-up
    (zero for no answer, busy and carrier failures).
    """

    idempotency_key: str
    carrier_call_id: str
    state: CarrierCallState
    dialed_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: CallOutcome | None = None
    duration_seconds: int | None = None
    billable_seconds: int | None = None
    carrier_reason: str | None = None
    # Who answered, where the carrier simulates the callee (a sandbox persona, or
    # agent.callee.VOICEMAIL_BOX); Ringfence then replays the simulated conversation.
    callee: str | None = None
    # The conversation as held live (carriers whose media pipeline runs the agent).
    conversation: Conversation | None = None
    # Its recording as made live (relative to the recordings directory, encrypted like the
    # rendered ones), with transcript offsets into it; None: rendered later from the transcript.
    recording_path: str | None = None
    recording_seconds: float | None = None
    # Why the agent's hand-over to staff did not connect (the staff line was busy, no one
    # answered), where the carrier learns it after the call left the agent (Twilio's <Dial>).
    transfer_failed: str | None = None


def completed_report(
    key: str,
    carrier_call_id: str,
    *,
    dialed: datetime,
    answered: datetime | None,
    ended: datetime,
    outcome: CallOutcome,
    reason: str | None,
) -> CallReport:
    """A finished call's report: its duration from the dial, billed from the answer, each
    started second counted (as carriers bill)."""
    return CallReport(
        idempotency_key=key,
        carrier_call_id=carrier_call_id,
        state=CarrierCallState.COMPLETED,
        dialed_at=dialed,
        answered_at=answered,
        ended_at=ended,
        outcome=outcome,
        duration_seconds=_started_seconds(ended - dialed),
        billable_seconds=0 if answered is None else _started_seconds(ended - answered),
        carrier_reason=reason,
    )


def _started_seconds(delta: timedelta) -> int:
    return max(0, math.ceil(delta.total_seconds()))


class TelephonyError(Exception):
    """The carrier could not be reached or answered an error; the call's fate is unknown."""


class TelephonyProvider(Protocol):
    """A carrier account. Implementations: `SandboxCarrier` (embedded), SIP, Twilio."""

    name: str

    def dial(self, request: DialRequest) -> DialReceipt:
        """Place a call. Idempotent by `request.idempotency_key`. Raises TelephonyError."""
        ...

    def lookup(self, idempotency_key: str) -> CallReport | None:
        """The call placed under this key, or None if the carrier never placed one."""
        ...

    def hangup(self, carrier_call_id: str) -> None:
        """End a call in progress (no-op when already ended)."""
        ...

    def completed_reports(self) -> list[CallReport]:
        """Reports of calls that reached COMPLETED since the last call to this method.

        Each completed call is reported at least once; the dispatcher applies them
        idempotently. After a restart, calls in flight are found again with `lookup`.
        """
        ...


@runtime_checkable
class BatchDialer(Protocol):
    """Optional: place several calls in one request (the sandbox writes them in one commit).

    Same promises as `dial`, per request: idempotent by key, and either every call of the
    batch is on the carrier's record when it returns or it raises TelephonyError.
    """

    def dial_many(self, requests: Sequence[DialRequest]) -> list[DialReceipt]: ...


@runtime_checkable
class CallTransferrer(Protocol):
    """Optional: hand an answered call to another number (a warm transfer to staff).

    Raises TelephonyError when the carrier refuses (the call has ended, the API is down);
    the caller then hangs the call up and staff get a call-back task."""

    def transfer(self, carrier_call_id: str, to_e164: str) -> None: ...
