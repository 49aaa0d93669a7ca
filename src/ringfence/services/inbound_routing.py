"""The facts an incoming call is decided on, loaded for `domain/inbound.py`.

The one query here that is not scoped by account is the first: which practices registered
the dialed number. An incoming call names no tenant; the number it was dialed to is how the
carrier (and so we) know whose call it is, and the domain refuses it when that is ambiguous.
Everything after is read within the one account the call was routed to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.orm import Contact, PhoneNumber
from ringfence.domain.inbound import (
    RETURN_WINDOW,
    CallerCandidate,
    OurCall,
    PracticeLine,
    Recognition,
    Refused,
    Routed,
    UnknownCaller,
    normalized,
    recognise_caller,
    returned_call,
    route_call,
)
from ringfence.domain.vocabulary import CallDirection, CallType
from ringfence.services.facts import aware


@dataclass(frozen=True, slots=True)
class AnsweredCall:
    """An incoming call routed to a practice line, with who may be calling and the call of
    ours it may be returning."""

    line: PracticeLine
    caller: str | None  # E.164, None when withheld
    recognition: Recognition
    returning: OurCall | None


def practice_lines(session: Session, dialed: str) -> list[PracticeLine]:
    """Every caller ID registered as `dialed`, in any account (see the module's docstring)."""
    number = normalized(dialed)
    if number is None:
        return []
    rows = session.execute(
        select(PhoneNumber.account_id, PhoneNumber.location_id, PhoneNumber.id, PhoneNumber.e164)
        .where(PhoneNumber.e164 == number)
        .order_by(PhoneNumber.id)
    )
    return [PracticeLine(a, loc, n, e164) for a, loc, n, e164 in rows]


def caller_candidates(session: Session, account_id: int, caller: str) -> list[CallerCandidate]:
    """The account's contacts whose number is the caller's."""
    rows = session.execute(
        select(Contact.id, Contact.location_id, Contact.first_name, Contact.last_name)
        .where(Contact.account_id == account_id, Contact.phone_e164 == caller)
        .order_by(Contact.id)
    )
    return [CallerCandidate(i, loc, first or "", last or "") for i, loc, first, last in rows]


def our_calls(session: Session, account_id: int, number: str, since: datetime) -> list[OurCall]:
    """The live calls the account dialed to `number` since `since` (test calls ring nobody)."""
    rows = session.execute(
        select(CallJob.id, CallJob.contact_id, CallJob.purpose, CallJob.dialed_at).where(
            CallJob.account_id == account_id,
            CallJob.phone_e164 == number,
            CallJob.call_type == CallType.LIVE,
            CallJob.direction == CallDirection.OUTBOUND,  # a call they made is not ours
            CallJob.dialed_at.is_not(None),
            CallJob.dialed_at >= since,
        )
    )
    return [
        OurCall(job_id, contact_id, purpose, aware(at))
        for job_id, contact_id, purpose, at in rows
        if at is not None
    ]


def answer_incoming(
    session: Session, *, dialed: str, caller: str | None, now: datetime
) -> AnsweredCall | Refused:
    """Route an incoming call and gather what the agent needs to greet it, or the refusal."""
    decision = route_call(dialed, practice_lines(session, dialed))
    if not isinstance(decision, Routed):
        return decision
    line = decision.line
    number = normalized(caller)
    if number is None:
        return AnsweredCall(line, None, UnknownCaller(withheld=True), None)
    candidates = caller_candidates(session, line.account_id, number)
    calls = our_calls(session, line.account_id, number, now - RETURN_WINDOW)
    return AnsweredCall(
        line=line,
        caller=number,
        recognition=recognise_caller(number, candidates, location_id=line.location_id),
        returning=returned_call(calls, now),
    )
