"""The call job lifecycle as a pure state machine.

    queued ⇄ deferred          (the gate said "later": window, caps; pacing keeps it queued)
    queued/deferred → dialing  (the gate said Dial; the throttle slot is reserved)
    queued/deferred → failed   (the gate said Fail: a compliance reason; never retried)
    queued/deferred → canceled (workflow unpublished, contact opted out, appointment canceled)
    dialing → ringing → in_progress → completed (with an outcome)
    dialing/ringing/in_progress → completed     (unanswered, busy, carrier failure)
    dialing → queued           (after a crash: the carrier confirms it never placed the call)
    dialing/ringing/in_progress → needs_review  (after a crash: the carrier cannot say)

Every move is checked here, so no code path can, say, redial a completed job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ringfence.domain.compliance import Defer, Dial, Fail, Verdict
from ringfence.domain.vocabulary import CallStatus

S = CallStatus

ALLOWED: dict[CallStatus, frozenset[CallStatus]] = {
    S.QUEUED: frozenset({S.QUEUED, S.DEFERRED, S.DIALING, S.FAILED, S.CANCELED}),
    S.DEFERRED: frozenset({S.QUEUED, S.DEFERRED, S.DIALING, S.FAILED, S.CANCELED}),
    S.DIALING: frozenset({S.RINGING, S.IN_PROGRESS, S.COMPLETED, S.QUEUED, S.NEEDS_REVIEW}),
    S.RINGING: frozenset({S.IN_PROGRESS, S.COMPLETED, S.NEEDS_REVIEW}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.NEEDS_REVIEW}),
    S.NEEDS_REVIEW: frozenset({S.COMPLETED, S.CANCELED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
}

PENDING = frozenset({S.QUEUED, S.DEFERRED})
IN_FLIGHT = frozenset({S.DIALING, S.RINGING, S.IN_PROGRESS})
TERMINAL = frozenset({S.COMPLETED, S.FAILED, S.CANCELED})


class IllegalTransition(ValueError):
    def __init__(self, current: CallStatus, target: CallStatus) -> None:
        super().__init__(f"a call job cannot go from {current} to {target}")
        self.current = current
        self.target = target


def check_transition(current: CallStatus, target: CallStatus) -> None:
    if target not in ALLOWED[current]:
        raise IllegalTransition(current, target)


@dataclass(frozen=True, slots=True)
class JobDecision:
    """What a verdict means for a pending job: its next status and when to look again."""

    status: CallStatus
    next_attempt_at: datetime | None
    reason_code: str | None


def decide(verdict: Verdict) -> JobDecision:
    """Map the compliance gate's verdict onto the job lifecycle.

    Pacing (a Defer the engine marks `queued`) keeps the job `queued`: the description's
    Deferred status means "the system intends to call later", which pacing by a minute is not.
    """
    if isinstance(verdict, Dial):
        return JobDecision(S.DIALING, None, None)
    if isinstance(verdict, Defer):
        status = S.QUEUED if verdict.queued else S.DEFERRED
        return JobDecision(status, verdict.until, verdict.reason.value)
    if isinstance(verdict, Fail):
        return JobDecision(S.FAILED, None, verdict.reason.value)
    raise TypeError(f"not a verdict: {verdict!r}")
