"""What a finished call step ended with, as the branch conditions a workflow can test."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ringfence.domain.vocabulary import CallOutcome, CallStatus
from ringfence.domain.workflows.definition import Branch, BranchOn

# What a conversation produced (stored on the call job by services/call_outcomes.py).
PRODUCED_SIGNALS = {
    "appointment_confirmed": BranchOn.APPOINTMENT_CONFIRMED,
    "reschedule_requested": BranchOn.RESCHEDULE_REQUESTED,
    "opted_out": BranchOn.OPTED_OUT,
    "clinical_question": BranchOn.CLINICAL_QUESTION,
}


@dataclass(frozen=True, slots=True)
class CallResultView:
    """The call job a call step enqueued, once it is terminal."""

    status: CallStatus
    outcome: CallOutcome | None
    # How many times the gate deferred it before its final verdict.
    deferrals: int
    produced: frozenset[str] = frozenset()


def branch_signals(result: CallResultView) -> frozenset[BranchOn]:
    signals: set[BranchOn] = set()
    if result.status is CallStatus.FAILED:
        signals.add(BranchOn.DEFERRED_THEN_FAILED if result.deferrals else BranchOn.FAILED)
    elif result.status is CallStatus.COMPLETED:
        match result.outcome:
            case CallOutcome.CONNECTED:
                signals.add(BranchOn.CONNECTED)
            case CallOutcome.VOICEMAIL:
                signals.add(BranchOn.VOICEMAIL)
            case CallOutcome.NO_ANSWER:
                signals.add(BranchOn.NO_ANSWER)
            case _:  # busy, carrier failure, spam-blocked, invalid number
                signals.add(BranchOn.FAILED)
    signals.update(PRODUCED_SIGNALS[s] for s in result.produced if s in PRODUCED_SIGNALS)
    return frozenset(signals)


def choose_case(branch: Branch, signals: Iterable[BranchOn]) -> int:
    """The index of the first case whose conditions meet `signals`; `len(branch.cases)` means
    the `otherwise` path."""
    held = set(signals)
    for index, case in enumerate(branch.cases):
        if held.intersection(case.when):
            return index
    return len(branch.cases)
