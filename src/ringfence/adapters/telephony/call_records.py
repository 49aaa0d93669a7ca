"""The one "claim the key before sending" step every carrier takes (`carrier_calls`).

A carrier that cannot be asked "did you already place this key?" (Twilio's REST API, a SIP
trunk) keeps at-most-once dialing by committing a row that claims the key *before* the
request leaves: the unique (carrier, idempotency key) lets exactly one process win it, and
only the winner sends. What the loser does (wait for the winner's answer, report the call the
winner placed, re-claim a dial declared never placed) is the carrier's own logic.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ringfence.adapters.db.carriers import CarrierCall
from ringfence.domain.vocabulary import CarrierKind


def claim_key(session: Session, row: CarrierCall) -> bool:
    """Insert `row` (its carrier and key) and commit. False, with nothing written, when that
    carrier's key is already claimed. Raises SQLAlchemyError when the database cannot say."""
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def rows_of(carrier: CarrierKind) -> ColumnElement[bool]:
    """The condition selecting one carrier's rows (every query of a carrier starts with it)."""
    return CarrierCall.carrier == carrier
