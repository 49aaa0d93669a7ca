"""An inbound call's hand-over to staff whose end the carrier reports after the call's record
closed (Twilio: the `<Dial>` to the staff line reports to its action callback; docs/carriers.md).

An outbound call's record waits for the carrier's final report, which carries the dial's result,
so its conversation gets `TransferFailed` before it is applied. An inbound call's record closes
when its media stream ends (`close_inbound_call`), which is before Twilio even starts the dial.
So its conversation is kept, encrypted, in `live_calls` under the call's key when it closes
with a transfer under way (`keep_for_dial_report`), and the dial's result, from any process,
completes it (`record_inbound_dial`): a dial no one took adds the `TransferFailed` and applies
it as `apply_conversation` does, a "Call the patient back" task. Each kept conversation is
claimed once (a retried callback makes no second task); unclaimed ones go with the live-call
records' purge (two days).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob
from ringfence.adapters.db.carriers import LiveCall
from ringfence.adapters.telephony.live_calls import DONE, with_failed_transfer
from ringfence.agent.callee import Conversation
from ringfence.agent.conversation_json import conversation_from_json, conversation_to_json
from ringfence.agent.events import TransferFailed, TransferRequested
from ringfence.domain.vocabulary import CallDirection, CallOutcome, CallStatus
from ringfence.services.call_outcomes import FinishedCall, apply_failed_transfer
from ringfence.services.unit_of_work import UnitOfWork

log = logging.getLogger("ringfence.inbound")


def transfer_under_way(conversation: Conversation) -> bool:
    """The agent handed the caller to staff and no failure is known yet."""
    events = conversation.events
    return any(isinstance(e, TransferRequested) for e in events) and not any(
        isinstance(e, TransferFailed) for e in events
    )


def keep_for_dial_report(
    session: Session, key: str, conversation: Conversation, *, at: datetime
) -> None:
    """Keep the conversation of the inbound call under `key` (in the transaction that closes
    it) for the report of its hand-over to staff."""
    session.add(
        LiveCall(
            idempotency_key=key,
            state=DONE,
            began_at=at,
            finished_at=at,
            conversation=conversation_to_json(conversation),
        )
    )


def record_inbound_dial(uow: UnitOfWork, *, key: str, call_sid: str, why: str | None) -> bool:
    """How the hand-over to staff of the inbound call under `key` (Twilio's `call_sid`) ended:
    `why` it did not connect, None when staff took it. A failed one gets its "Call the patient
    back" task. False when no such inbound call is on record; a second report of one call
    changes nothing (committed)."""
    session = uow.session
    job = session.scalars(
        select(CallJob).where(
            CallJob.idempotency_key == key,
            CallJob.direction == CallDirection.INBOUND,
            CallJob.carrier_call_id == call_sid,
        )
    ).one_or_none()
    if job is None:
        return False
    kept = session.scalars(select(LiveCall).where(LiveCall.idempotency_key == key)).one_or_none()
    if kept is None or kept.state != DONE or kept.conversation is None:
        return True  # reported already, or no hand-over was kept (the close failed)
    conversation = conversation_from_json(kept.conversation)
    # Claimed by its deletion: of two reports at once, one deletes the row and applies it.
    claimed = session.execute(
        delete(LiveCall).where(LiveCall.id == kept.id, LiveCall.state == DONE)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        uow.rollback()
        return True
    if why is not None and job.status is CallStatus.COMPLETED:
        failed = with_failed_transfer(conversation, why)
        apply_failed_transfer(session, _finished(job, uow.clock.now()), failed)
        log.info("inbound call %d: the transfer to staff failed (%s)", job.id, why)
    uow.commit()
    return True


def _finished(job: CallJob, now: datetime) -> FinishedCall:
    """The closed call the task is made for: filed under the contact its close chose."""
    return FinishedCall(
        job_id=job.id,
        account_id=job.account_id,
        location_id=job.location_id,
        contact_id=job.contact_id,
        outcome=job.outcome or CallOutcome.CONNECTED,
        answered_at=job.created_at,
        ended_at=now,
    )
