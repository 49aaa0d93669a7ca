"""Right-party check before any appointment talk on an outbound call (spec, HIPAA
considerations: "Voice AI outbound calls can carry PHI"; our reading: confirm the first name
before naming the service or time, as a household member may answer).

`classify_identity_answer` reads the answer to "Am I speaking with Jane?". Only a clear yes
confirms; anything unclear is asked once more, then treated as "not the patient".
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from ringfence.agent.text import clauses


class IdentityAnswer(StrEnum):
    CONFIRMED = "confirmed"
    NOT_PATIENT = "not_patient"  # someone else answered, or the patient is not available
    WRONG_NUMBER = "wrong_number"
    UNCLEAR = "unclear"


WRONG_NUMBER: Final = re.compile(
    r"\b(wrong (number|person|phone)|no (one|body) (here )?(by|named|with|called) (that|this)|"
    r"nobody (here )?(by|named|with|called) (that|this)|no (one|body) (named|called)|"
    r"there is no \w+ here|you (have|got) the wrong|do not know (a|any|anyone|who)|"
    r"never heard of|not (a|the) (right|correct) number|no \w+ (lives|living) here)\b"
)
_NOT_PATIENT: Final = re.compile(
    r"^(no|nope|nah)\b|\b(she|he|they) (is|are) not (here|home|in|available|around)\b|"
    r"\b(she|he|they) (is|are) (out|busy|at work|away|asleep|sleeping)\b|"
    r"\bnot available\b|\bthis is (her|his|their) (husband|wife|partner|mom|mother|dad|father|"
    r"son|daughter|sister|brother|friend|roommate|assistant)\b|\bnot me\b|\bcan i take a message\b"
)
_YES: Final = re.compile(
    r"^(yes|yeah|yep|yup|ya|yea|sure|correct|right|speaking|that is me|this is me|it is me|"
    r"this is (she|he|her|him)|that is right|you got (her|him|me)|it is$|i am$|"
    r"i am (she|he|her|him)|uh huh|mhm|"
    r"yes ma'am|yes sir|absolutely|indeed|that would be me)\b"
)


def classify_identity_answer(text: str, first_name: str) -> IdentityAnswer:
    parts = clauses(text)
    if not parts:
        return IdentityAnswer.UNCLEAR
    joined = " | ".join(parts)
    if WRONG_NUMBER.search(joined):
        return IdentityAnswer.WRONG_NUMBER
    if any(_NOT_PATIENT.search(clause) for clause in parts):
        return IdentityAnswer.NOT_PATIENT
    name = " ".join(clauses(first_name))
    if _YES.search(parts[0]):
        return IdentityAnswer.CONFIRMED
    if name and re.search(
        rf"\b(this is|it is|i am|that is|speaking is) {re.escape(name)}\b|"
        rf"^{re.escape(name)}( speaking| here)?$",
        joined,
    ):
        return IdentityAnswer.CONFIRMED
    return IdentityAnswer.UNCLEAR
