"""AI disclosure, both ways (spec, Call scripting guardrails: "Avoid having the agent claim to
be human. If asked, the agent should disclose that it's an AI assistant."; FCC 24-17: AI
voices are artificial voices under the TCPA).

`asks_if_ai` recognises the callee asking; `claims_human` is the outgoing filter that finds
a sentence claiming to be a person (or denying being an AI) so the runtime can replace it.
"""

from __future__ import annotations

import re
from typing import Final

from ringfence.agent.text import clauses

_MACHINE = (
    r"(robot|bot|machine|computer|ai|a i|artificial\w*|automated|recording|program|chat ?bot|"
    r"virtual (assistant|receptionist|agent)|robo|robo ?call\w*|siri|alexa|chat ?gpt)"
)
# Outgoing denials are read more broadly ("I'm not virtual", "not automated").
_ANY_MACHINE = (
    r"(robot|bot|machine|computer|ai|a i|artificial\w*|automated|automatic|"
    r"recording|recorded|program|chat ?bot|virtual|assistant)"
)
_PERSON = r"(real|actual|live|human|person|human being|someone real|somebody real|real person)"
_ASKS: Final = tuple(
    re.compile(p)
    for p in (
        rf"\bare you (a |an |even )?({_MACHINE}|{_PERSON})\b",
        rf"\b(is|was) (this|that|it) (a |an )?(real |actual |live )?({_MACHINE}|person|human)\b",
        rf"\b(am|are) (i|we) (talking|speaking) (to|with) (a |an )?(real |actual |"
        rf"live )?({_MACHINE}|person|human|someone real|somebody real)\b",
        rf"\b(you|it|this) (sound|sounds) like (a |an )?{_MACHINE}\b",
        rf"\b(human|person) or (a |an )?{_MACHINE}\b",
        rf"\b{_MACHINE} or (a )?(real )?(human|person)\b",
        r"\bis (this|that) a (real )?person\b",
        r"\bis there (a |an )?(real|actual|live) (person|human)\b",
        r"\byou are not (a |an )?(real |actual )?(person|human)\b",
        rf"\b(are you|is (this|that|it)) (one of those|some (kind|sort) of|all|just) (a |an )?"
        rf"{_MACHINE}\b",
        rf"^(is|was) (this|that|it) (a |an )?(real |actual |live )?\w+ or (a |an )?{_MACHINE}\b",
    )
)
_CLAIMS: Final = tuple(
    (rule, re.compile(p))
    for rule, p in (
        (
            "claims_person",
            r"\bi am (a |an )?(real |actual |live |genuine )?(human|person|human being|"
            r"woman|man|girl|guy|lady)\b",
        ),
        (
            "denies_ai",
            rf"\bi am not (a |an |just a |just an )?(real |actual |virtual )?{_ANY_MACHINE}\b",
        ),
        ("claims_person", r"\b(this|it) is (a |an )?real (person|human)\b"),
        (
            "claims_person",
            r"\byou are (talking|speaking) (to|with) (a |an )?(real |actual |live )?(person|"
            r"human)\b",
        ),
        ("claims_person", r"^(a|an) (real|actual|live) (person|human)\b"),  # "Jenny, a real person"
        (
            "claims_staff_role",
            r"\bi am (a |the |your |one of the |one of your )?(receptionist|nurse|nurses|"
            r"doctor|provider|injector|coordinator|front desk|staff member|employee|"
            r"esthetician|aesthetician|office manager)\b",
        ),
        (
            "claims_staff_role",
            r"\bi work (at|for|in) (the |our |your )?(front desk|clinic|practice|office|spa|"
            r"med spa)\b",
        ),
    )
)


def asks_if_ai(text: str) -> bool:
    """Whether the callee asks if they are talking to a person, a robot or an AI."""
    return any(p.search(clause) for clause in clauses(text) for p in _ASKS)


def claims_human(text: str) -> str | None:
    """The rule a sentence breaks by claiming to be human (or denying being an AI), if any."""
    for clause in clauses(text):
        for rule, pattern in _CLAIMS:
            if pattern.search(clause):
                return rule
    return None


def disclosure(practice_name: str) -> str:
    return f"I'm an AI assistant for {practice_name}."


def disclosure_es(practice_name: str) -> str:
    return f"Soy un asistente de inteligencia artificial de {practice_name}."
