"""Consent text as the scanner reads it: HTML stripped, entities decoded, quotes and dashes
straightened, accents folded, contractions expanded, whitespace collapsed.

Forms hold whatever the practice pasted: HTML from a page builder, text copied from a Word
document (curly quotes, non-breaking spaces and hyphens), upper-case banners, line breaks in the
middle of a sentence. Normalising once here keeps every element's patterns simple.
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

_SCRIPT: Final = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT: Final = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG: Final = re.compile(r"<[a-zA-Z/!][^<>]*>")
_INPUT: Final = re.compile(r"<input\b[^<>]*>", re.IGNORECASE)
_CHECKBOX: Final = re.compile(r"""\btype\s*=\s*["']?checkbox\b""", re.IGNORECASE)
# A boolean attribute: `checked`, `checked="checked"`, `checked=""` (not `data-checked`).
_CHECKED: Final = re.compile(r"""(?<![-\w])checked(?![-\w])""", re.IGNORECASE)

_TRANSLATE: Final = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2212": "-",
        "\u2013": " - ",
        "\u2014": " - ",
        "\u2015": " - ",
        "\u00a0": " ",
    }
)

# Order matters: the specific forms before the generic "n't".
_CONTRACTIONS: Final = (
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bcan't\b"), "cannot"),
    (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"),
    (re.compile(r"\b(i|you|we|they)'ve\b"), r"\1 have"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"\b(you|we|they)'re\b"), r"\1 are"),
    (re.compile(r"\b(i|you|we|they)'ll\b"), r"\1 will"),
)

_SPACE: Final = re.compile(r"\s+")
# A full stop after an abbreviation or an initial ("Aura Skin Co.", "incl.", "Dr.", "J.")
# does not end the sentence.
_ABBREVIATIONS: Final = (
    "co", "inc", "corp", "ltd", "llc", "pllc", "dr", "mr", "mrs", "ms", "st", "incl", "approx",
    "etc", "e.g", "i.e", "vs", "no", "tel", "ph", "ave", "msgs", "msg", "mo", "wk", "u.s",
)  # fmt: skip
_NOT_AFTER_ABBREVIATION: Final = "".join(
    rf"(?<!\b{re.escape(a)}\.)" for a in sorted(_ABBREVIATIONS, key=len)
)
_SENTENCE_END: Final = re.compile(
    rf"(?:(?<=[!?;])|(?<=\.){_NOT_AFTER_ABBREVIATION}(?<!\b[a-z]\.))\s+|\s*\n\s*\n\s*"
)
_WORD: Final = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*|&")


@dataclass(frozen=True, slots=True)
class ConsentText:
    """`cased`: normalised, case kept (for capitalised short forms and acronyms).
    `lower`: `cased` lower-cased, with contractions expanded; what the patterns read.
    `checkboxes`: one entry per HTML checkbox input, True when it is pre-checked.
    `spans`: (begin, end) of each sentence of `lower`, in order."""

    cased: str
    lower: str
    checkboxes: tuple[bool, ...]
    spans: tuple[tuple[int, int], ...]

    @property
    def sentences(self) -> tuple[str, ...]:
        return tuple(self.lower[b:e] for b, e in self.spans)

    def sentence_at(self, position: int) -> tuple[int, int]:
        """(begin, end) of the sentence holding `position` (the gap before a sentence belongs
        to it)."""
        index = bisect.bisect_right(self.spans, position, key=lambda span: span[1])
        return self.spans[min(index, len(self.spans) - 1)] if self.spans else (0, 0)


def fold(text: str) -> str:
    """Quotes and dashes straightened, compatibility forms and accents folded away."""
    text = unicodedata.normalize("NFKC", text.translate(_TRANSLATE)).translate(_TRANSLATE)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def strip_html(raw: str) -> str:
    """Text content of an HTML fragment (plain text passes through unchanged)."""
    text = _COMMENT.sub(" ", _SCRIPT.sub(" ", raw))
    text = _TAG.sub(" ", text)
    return html.unescape(text)


def html_checkboxes(raw: str) -> tuple[bool, ...]:
    """Every `<input type="checkbox">` in `raw`, True for those rendered checked."""
    inputs = (m.group() for m in _INPUT.finditer(raw))
    return tuple(bool(_CHECKED.search(tag)) for tag in inputs if _CHECKBOX.search(tag))


def expand_contractions(lower: str) -> str:
    for pattern, replacement in _CONTRACTIONS:
        lower = pattern.sub(replacement, lower)
    return lower


def normalise(raw: str) -> ConsentText:
    plain = fold(strip_html(raw))
    cased = _SPACE.sub(" ", plain).strip()
    # `lower` keeps paragraph breaks (as "\n\n") so that sentences end there too.
    paragraphs = [_SPACE.sub(" ", part).strip() for part in re.split(r"\n\s*\n", plain)]
    lower = expand_contractions("\n\n".join(p for p in paragraphs if p).lower())
    return ConsentText(
        cased=cased, lower=lower, checkboxes=html_checkboxes(raw), spans=sentence_spans(lower)
    )


def sentence_spans(lower: str) -> tuple[tuple[int, int], ...]:
    """(begin, end) of each sentence (also split at semicolons and paragraph breaks); good
    enough to scope a negation or a consent verb, not a linguistic parser."""
    spans: list[tuple[int, int]] = []
    begin = 0
    for match in [*_SENTENCE_END.finditer(lower), None]:
        end = match.start() if match else len(lower)
        if lower[begin:end].strip():
            spans.append((begin, end))
        begin = match.end() if match else end
    return tuple(spans)


def words(text: str) -> list[str]:
    """Word tokens: dots and apostrophes inside a token dropped ("p.c." -> "pc",
    "o'neil" -> "oneil"), a possessive "'s" removed, "&" read as "and"."""
    out: list[str] = []
    for token in _WORD.findall(text.lower()):
        if token == "&":
            out.append("and")
            continue
        if token.endswith("'s"):
            token = token[:-2]
        out.append(token.replace("'", "").replace(".", ""))
    return out


# A negator within this many words before a term, in the same clause, flips it.
NEGATION_WINDOW: Final = 10
_NEGATORS: Final = frozenset({"not", "never", "no", "without", "cannot", "nor", "neither"})
# "not required to purchase", "no cost": a negator that belongs to another phrase.
_NEGATOR_EXCEPTIONS: Final = re.compile(
    r"^(?:a |an )?(?:condition|requirement|required|obligated|obligation|needed|necessary|"
    r"prerequisite|cost|charge|purchase|later|more than|have to|need to|mandatory)\b"
)
_CLAUSE_BREAK: Final = re.compile(r"[.;:!?,()\"]|\s-\s|\bbut\b|\bhowever\b|\bexcept\b")


def is_negated(lower: str, start: int) -> bool:
    """True when the term at `lower[start:]` is negated: a negator ("not", "never", "no",
    "without", ...) among the NEGATION_WINDOW words before it, with no clause break between.
    "we will never use an automated system" -> True; "consent is not a condition of purchase;
    calls may use an autodialer" -> False."""
    # Ten words never span more than a few hundred characters; the cap keeps long texts linear.
    before = lower[max(0, start - 400) : start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    clause_start = breaks[-1].end() if breaks else 0
    clause = before[clause_start:]
    tokens = list(re.finditer(r"[a-z0-9']+", clause))[-NEGATION_WINDOW:]
    for token in tokens:
        if token.group() in _NEGATORS:
            after = clause[token.end() :].lstrip()
            if not _NEGATOR_EXCEPTIONS.match(after):
                return True
    return False


def rx(*alternatives: str) -> re.Pattern[str]:
    """One pattern matching any of `alternatives`."""
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def affirmed(pattern: re.Pattern[str], lower: str) -> Iterator[re.Match[str]]:
    """Matches of `pattern` in `lower` that are not negated (`is_negated`)."""
    return (m for m in pattern.finditer(lower) if not is_negated(lower, m.start()))
