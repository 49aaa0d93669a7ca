"""SIP final responses as call outcomes (RFC 3261 §21)."""

from __future__ import annotations

import pytest

from ringfence.adapters.telephony.sip.outcomes import (
    NO_RESPONSE_REASON,
    outcome_of_final,
    ring_timeout_reason,
)
from ringfence.domain.vocabulary import CallOutcome

FAILED = CallOutcome.FAILED


@pytest.mark.parametrize(
    ("status", "phrase", "outcome", "kind"),
    [
        (486, "Busy Here", CallOutcome.BUSY, "busy"),
        (600, "Busy Everywhere", CallOutcome.BUSY, "busy"),
        (480, "Temporarily Unavailable", CallOutcome.NO_ANSWER, "no answer"),
        (408, "Request Timeout", CallOutcome.NO_ANSWER, "no answer"),
        (487, "Request Terminated", CallOutcome.NO_ANSWER, "no answer"),
        (404, "Not Found", FAILED, "invalid number"),
        (484, "Address Incomplete", FAILED, "invalid number"),
        (410, "Gone", FAILED, "invalid number"),
        (485, "Ambiguous", FAILED, "invalid number"),
        (604, "Does Not Exist Anywhere", FAILED, "invalid number"),
        (403, "Forbidden", FAILED, "rejected"),
        (603, "Decline", FAILED, "rejected"),
        (503, "Service Unavailable", FAILED, "carrier failure"),
        (500, "Server Internal Error", FAILED, "carrier failure"),
        (502, "Bad Gateway", FAILED, "carrier failure"),
        (504, "Server Time-out", FAILED, "carrier failure"),
        (488, "Not Acceptable Here", FAILED, "no common audio codec"),
        (415, "Unsupported Media Type", FAILED, "no common audio codec"),
        (606, "Not Acceptable", FAILED, "no common audio codec"),
        (401, "Unauthorized", FAILED, "the trunk refused our credentials"),
        (407, "Proxy Authentication Required", FAILED, "the trunk refused our credentials"),
        (400, "Bad Request", FAILED, "call failed"),
        (405, "Method Not Allowed", FAILED, "call failed"),
        (420, "Bad Extension", FAILED, "call failed"),
        (481, "Call/Transaction Does Not Exist", FAILED, "call failed"),
        (491, "Request Pending", FAILED, "call failed"),
        (699, "Whatever", FAILED, "call failed"),
    ],
)
def test_a_final_response_maps_to_an_outcome_with_its_code_in_the_reason(
    status: int, phrase: str, outcome: CallOutcome, kind: str
) -> None:
    got, reason = outcome_of_final(status, phrase)
    assert got is outcome
    assert reason == f"{kind} (SIP {status} {phrase})"


def test_an_empty_phrase_leaves_no_trailing_space() -> None:
    assert outcome_of_final(486, "") == (CallOutcome.BUSY, "busy (SIP 486)")


def test_the_ring_timeout_and_no_response_reasons() -> None:
    assert ring_timeout_reason(30) == "no answer within 30 s (canceled)"
    assert ring_timeout_reason(22.5) == "no answer within 22.5 s (canceled)"
    assert NO_RESPONSE_REASON.startswith("carrier failure")
