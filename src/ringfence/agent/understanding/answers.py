"""The answer to "Would you like us to stop calling this number?".

Only a clear no keeps the call going: the whole turn is a refusal ("no", "nope", "no, that's
fine", "no, you can keep calling", "no gracias") and nothing else. Anything longer, anything
the understanding reads as an opt-out, silence or mumbling is an opt-out: the callee was
already in doubt, and FCC 24-24 puts the burden on the caller.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from ringfence.agent.text import clauses

_NO: Final = r"(no+|nope|nah|no no|no no no|not at all|not really|of course not|no sorry)"
_TAIL: Final = (
    r"(thanks|thank you|gracias|sorry|that is (fine|ok|okay)|it is (fine|ok|okay)|"
    r"i am (good|fine|ok|okay)|(you can )?keep (calling|calling me)|you can call( me)?|"
    r"(it is|that is) all right|esta bien|por favor|i was just asking|"
    r"i did not mean that|i want the (appointment|reminder|reminders|calls))"
)


def _no_then(tails: str) -> re.Pattern[str]:
    """A refusal and nothing after it but `tails`."""
    return re.compile(rf"^(um |uh |oh )?{_NO}( ({tails}))*$")


_CLEAR_NO: Final = _no_then(_TAIL)


def is_clear_no(text: str) -> bool:
    """Whether `text` is nothing but a refusal (normalised: lowercase, no punctuation)."""
    return bool(_CLEAR_NO.match(_plain(text)))


# What a "no" to "Would you like us to stop calling this number?" may carry and still be a
# clear no: the patient keeping the appointment, or addressing the caller ("no, I'm coming",
# "no no, sí voy a ir", "no señorita"). Nothing here can revoke: a word outside these ("no,
# just text me", "no, I'm done") still makes the answer an opt-out. Never a Spanish verb a
# "no" can bind once the comma is lost: "no, sigan llamando" (keep calling) and "no sigan
# llamando" (stop) read the same to speech-to-text, as do "no, quiero los recordatorios" and
# "no quiero los recordatorios", or "no voy a ir".
_KEEPING: Final = (
    r"(i am (still )?coming|i will (still )?(be there|come|make it)|i am keeping (it|the "
    r"appointment)|i want to keep (it|the appointment)|keep (it|the appointment|the reminders)|"
    r"please keep calling|that is not what i meant|i misunderstood|miss|ma'?am|ma am|mam|sir|"
    r"si (voy|voy a ir|ire)|ahi (estare|voy a estar)|senorita|senora|senor|que va|para nada|"
    r"no se preocupe|todo bien)"
)
_NO_KEEPING: Final = _no_then(f"{_TAIL}|{_KEEPING}")


def keeps_the_calls(text: str) -> bool:
    """Whether `text`, said to the opt-out question, is a clear no: a refusal, with nothing
    else than keeping the appointment or addressing the caller ("no, I'm coming", "no no, sí
    voy a ir"); "no, sigan llamando" is not one (without its comma it asks to stop)."""
    return bool(_NO_KEEPING.match(_plain(text)))


_YES: Final = (
    r"(yes|yeah|yep|yup|yea|sure|okay|ok|alright|all right|correct|right|speaking|"
    r"si|claro|uh huh|mhm|of course|absolutely|definitely)"
)
_YES_TAIL: Final = (
    r"(that is me|it is|this is (she|he|her|him|me)|speaking|please|thanks|thank you|"
    r"gracias|soy yo|por favor|go ahead|sure|that is right|it is me)"
)
_CLEAR_YES: Final = re.compile(rf"^(um |uh |oh )?{_YES}( {_YES_TAIL})*$")
_SPEAKING: Final = re.compile(r"^(this is (she|he|her|him)|that is me|it is me|soy yo)$")


def is_clear_yes(text: str) -> bool:
    """Whether `text` is nothing but an assent ("yes", "yeah that's me", "speaking", "sí")."""
    said = _plain(text)
    return bool(_CLEAR_YES.match(said) or _SPEAKING.match(said))


def is_bare_answer(text: str) -> bool:
    """A bare yes or no: its meaning is the agent's question's, not the words' own."""
    return is_clear_yes(text) or is_clear_no(text)


def _plain(text: str) -> str:
    # Accents are dropped first: the clause tokenizer keeps ASCII letters only ("está").
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(clauses(plain))
