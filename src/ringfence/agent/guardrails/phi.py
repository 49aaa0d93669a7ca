"""PHI minimisation for what the agent says (spec, HIPAA considerations: "Don't have the agent
recite specific clinical details in the call body ... 'calling to confirm your Botox touch-up
at 2 PM' is fine, but 'calling to confirm your filler dissolution following last week's
complications' is not.").

`PHI_TERMS` is the documented term list (docs/agent.md): complications and symptoms,
diagnoses and conditions, medicines, doses, records. The appointment's own service name is
allowed (once the patient's identity is confirmed); it is masked before the terms are
checked, so a service called "Acne facial" may be named while "acne" elsewhere may not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from ringfence.agent.text import clauses

PHI_TERMS: Final[tuple[tuple[str, str], ...]] = (
    # complications and symptoms
    ("complication", r"complicat\w*|adverse (event|reaction)s?|side effects?"),
    (
        "symptom",
        r"swell\w*|swollen|bruis\w*|lumps?|numb(ness|ed|ing)?|rash\w*|itch\w*|blister\w*|"
        r"(?<!a )pain|painful|bleed\w*|scar|scars|scarring|droop\w*|ptosis|asymmetr\w*|"
        r"nause\w*|fever\w*|headaches?",
    ),
    ("infection", r"infect\w*|abscess\w*|pus|cellulitis"),
    ("vascular_event", r"necros\w*|occlu\w*|vascular|blanch\w*|blindness|vision loss|embol\w*"),
    ("reaction", r"allerg\w*|anaphyla\w*|reaction"),
    (
        "corrective_procedure",
        r"dissol\w*|hyaluronidase|revision|correct\w* (treatment|procedure)|botched",
    ),
    # diagnoses and conditions
    ("diagnosis", r"diagnos\w*|condition|disorder|disease|syndrome"),
    (
        "condition",
        r"acne|rosacea|melasma|psoriasis|eczema|dermatitis|vitiligo|alopecia|"
        r"hyperhidrosis|cancer|carcinoma|melanoma|lesions?|herpes|cold sores?|lupus|diabetes|"
        r"diabetic|hiv|hepatitis|depression|anxiety|obesity|pregnan\w*|breastfeed\w*",
    ),
    # medicines, doses and records
    (
        "medication",
        r"medications?|medicines?|prescri\w*|antibiotics?|antivirals?|steroids?|"
        r"blood thinners?|aspirin|ibuprofen|acyclovir|valacyclovir|valtrex|accutane|"
        r"isotretinoin|tretinoin|prednisone|lidocaine|semaglutide|ozempic|wegovy|tirzepatide|"
        r"mounjaro|warfarin",
    ),
    ("dose", r"dosage|doses?|\d+ ?units|units of|\d+ ?(mg|ml|cc)|milligrams?|milliliters?"),
    ("record", r"lab results?|test results?|biopsy|pathology|medical history|chart notes?"),
)
_PATTERNS: Final = tuple((label, re.compile(rf"\b({p})\b")) for label, p in PHI_TERMS)
_MASK: Final = "allowedservice"


def phi_terms_in(text: str, *, allowed: Sequence[str] = ()) -> tuple[str, ...]:
    """Labels of the PHI terms in `text`, after masking the `allowed` phrases (the service)."""
    lowered = text.lower()
    for phrase in allowed:
        if phrase.strip():
            lowered = lowered.replace(phrase.lower(), _MASK)
    found: list[str] = []
    for clause in clauses(lowered):
        for label, pattern in _PATTERNS:
            if label not in found and pattern.search(clause):
                found.append(label)
    return tuple(found)


def mentions(text: str, phrase: str) -> bool:
    """Whether `text` says `phrase` (case-insensitive, whitespace-tolerant)."""
    wanted = " ".join(phrase.lower().split())
    return bool(wanted) and wanted in " ".join(text.lower().split())
