"""Clinical questions go to staff, never answered by the agent (spec, HIPAA considerations:
"If a patient asks the agent clinical questions, the agent should defer to a human staff
member rather than answering.").

`assess_clinical` finds clinical content in what the callee said: symptoms, dosage, side
effects, complications, medicines and interactions. Signals of a possible complication after
a treatment (worsening swelling, severe pain, vision changes, blanching or white/grey skin
after filler, fever, infection, trouble breathing or swallowing, a drooping eyelid...) make
the staff task URGENT. Patterns are whole words on normalised clauses; "a pain to get to"
and "bump it to Thursday" are not symptoms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ringfence.agent.text import clauses

_CLINICAL_TEXT: Final = {
    "symptom": r"\b(swell\w*|swollen|bruis\w*|lumps?|lumpy|bumpy|cold sores?|"
    r"a (small |little |tiny |hard )?bump|bumps|a bump (on|under|in|near)|numb(ness|"
    r"ed|ing)?|"
    r"itch\w*|rash\w*|redness|red spots?|tender\w*|soreness|sore (on|at|where)|aching|ache|"
    r"headaches?|(?<!a )pain|painful|hurts?|hurting|blisters?|scab\w*|scar|scars|scarring|"
    r"burn(s|ed|ing)? (on|skin|mark)|bleed\w*|nause\w*|dizz\w*|hives|reaction|droop\w*|"
    r"asymmetr\w*|uneven|lopsided|tingl\w*|stinging)\b",
    "dosage": r"\b(dosage|doses?|how many (units|syringes|vials)|how much (botox|filler|dysport|"
    r"xeomin|product)|units of|\d+ units|mg|milligrams?|ml|cc)\b",
    "side_effect": r"\b(side effects?|complications?|risks?|downtime|recovery time)\b",
    "normal_question": r"\b(is|it is|that is|this is) (this |that |it )?(normal|expected|safe) (to|"
    r"that|for|after|if)\b|\b(is|it is|that is|this is) (this |that |it )?(normal|expected|safe)$|"
    r"\bsupposed to (peel|look|feel|hurt|swell|bruise)\b|"
    r"\b(work ?out|exercise|fly|sauna|massage) (after|before)\b|"
    r"\bshould i (be )?(worried|worry|concerned)\b",
    "medication": r"\b(medications?|medicines?|meds|pills?|prescriptions?|antibiotics?|"
    r"blood thinners?|painkillers?|aspirin|ibuprofen|advil|motrin|tylenol|aleve|arnica|"
    r"accutane|retin a|tretinoin|retinol|prednisone|steroids?|fish oil|vitamin e|"
    r"ozempic|semaglutide|alcohol|wine|smok\w*|drink(ing)? (wine|alcohol)|interact\w*)\b",
    "pregnancy": r"\b(pregnan\w*|breastfeed\w*|breast feed\w*|nursing)\b",
    "allergy": r"\b(allerg\w*|anaphyla\w*)\b",
}
_URGENT_TEXT: Final = {
    "worsening": r"\b(getting|got|gotten|is|it is|keeps getting) (worse|bigger|larger)\b|"
    r"\bworse\w*\b|\bspreading\b",
    "severe_pain": r"\b(severe|extreme|excruciating|unbearable|intense|terrible|really bad|"
    r"a lot of) (pain|swelling|headache)\b|\bexcruciating\b|\bunbearable\b",
    "vision": r"\b(vision|blurry|blurred|double vision|can not see|blind\w*|eyesight|"
    r"see (properly|clearly))\b",
    "blanching": r"\b(blanch\w*|(turn\w*|went|gone|skin) (white|grey|gray|blue|purple|dusky|"
    r"dark)|looks? (white|grey|gray|blue|dusky)|(white|grey|gray|blue|dusky|"
    r"mottled) (skin|patch|patches|spots?|area)|mottl\w*)\b",
    "fever": r"\b(fever\w*|chills|feverish|temperature)\b",
    "infection": r"\b(infect\w*|pus|oozing|hot to the touch|warm to the touch|abscess)\b",
    "breathing": r"\b(trouble|difficulty|hard|problems?|can not|struggling) (breath\w*|"
    r"swallow\w*)\b|\bshort(ness)? of breath\b|\b(throat|tongue) (is )?(swell\w*|"
    r"closing|tight)\b",
    "drooping": r"\b(droop\w*|ptosis|eyelid|slurred)\b",
    "emergency": r"\b(emergency|hospital|911|the er|urgent care|ambulance|chest pain)\b",
    "necrosis": r"\b(necros\w*|dying skin|black (skin|scab|spot))\b",
}
_CLINICAL: Final = tuple((label, re.compile(p)) for label, p in _CLINICAL_TEXT.items())
_URGENT: Final = tuple((label, re.compile(p)) for label, p in _URGENT_TEXT.items())


@dataclass(frozen=True, slots=True)
class ClinicalConcern:
    urgent: bool
    signals: tuple[str, ...]  # labels of what matched, e.g. ("symptom", "worsening")


def assess_clinical(text: str) -> ClinicalConcern | None:
    """Clinical content in the callee's words, and whether it may be a complication.

    Urgent signals count only alongside clinical words or on their own when unambiguous
    (vision, blanching, breathing, fever, infection, emergency): "worse" alone ("Tuesday is
    worse for me") is not a complication.
    """
    parts = clauses(text)  # once, not once per pattern
    found = [label for label, p in _CLINICAL for c in parts if p.search(c)]
    urgent = [label for label, p in _URGENT for c in parts if p.search(c)]
    standalone = [u for u in urgent if u not in {"worsening", "severe_pain"}]
    if not found and not standalone:
        if "severe_pain" in urgent:
            return ClinicalConcern(True, ("severe_pain",))
        return None
    signals = tuple(dict.fromkeys([*found, *urgent]))
    return ClinicalConcern(urgent=bool(urgent), signals=signals)
