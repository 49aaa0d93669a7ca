"""The durable record of each call asked of Twilio (its rows of `carrier_calls`): read a row
as `CallState`, fold news into it under a row lock."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.carriers import CarrierCall
from ringfence.adapters.telephony.call_records import rows_of
from ringfence.adapters.telephony.twilio.state import CallState, Observation, observe
from ringfence.domain.vocabulary import CarrierKind

_TWILIO = rows_of(CarrierKind.TWILIO)
DIAL_STATUS = "dial_status"  # in `details`: the DialCallStatus of the hand-over to staff

log = logging.getLogger("ringfence.twilio")


# --- The durable record ---------------------------------------------------------------------


def state_of_row(row: CarrierCall) -> CallState:
    return CallState(
        idempotency_key=row.idempotency_key,
        call_sid=row.carrier_call_id,
        to_e164=row.to_address,
        from_e164=row.from_e164,
        requested_at=row.requested_at,
        status=row.status,
        refused=row.refused,
        answered_by=row.answered_by,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        carrier_reason=row.carrier_reason,
        hung_up_at=row.hung_up_at,
        checked_at=row.checked_at or row.requested_at,
        dial_status=(row.details or {}).get(DIAL_STATUS),
    )


def _write(row: CarrierCall, state: CallState) -> None:
    row.carrier_call_id = state.call_sid
    row.status = state.status
    row.refused = state.refused
    row.answered_by = state.answered_by
    row.answered_at = state.answered_at
    row.ended_at = state.ended_at
    row.carrier_reason = state.carrier_reason
    row.hung_up_at = state.hung_up_at
    row.checked_at = state.checked_at


def record(
    sessions: sessionmaker[Session], key: str, news: Observation, *, now: datetime
) -> CallState | None:
    """Apply `news` to the call under `key` in its own short transaction (None: no such call).

    News naming another CallSid than the one on record is ignored (and logged): a key names one
    call. Raises SQLAlchemyError.
    """
    with sessions() as session:
        row = session.scalars(
            select(CarrierCall).where(_TWILIO, CarrierCall.idempotency_key == key).with_for_update()
        ).one_or_none()
        if row is None:
            return None
        before = state_of_row(row)
        if news.call_sid and before.call_sid and news.call_sid != before.call_sid:
            log.warning("news of call %s ignored: key %s is call %s", news.call_sid, key, before)
            return before
        after = observe(before, news, now=now)
        _write(row, after)
        session.commit()
        return after


def record_dial_status(
    sessions: sessionmaker[Session], key: str, call_sid: str, dial_status: str
) -> CallState | None:
    """Keep how the hand-over to staff ended (`<Dial>`'s action callback) on the call under
    `key`, for its report (None: no such call, or `call_sid` is another call's)."""
    with sessions() as session:
        row = session.scalars(
            select(CarrierCall).where(_TWILIO, CarrierCall.idempotency_key == key).with_for_update()
        ).one_or_none()
        if row is None or row.carrier_call_id != call_sid:
            return None
        row.details = {**(row.details or {}), DIAL_STATUS: dial_status}
        state = state_of_row(row)
        session.commit()
        return state


def key_of_call(sessions: sessionmaker[Session], call_sid: str) -> str | None:
    """The idempotency key of the Twilio call `call_sid` (None: not ours)."""
    with sessions() as session:
        return session.scalars(
            select(CarrierCall.idempotency_key).where(
                _TWILIO, CarrierCall.carrier_call_id == call_sid
            )
        ).one_or_none()


def chunks(keys: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for i in range(0, len(keys), size):  # bounded IN lists
        yield keys[i : i + size]
