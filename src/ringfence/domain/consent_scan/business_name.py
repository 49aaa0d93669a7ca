"""Does the consent name the practice? (the `business_name` element)

Prior express written consent names the seller the consumer agrees to hear from (47 CFR
64.1200(f)(9)); "we", "our clinic" or a lead vendor's name does not identify the practice.

Present: the name as given, compared word by word after folding case, punctuation and accents,
with "&" read as "and", a possessive "'s" dropped, a leading "The" and trailing legal suffixes
(LLC, Inc., Co., PLLC, ...) optional on both sides, and spaces inside the name optional
("DermaGlow" = "Derma Glow").
Weak: only a short form (the name's distinctive words without its generic ones, capitalised in
the text: "Harbor View Dermatology" for "Harbor View Dermatology & Laser Center"), an acronym of
three or more of its words ("BHPS"), or the name only in a copyright footer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ringfence.domain.consent_scan.elements import Status
from ringfence.domain.consent_scan.text import ConsentText, fold, words

LEGAL_SUFFIXES: Final = frozenset(
    {
        "llc", "inc", "incorporated", "co", "corp", "corporation", "ltd", "limited", "pllc",
        "pc", "pa", "llp", "lp", "plc", "company", "sc",
    }
)  # fmt: skip

# Words that describe the kind of practice rather than name it: "Glow Aesthetics Med Spa"'s
# distinctive part is "Glow".
GENERIC_WORDS: Final = frozenset(
    {
        "med", "medical", "spa", "spas", "medspa", "aesthetic", "aesthetics", "esthetics",
        "clinic", "clinics", "center", "centre", "centers", "dermatology", "derm", "plastic",
        "plastics", "surgery", "surgeons", "surgical", "cosmetic", "cosmetics", "skin",
        "skincare", "care", "laser", "lasers", "wellness", "beauty", "institute", "associates",
        "group", "studio", "lab", "facial", "body", "health", "medicine", "family", "partners",
        "practice", "salon", "boutique", "and", "of", "the", "at", "by", "dr", "md", "do",
        "mohs", "vein", "rejuvenation", "antiaging", "anti", "aging", "specialists",
    }
)  # fmt: skip

# Upper-case words that are never a practice's acronym in a consent text.
_NOT_ACRONYMS: Final = frozenset(
    {"sms", "mms", "stop", "help", "atds", "tcpa", "ai", "usa", "faq", "hipaa", "fcc", "ctia"}
)
_FOOTER: Final = re.compile(r"\u00a9|\(c\)|\bcopyright\b|\ball rights reserved\b")


@dataclass(frozen=True, slots=True)
class NameJudgement:
    status: Status
    reason: str


def name_words(business_name: str) -> list[str]:
    """The name's words without a leading "the" and trailing legal suffixes."""
    tokens = words(fold(business_name))
    if tokens and tokens[0] == "the":
        tokens = tokens[1:]
    while len(tokens) > 1 and tokens[-1] in LEGAL_SUFFIXES:
        tokens = tokens[:-1]
    return tokens


def _find(needle: Sequence[str], haystack: Sequence[str]) -> list[int]:
    """Start indexes where `needle` occurs in `haystack` as a contiguous run."""
    n = len(needle)
    if n == 0:
        return []
    return [i for i in range(len(haystack) - n + 1) if list(haystack[i : i + n]) == list(needle)]


def _compact_found(needle: Sequence[str], haystack: Sequence[str]) -> bool:
    """The name with its spaces removed equals a run of text words joined ("derma glow" vs
    "dermaglow"), compared on word boundaries so "glow" never matches inside "glowing"."""
    target = "".join(needle)
    if len(target) < 6:
        return False
    for i in range(len(haystack)):
        joined = ""
        for token in haystack[i:]:
            joined += token
            if joined == target:
                return True
            if len(joined) >= len(target) or not target.startswith(joined):
                break
    return False


def _distinctive(tokens: Sequence[str]) -> list[str]:
    """The longest run of non-generic words in the name ([] when every word is generic)."""
    best: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if token and token not in GENERIC_WORDS:
            run.append(token)
            continue
        if len(run) > len(best):
            best = run
        run = []
    return best


def _acronyms(tokens: Sequence[str]) -> set[str]:
    """Initials of the name's leading words (three or more): "Beverly Hills Plastic Surgery
    Group" -> bhp, bhps, bhpsg."""
    letters = "".join(t[0] for t in tokens if t not in {"and", "of", "the"})
    return {letters[:n] for n in range(3, len(letters) + 1)} - _NOT_ACRONYMS


def _cased_words(cased: str) -> list[tuple[str, str]]:
    """(lower, as written) word pairs of the cased text, tokenised like `words`."""
    out: list[tuple[str, str]] = []
    for match in re.finditer(r"[A-Za-z0-9]+(?:['.][A-Za-z0-9]+)*|&", cased):
        written = match.group()
        lowered = words(written)
        if lowered:
            out.append((lowered[0], written))
    return out


def judge_business_name(text: ConsentText, business_name: str) -> NameJudgement:
    wanted = name_words(business_name)
    if not wanted:
        return NameJudgement(Status.MISSING, "No practice name was given to look for.")
    sentences = text.sentences
    consent_sentences = [s for s in sentences if not _FOOTER.search(s)]
    body = [w for s in consent_sentences for w in words(s)]
    everywhere = [w for s in sentences for w in words(s)]
    if _find(wanted, body) or _compact_found(wanted, body):
        return NameJudgement(Status.PRESENT, "The practice is named.")
    if _find(wanted, everywhere):
        return NameJudgement(
            Status.WEAK,
            "The practice is named only in the footer, not in the consent itself.",
        )
    cased = _cased_words(text.cased)
    core = _distinctive(wanted)
    if core and core != wanted:
        for start in _find(core, [lowered for lowered, _ in cased]):
            if cased[start][1][:1].isupper():
                return NameJudgement(
                    Status.WEAK,
                    f"The practice appears only as a short form ({' '.join(core)!s}); "
                    "use its full name.",
                )
    acronyms = _acronyms(wanted) if len(wanted) >= 3 else set()
    for lowered, written in cased:
        if lowered in acronyms and written.isupper():
            return NameJudgement(
                Status.WEAK, f"The practice appears only as an acronym ({written})."
            )
    return NameJudgement(
        Status.MISSING,
        'The practice is not named ("we"/"our clinic" or another business does not identify '
        "who may call).",
    )
