"""Text helpers shared by the guardrails: clause tokenising, sentences, speech timing.

Every detector works on *clauses* (text between . , ! ? ; and dashes), lower-cased, with
curly apostrophes unified and contractions expanded ("don't" -> "do not"), so one rule
covers "dont", "don't" and "do not", and a negation in one clause never leaks into the next
("don't stop, go on" is two clauses).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_CLAUSE_BREAK: Final = re.compile(r"[.,!?;:\n\u2014\u2013]+|\s-+\s")
_TOKEN: Final = re.compile(r"[a-z0-9']+")
_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+")
_CONTRACTIONS: Final[dict[str, str]] = {
    "don't": "do not",
    "dont": "do not",
    "doesn't": "does not",
    "doesnt": "does not",
    "didn't": "did not",
    "didnt": "did not",
    "won't": "will not",
    "can't": "can not",
    "cant": "can not",
    "cannot": "can not",
    "isn't": "is not",
    "aren't": "are not",
    "wasn't": "was not",
    "shouldn't": "should not",
    "wouldn't": "would not",
    "couldn't": "could not",
    "haven't": "have not",
    "i'm": "i am",
    "im": "i am",
    "i'd": "i would",
    "i'll": "i will",
    "i've": "i have",
    "you're": "you are",
    "youre": "you are",
    "it's": "it is",
    "that's": "that is",
    "thats": "that is",
    "what's": "what is",
    "she's": "she is",
    "he's": "he is",
    "there's": "there is",
    "wanna": "want to",
    "gonna": "going to",
    "pls": "please",
    "plz": "please",
    "ok": "okay",
    "u": "you",
    "r": "are",
    "stp": "stop",
    "stopp": "stop",
    "remoove": "remove",
    "cal": "call",
    "callin": "calling",
    "callng": "calling",
    "agian": "again",
    "alon": "alone",
    "unsubscibe": "unsubscribe",
    "talkin": "talking",
    "swolen": "swollen",
    "efects": "effects",
}


def clauses(text: str) -> list[str]:
    """The text's clauses, each normalised to single-spaced lower-case tokens."""
    lowered = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    result: list[str] = []
    for part in _CLAUSE_BREAK.split(lowered):
        words: list[str] = []
        for token in _TOKEN.findall(part):
            token = _CONTRACTIONS.get(token, token).strip("'")
            if token.endswith("'s"):  # possessive: "jane's" -> "jane"
                token = token[:-2]
            if token:
                words.append(token)
        if words:
            result.append(" ".join(words))
    return result


def unaccented(text: str) -> str:
    """`text` with its accents dropped ("número" -> "numero"), so Spanish words match however
    they were typed or transcribed."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if not unicodedata.combining(c))


def normalized(text: str) -> str:
    """All clauses joined by " | " (a separator no pattern matches across)."""
    return " | ".join(clauses(text))


def sentences(text: str) -> list[str]:
    """Sentences split after . ! or ? followed by whitespace (no abbreviation handling:
    callers mask names that contain periods first)."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def word_count(text: str) -> int:
    return len(text.split())


def speech_seconds(text: str, words_per_minute: float) -> float:
    """How long `text` takes to say at `words_per_minute` (at least 0.4 s for a short word)."""
    return max(0.4, word_count(text) * 60.0 / words_per_minute)


def spoken_number(e164: str) -> str:
    """A US E.164 number as people say and read it: "+13055550123" -> "305-555-0123"."""
    digits = e164.removeprefix("+1") if e164.startswith("+1") and len(e164) == 12 else None
    if digits is None:
        return e164
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
