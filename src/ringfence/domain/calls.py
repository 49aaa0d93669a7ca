"""The call job lifecycle as a pure state machine.

    queued ⇄ deferred          (the gate said "later": window, caps; pacing keeps it queued)
    queued/deferred → dialing  (the gate said Dial; the throttle slot is reserved)
    queued/deferred → failed   (the gate said Fail: a compliance reason; never retried)
    queued/deferred → deferred (the gate said Fail for the whole account: KYC not approved or
                                outbound switched off; the job waits for the account, see
                                ACCOUNT_PAUSES, and is woken when it is approved again)
    queued/deferred → canceled (workflow unpublished, contact opted out, appointment canceled)
    dialing → ringing → in_progress → completed (with an outcome)
    dialing/ringing/in_progress → completed     (unanswered, busy, carrier failure)
    dialing → queued           (after a crash: the carrier confirms it never placed the call)
    dialing/ringing/in_progress → needs_review  (after a crash: the carrier cannot say)

Every move is checked here, so no code path can, say, redial a completed job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from ringfence.domain.compliance import Defer, Dial, Fail, ReasonCode, Verdict
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


# Failures that belong to the account, not to the call: the KYC registration is back under
# review (its legal details changed) or outbound calling is switched off. The call is not
# wrong, so it is not failed: it waits, rechecked now and then, and approval wakes it at once.
ACCOUNT_PAUSES: Final = frozenset({ReasonCode.KYC_NOT_APPROVED, ReasonCode.OUTBOUND_DISABLED})
ACCOUNT_PAUSE_RECHECK: Final = timedelta(hours=1)


def decide(verdict: Verdict, now: datetime) -> JobDecision:
    """Map the compliance gate's verdict onto the job lifecycle.

    Pacing (a Defer the engine marks `queued`) keeps the job `queued`: the description's
    Deferred status means "the system intends to call later", which pacing by a minute is not.
    An account-wide failure (ACCOUNT_PAUSES) defers the job instead of failing it.
    """
    if isinstance(verdict, Dial):
        return JobDecision(S.DIALING, None, None)
    if isinstance(verdict, Defer):
        status = S.QUEUED if verdict.queued else S.DEFERRED
        return JobDecision(status, verdict.until, verdict.reason.value)
    if isinstance(verdict, Fail):
        if verdict.reason in ACCOUNT_PAUSES:
            return JobDecision(S.DEFERRED, now + ACCOUNT_PAUSE_RECHECK, verdict.reason.value)
        return JobDecision(S.FAILED, None, verdict.reason.value)
    raise TypeError(f"not a verdict: {verdict!r}")
