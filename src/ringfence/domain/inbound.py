"""An incoming call, before the agent says a word: which practice line it is for, who may be
calling, and what may be said about an earlier call to that number.

Pure decisions over facts the shell loads (issue: inbound calls). Three rules matter most:

- **A call is answered for one practice or not at all.** Caller IDs are unique within an
  account only, so two practices on one install may both have registered a number; an
  incoming call to it cannot tell which practice the caller wants, and answering for the wrong
  one would disclose the other's patients. Such a call is refused, as is a call to a number no
  location owns.
- **A caller is recognised only by the number they call from, and never told who we think
  they are.** One contact with that number (a location holds a number once, so at most one at
  the called location, which comes first; then anywhere in the account) is a candidate, not
  an identity: the agent still checks identity before any detail. Several contacts have it at
  the account's other locations (a family line, a patient of two clinics): the agent asks who
  is calling and matches the answer (`match_spoken_name`); it never reads the names out.
- **"You called me?" gets the generic reason only, until identity is confirmed**: the same
  courtesy wording the voicemail left (agent/voicemail.py), nothing about a service, a time or
  a purpose that reveals someone is a patient.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from ringfence.domain.phone import InvalidPhoneNumber, to_e164
from ringfence.domain.vocabulary import CallPurpose

# How long after our call a call from that number is treated as its return.
RETURN_WINDOW: Final = timedelta(days=14)
# The names of the contacts an unknown caller's calls are filed under (one per number at the
# called location, one for withheld numbers): records, not people, so never "recognised".
UNKNOWN_CALLER_NAME: Final = "Unknown caller"
WITHHELD_CALLER_NAME: Final = "Withheld number"
PLACEHOLDER_NAMES: Final = frozenset({UNKNOWN_CALLER_NAME, WITHHELD_CALLER_NAME})


# -- which practice line --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PracticeLine:
    """A caller ID as registered: the number a patient may call back."""

    account_id: int
    location_id: int
    number_id: int
    e164: str


class RouteRefusal(StrEnum):
    NOT_A_NUMBER = "not_a_number"
    UNKNOWN_NUMBER = "unknown_number"
    SHARED_NUMBER = "shared_number"


_REFUSALS: Final = {
    RouteRefusal.NOT_A_NUMBER: "the dialed number is not a valid phone number",
    RouteRefusal.UNKNOWN_NUMBER: "no location owns the dialed number",
    RouteRefusal.SHARED_NUMBER: (
        "more than one practice has registered the dialed number: the call cannot be answered "
        "for either without risking the other's patients' details"
    ),
}


@dataclass(frozen=True, slots=True)
class Routed:
    line: PracticeLine


@dataclass(frozen=True, slots=True)
class Refused:
    reason: RouteRefusal
    dialed: str

    @property
    def explanation(self) -> str:
        return _REFUSALS[self.reason]


def normalized(raw: str | None) -> str | None:
    """A number as E.164 in any spelling a carrier sends ("+1212...", "2125550100"), else None."""
    if raw is None:
        return None
    try:
        return to_e164(raw)
    except InvalidPhoneNumber:
        return None


def route_call(dialed: str, lines: Sequence[PracticeLine]) -> Routed | Refused:
    """The practice line an incoming call to `dialed` is for (see the module's first rule)."""
    number = normalized(dialed)
    if number is None:
        return Refused(RouteRefusal.NOT_A_NUMBER, dialed)
    owners = [line for line in lines if line.e164 == number]
    if not owners:
        return Refused(RouteRefusal.UNKNOWN_NUMBER, number)
    if len({line.account_id for line in owners}) > 1:
        return Refused(RouteRefusal.SHARED_NUMBER, number)
    return Routed(min(owners, key=lambda line: line.number_id))


# -- who may be calling ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallerCandidate:
    """A contact of the called practice whose number is the caller's."""

    contact_id: int
    location_id: int
    first_name: str
    last_name: str


@dataclass(frozen=True, slots=True)
class UnknownCaller:
    withheld: bool  # no usable caller number at all (withheld, anonymous, not a number)


@dataclass(frozen=True, slots=True)
class LikelyCaller:
    """One contact has the caller's number: who to check identity against."""

    candidate: CallerCandidate


@dataclass(frozen=True, slots=True)
class SharedLine:
    """Several contacts have the number: ask who is calling, match with `match_spoken_name`."""

    candidates: tuple[CallerCandidate, ...]


Recognition = UnknownCaller | LikelyCaller | SharedLine


def recognise_caller(
    caller: str | None, contacts: Sequence[CallerCandidate], *, location_id: int
) -> Recognition:
    """Who may be calling, from the account's contacts with the caller's number (`contacts`
    must hold only those; the shell queries by number within the called account)."""
    if normalized(caller) is None:
        return UnknownCaller(withheld=True)
    people = [c for c in contacts if not (c.first_name in PLACEHOLDER_NAMES and not c.last_name)]
    here = [c for c in people if c.location_id == location_id]
    pool = here or people
    if not pool:
        return UnknownCaller(withheld=False)
    if len(pool) == 1:
        return LikelyCaller(pool[0])
    return SharedLine(tuple(sorted(pool, key=lambda c: c.contact_id)))


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join("".join(ch if ch.isalnum() else " " for ch in letters).split())


def match_spoken_name(spoken: str, candidates: Sequence[CallerCandidate]) -> CallerCandidate | None:
    """The one candidate the caller named ("it's Maria", "this is Maria López"), else None.

    A full name wins over a first name; a first name counts only when one candidate has it
    (two Marias on one line are asked again, never guessed)."""
    words = f" {_folded(spoken)} "

    def says(name: str) -> bool:
        folded = _folded(name)
        return bool(folded) and f" {folded} " in words

    full = [c for c in candidates if says(f"{c.first_name} {c.last_name}")]
    if len(full) == 1:
        return full[0]
    first = [c for c in candidates if says(c.first_name)]
    if len(first) == 1 and not full:
        return first[0]
    return None


# -- "you called me?" -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OurCall:
    """An outbound call we placed to the caller's number (dialed, any outcome)."""

    job_id: int
    contact_id: int
    purpose: CallPurpose
    dialed_at: datetime


def returned_call(
    calls: Sequence[OurCall], now: datetime, *, within: timedelta = RETURN_WINDOW
) -> OurCall | None:
    """Our latest call to the number in the last `within` (the one being returned), if any."""
    recent = [c for c in calls if now - within <= c.dialed_at <= now]
    return max(recent, key=lambda c: (c.dialed_at, c.job_id), default=None)


_CONFIRMED_REASONS: Final = {
    CallPurpose.APPOINTMENT_CONFIRMATION: "to confirm your upcoming appointment",
    CallPurpose.NO_SHOW_RECOVERY: "to help you book a new time after a missed appointment",
    CallPurpose.CONSULT_FOLLOW_UP: "to follow up on your recent consultation",
    CallPurpose.TREATMENT_REMINDER: "about a treatment that may be due",
    CallPurpose.LEAD_REACTIVATION: "with news and offers from the practice",
}


def reason_for_our_call(
    call: OurCall | None, *, practice: str, identity_confirmed_for: int | None
) -> str:
    """What the agent may say about why we called.

    Before the caller is confirmed as the very contact we called, only what the voicemail
    said: a courtesy message from the practice. After, the purpose in words (still no service
    or time: the dialogue's own templates add those once it has the appointment in hand)."""
    if call is None:
        return f"I don't see a recent call to this number from {practice}."
    if identity_confirmed_for != call.contact_id:
        return f"{practice} called this number with a courtesy message."
    return f"{practice} called {_CONFIRMED_REASONS[call.purpose]}."
