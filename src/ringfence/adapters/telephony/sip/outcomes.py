"""A SIP final response as a call outcome (RFC 3261 §21), with the code kept for the call.

Reached by the INVITE's final response when no one answered: busy (486, 600), no answer
(480, 408, and 487 after our own CANCEL at the ring timeout), invalid number (404, 484, 410,
604), rejected (403, 603), carrier failure (5xx, or no response at all). The carrier's code and
phrase are always in the reason, e.g. "busy (SIP 486 Busy Here)": the dashboard shows it, and
a number that keeps answering 403 stands out in the caller-ID comparison.
"""

from __future__ import annotations

from typing import Final

from ringfence.domain.vocabulary import CallOutcome

_BUSY: Final = frozenset({486, 600})
_NO_ANSWER: Final = frozenset({408, 480, 487})
_INVALID: Final = frozenset({404, 410, 484, 485, 604})
_REJECTED: Final = frozenset({403, 603})
_NO_CODEC: Final = frozenset({415, 488, 606})
_AUTH: Final = frozenset({401, 407})


def outcome_of_final(status: int, phrase: str) -> tuple[CallOutcome, str]:
    """The outcome of an INVITE that ended with the non-2xx final response `status`."""
    code = f"SIP {status} {phrase}".strip()
    if status in _BUSY:
        return CallOutcome.BUSY, f"busy ({code})"
    if status in _NO_ANSWER:
        return CallOutcome.NO_ANSWER, f"no answer ({code})"
    if status in _INVALID:
        return CallOutcome.FAILED, f"invalid number ({code})"
    if status in _REJECTED:
        return CallOutcome.FAILED, f"rejected ({code})"
    if status in _NO_CODEC:
        return CallOutcome.FAILED, f"no common audio codec ({code})"
    if status in _AUTH:
        return CallOutcome.FAILED, f"the trunk refused our credentials ({code})"
    if 500 <= status < 600:
        return CallOutcome.FAILED, f"carrier failure ({code})"
    return CallOutcome.FAILED, f"call failed ({code})"


def ring_timeout_reason(seconds: float) -> str:
    return f"no answer within {seconds:g} s (canceled)"


NO_RESPONSE_REASON: Final = "carrier failure (no response from the SIP trunk)"
