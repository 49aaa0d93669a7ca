"""The labels the agent's understanding acts on (docs/agent-labels.md, the single definition).

A turn that carries several gets the first in `PRECEDENCE`: the order in which the agent must
act (an opt-out before anything, a doubt about talking to a machine before any answer, a
clinical question before any scheduling).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Label(StrEnum):
    OPT_OUT = "opt_out"
    AI_QUESTION = "ai_question"
    CLINICAL_QUESTION = "clinical_question"
    HUMAN_REQUEST = "human_request"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    CONFIRM = "confirm"
    WRONG_PERSON = "wrong_person"
    OTHER = "other"


PRECEDENCE: Final = tuple(Label)


class Language(StrEnum):
    EN = "en"
    ES = "es"
