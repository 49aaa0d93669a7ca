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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Literal

Language = Literal["en", "es", "mixed"]

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
    `spans`: (begin, end) of each sentence of `lower`, in order.
    `language`: "en", "es" or "mixed" (`detect_language`); Spanish patterns are read only when
    the text has Spanish in it, so that "IA" in "Des Moines, IA" is never an AI voice."""

    cased: str
    lower: str
    checkboxes: tuple[bool, ...]
    spans: tuple[tuple[int, int], ...]
    language: Language = "en"

    @property
    def spanish(self) -> bool:
        return self.language != "en"

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
        cased=cased,
        lower=lower,
        checkboxes=html_checkboxes(raw),
        spans=sentence_spans(lower),
        language=detect_language(lower),
    )


# Function words frequent in consent texts and rare in the other language.
_SPANISH_WORDS: Final = frozenset(
    {
        "el", "la", "los", "las", "del", "al", "que", "y", "o", "en", "por", "para", "con",
        "mi", "mis", "su", "sus", "es", "una", "un", "se", "lo", "le", "este", "esta", "estos",
        "acepto", "autorizo", "puede", "pueden", "puedo", "numero", "llamadas", "mensajes",
        "consentimiento", "telefono", "casilla", "cualquier", "momento", "nuestra", "nuestros",
    }
)  # fmt: skip
_ENGLISH_WORDS: Final = frozenset(
    {
        "the", "and", "to", "of", "i", "you", "my", "your", "is", "may", "by", "with", "at",
        "for", "this", "that", "be", "are", "we", "our", "or", "any", "will", "can", "from",
        "in", "on", "agree", "calls", "number", "consent", "phone", "box", "time",
    }
)  # fmt: skip


def detect_language(lower: str) -> Language:
    """ "es" for a Spanish text, "mixed" for a text with a Spanish passage (a bilingual form),
    "en" otherwise; counted on frequent function words."""
    tokens = _WORD.findall(lower)
    spanish = sum(t in _SPANISH_WORDS for t in tokens)
    english = sum(t in _ENGLISH_WORDS for t in tokens)
    share = spanish / (spanish + english) if spanish + english else 0.0
    if spanish and share >= 0.75:
        return "es"
    if spanish >= 4 and share >= 0.15:
        return "mixed"
    return "en"


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
# A negated verb within this many words after a term, in the same clause, flips it too
# ("artificial or prerecorded voices will not be used").
NEGATION_WINDOW_AFTER: Final = 8
_NEGATORS: Final = frozenset(
    {
        "not", "never", "no", "without", "cannot", "nor", "neither",
        "nunca", "jamas", "sin", "ni", "tampoco",
    }
)  # fmt: skip
# "not required to purchase", "no cost", "without giving consent", "do not call registry",
# "no es una condicion de compra": a negator that belongs to another phrase (mostly the
# not-a-condition-of-purchase statement), not to the term after it.
_NEGATOR_EXCEPTIONS: Final = re.compile(
    r"^(?:a |an )?(?:condition|requirement|required|obligated|obligation|needed|necessary|"
    r"prerequisite|cost|charge|purchase|later|more than|have to|need to|mandatory)\b"
    r"|^(?:giving |providing |granting )?(?:this |your |my |such )?(?:consent|agreeing|"
    r"consenting|agreement|authori[sz]ation)\b"
    r"|^call (?:list|registry)\b"
    r"|^(?:es |son |sera |seran )?(?:una? )?(?:condicion|requisito|obligatori\w*|necesari\w*)\b"
    r"|^(?:se )?(?:requiere|requieren|exige|necesita)\b|^(?:esta|estan|estas) obligad\w*"
    r"|^(?:tiene|tienen|tengo|tienes) que\b|^(?:costo|cargo)\b"
    r"|^(?:dar|otorgar|proporcionar|aceptar)\w* (?:su |mi |este |el )?consentimiento\b"
)
# Clause boundaries: a negation never reaches across one.
_CLAUSE_BREAK: Final = re.compile(
    r"[.;:!?()\"]|\s-\s|\bbut\b|\bhowever\b|\bexcept\b|\bunless\b|\bpero\b|\bsino\b|"
    r"\bexcepto\b|\bsalvo\b"
)
# A comma starts a new clause when a conjunction or a subject follows it ("we never sell your
# data, and calls may use an AI voice"); other commas are lists or asides ("we will never,
# under any circumstances, use an artificial voice").
_CLAUSE_COMMA: Final = re.compile(
    r",\s*(?:and|or|so|yet|while|although|though|because|which|who|whom|whose|where|when|if|"
    r"we|you|i|they|he|she|it|our|your|these|this|that|those|calls?|messages?|texts?|only|"
    r"just|instead|rather|y|o|pero|que|porque|aunque|usted|ustedes|nosotros|yo|las|los|la|el)"
    r"\b"
)
# After a term, a subordinate or a new subject ends its clause as well.
_AFTER_BREAK: Final = re.compile(
    r"\b(?:if|when|whenever|unless|even|whether|that|who|which|because|while|although|si|"
    r"cuando|que|aunque)\b|\b(?:and|or|but|y|o|pero)\s+(?:i|you|we|they|he|she|it|yo|usted|"
    r"nosotros)\b"
)
_NEGATED_VERB: Final = re.compile(
    r"\b(?:will|would|shall|should|are|is|be|been|was|were|do|does|did|can|could|may|might|"
    r"must)\s+(?P<aux>not|never)\b|\b(?P<never>never|nunca|jamas)\b|"
    r"\b(?P<no>no)\s+(?:se\s+)?(?:us[ae]\w*|utiliz\w*|emple\w*|ser\w*|es|son|esta\w*|"
    r"incluy\w*|realiz\w*|hac\w*|hara\w*)\b"
)


def _clause_before(lower: str, start: int) -> str:
    # Ten words never span more than a few hundred characters; the cap keeps long texts linear.
    before = lower[max(0, start - 400) : start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    return before[breaks[-1].end() :] if breaks else before


def _negates(after: str) -> bool:
    """The negator just read applies to what follows it (`after`, the text right after it)."""
    return not _NEGATOR_EXCEPTIONS.match(after.lstrip(" -"))


def is_negated(lower: str, start: int) -> bool:
    """True when the term at `lower[start:]` is negated: a negator ("not", "never", "no",
    "without", ..., Spanish "no", "nunca", "sin") among the NEGATION_WINDOW words before it,
    with no clause break between.
    "we will never use an automated system" -> True; "consent is not a condition of purchase;
    calls may use an autodialer" -> False."""
    clause = _clause_before(lower, start)
    tokens = list(re.finditer(r"[a-z0-9']+", clause))[-NEGATION_WINDOW:]
    for token in tokens:
        if token.group() not in _NEGATORS:
            continue
        between = clause[token.end() :]
        if _CLAUSE_COMMA.search(between):
            continue
        if _negates(between):
            return True
    return False


def is_negated_after(lower: str, end: int) -> bool:
    """True when the clause goes on, within NEGATION_WINDOW_AFTER words of the term ending at
    `lower[end]`, with a negated verb: "AI voices will not be used", "la voz artificial no se
    usara". "AI-voice calls are not a condition of purchase" -> False."""
    after = lower[end : end + 300]
    stops = [m.start() for m in (_CLAUSE_BREAK.search(after), _CLAUSE_COMMA.search(after)) if m]
    stop = _AFTER_BREAK.search(after)
    if stop:
        stops.append(stop.start())
    clause = after[: min(stops)] if stops else after
    words_seen = list(re.finditer(r"[a-z0-9']+", clause))
    if len(words_seen) > NEGATION_WINDOW_AFTER:
        clause = clause[: words_seen[NEGATION_WINDOW_AFTER].start()]
    return any(_negates(clause[m.end(m.lastgroup or 0) :]) for m in _NEGATED_VERB.finditer(clause))


def negated(lower: str, match: re.Match[str]) -> bool:
    """The term `match` is negated before or after it (for the voice and dialer terms)."""
    return is_negated(lower, match.start()) or is_negated_after(lower, match.end())


def rx(*alternatives: str) -> re.Pattern[str]:
    """One pattern matching any of `alternatives`."""
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


@dataclass(frozen=True, slots=True)
class Bilingual:
    """An element's English pattern, and the same with its Spanish forms added: `of(text)`
    picks the one for the text's language."""

    en: re.Pattern[str]
    both: re.Pattern[str]

    def of(self, text: ConsentText) -> re.Pattern[str]:
        return self.both if text.spanish else self.en


def bilingual(english: Sequence[str], spanish: Sequence[str]) -> Bilingual:
    return Bilingual(rx(*english), rx(*english, *spanish))


def affirmed(pattern: re.Pattern[str], lower: str) -> Iterator[re.Match[str]]:
    """Matches of `pattern` in `lower` that are not negated (`is_negated`)."""
    return (m for m in pattern.finditer(lower) if not is_negated(lower, m.start()))
