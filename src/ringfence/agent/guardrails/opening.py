"""The outbound opening's shape (spec, Call scripting guardrails: "The agent should identify
your practice by name within the first sentence." and "The agent should state the reason for
the call clearly before asking any questions."; 47 CFR 64.1200(b)(3): for telemarketing with
an artificial voice, an automated opt-out offered within 2 seconds of the identification).

`opening_problems` checks a rendered opening: sentence 1 names the practice; sentence 2
states the reason (a heuristic: it is not a question and uses a reason phrase such as "I'm
calling", "about", "to confirm", "to follow up", "reminder"); no question before that; for
marketing purposes an opt-out offer ("say stop", "opt out") starting at most
`OPT_OUT_MAX_GAP_WORDS` words after the practice name (2 seconds at 150 words a minute).
"""

from __future__ import annotations

import re
from typing import Final

from ringfence.agent.text import sentences

OPT_OUT_MAX_GAP_WORDS: Final = 5  # 2 s at 150 words a minute
_OPT_OUT_OFFER: Final = re.compile(
    r"\b((you can |you may |just )?(say|reply|press \d and say) [\"']?stop\b|opt[- ]?out\b|"
    r"to stop (these|our|future) calls)",
    re.IGNORECASE,
)
_REASON: Final = re.compile(
    r"\b(calling|call|reaching out|reason|about|regarding|to confirm|to remind|reminder|"
    r"to follow up|following up|follow-up|to check in|checking in|to let you know)\b",
    re.IGNORECASE,
)
_NAME_MASK: Final = "\u2060PRACTICE\u2060"  # keeps periods in "Dr. Lee Aesthetics" intact


def opening_problems(opening: str, practice_name: str, *, marketing: bool) -> list[str]:
    """What is wrong with a rendered outbound opening (empty when it is compliant)."""
    name = practice_name.strip()
    if not name:
        return ["the practice has no name to identify itself with"]
    masked = re.sub(re.escape(name), _NAME_MASK, opening, flags=re.IGNORECASE)
    parts = sentences(masked)
    problems: list[str] = []
    if not parts or _NAME_MASK not in parts[0]:
        problems.append(f"the first sentence must name the practice ({name!r})")
    if len(parts) < 2:
        problems.append("the second sentence must state the reason for the call")
    else:
        if not _REASON.search(parts[1]) or parts[1].rstrip().endswith("?"):
            problems.append(
                "the second sentence must state the reason for the call "
                '(e.g. "I\'m calling about your upcoming appointment.")'
            )
    if "?" in " ".join(parts[:2]):
        problems.append("no question may come before the reason for the call")
    if marketing:
        problems.extend(_opt_out_problems(masked))
    return problems


def _opt_out_problems(masked: str) -> list[str]:
    offer = _OPT_OUT_OFFER.search(masked)
    if offer is None:
        return ['a marketing call must offer the opt-out ("you can say stop at any time")']
    name_end = masked.find(_NAME_MASK)
    if name_end < 0 or offer.start() < name_end:
        return []  # offered before or with the identification: no gap to measure
    gap = len(masked[name_end + len(_NAME_MASK) : offer.start()].split())
    if gap > OPT_OUT_MAX_GAP_WORDS:
        return [
            f"the opt-out offer must start within 2 seconds of the identification "
            f"(at most {OPT_OUT_MAX_GAP_WORDS} words after the practice name; found {gap})"
        ]
    return []


def first_sentence_names(text: str, practice_name: str) -> bool:
    """Whether the first sentence of `text` names the practice."""
    name = practice_name.strip()
    if not name:
        return False
    parts = sentences(re.sub(re.escape(name), _NAME_MASK, text, flags=re.IGNORECASE))
    return bool(parts) and _NAME_MASK in parts[0]


def has_opt_out_offer(text: str) -> bool:
    return _OPT_OUT_OFFER.search(text) is not None
