"""The inbound side of Twilio's routes (entrypoints/api/carriers/twilio.py): answering a call to
a practice number, holding its session for its stream until a deadline, and the report of its
hand-over to staff (the `<Dial>`'s action callback), which completes its closed record
(services/inbound_transfers.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, cast

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from ringfence.adapters.telephony.media import MediaSession, MediaSessionFactory
from ringfence.adapters.telephony.twilio.pending import PendingStream, PendingStreams
from ringfence.adapters.telephony.twilio.state import transfer_failure_of
from ringfence.adapters.telephony.twilio.webhooks import dial_result
from ringfence.bootstrap import Container
from ringfence.domain.inbound import Refused, normalized
from ringfence.services.inbound_calls import NoAgent
from ringfence.services.inbound_live import AtCapacity, InboundCallSession, InboundLiveCalls
from ringfence.services.inbound_transfers import record_inbound_dial

log = logging.getLogger("ringfence.twilio")


def answer_call(
    inbound: InboundLiveCalls, pending: PendingStreams, *, dialed: str, caller: str | None, sid: str
) -> str | Refused | NoAgent | AtCapacity:
    """The agent's session held for the call's stream (its key), or why it is not answered.
    Withheld callers ("anonymous", Twilio's "+266696687" spelling of it) are no number."""
    answered = inbound.answer(
        dialed=dialed,
        caller=normalized(caller),
        carrier_call_id=sid,
        transfer_reported_later=True,  # the <Dial>'s action callback (twilio_dial)
    )
    if isinstance(answered, Refused | NoAgent | AtCapacity):
        return answered
    return pending.hold(sid, answered)


# Strong references to the expiry timers (the event loop keeps only weak ones to its tasks).
_EXPIRY_TIMERS: set[asyncio.Task[None]] = set()


def discard_when_due(pending: PendingStreams) -> None:
    """Close the call unanswered if its stream has not taken its session by its deadline."""
    timer = asyncio.get_running_loop().create_task(_expire_after(pending))
    _EXPIRY_TIMERS.add(timer)
    timer.add_done_callback(_EXPIRY_TIMERS.discard)


async def _expire_after(pending: PendingStreams) -> None:
    await asyncio.sleep(pending.ttl_s + 0.25)  # the loop may wake a little early
    await run_in_threadpool(pending.discard_expired)  # writes to the database


def discard_pending_at_shutdown(app: FastAPI, pending: PendingStreams) -> None:
    """Close, when the server stops, the calls still waiting for their stream: their expiry
    timers die with the event loop, and a record left in progress would hold a line of the
    concurrent-call limit until the dispatcher's sweep settles it."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Mapping[str, Any] | None]:
        async with inner(app_) as state:
            try:
                yield state
            finally:
                closed = await run_in_threadpool(pending.discard_all)  # database writes
                if closed:
                    log.warning("server stopping: %d inbound call(s) closed unanswered", closed)

    # Starlette types the attribute as one of two context shapes; ours passes either through.
    app.router.lifespan_context = cast(Any, lifespan)


def held_session(inbound: PendingStream) -> MediaSessionFactory:
    def session_of(_key: str) -> MediaSession:
        return inbound.session

    return session_of


def record_key_of(inbound: PendingStream | None) -> str | None:
    """The key an inbound call's record is under (its hand-over is reported under it)."""
    session = None if inbound is None else inbound.session
    return session.record_key if isinstance(session, InboundCallSession) else None


def record_inbound_dial_report(container: Container, key: str, form: dict[str, str]) -> str | None:
    """The `<Dial>` of an inbound call ended (its action callback, signed): why it did not
    bridge (None: staff took it). Raises ValueError without CallSid and DialCallStatus."""
    sid, dial_status = dial_result(form)
    failed = transfer_failure_of(dial_status)
    with container.uow() as uow:
        if not record_inbound_dial(uow, key=key, call_sid=sid, why=failed):
            log.warning("dial callback for unknown inbound call %s (call %s)", key, sid)
    return failed


def report_failed_hand_over(container: Container, key: str, call_sid: str, why: str) -> None:
    """Twilio refused the hand-over (the redirect): reported as a dial no one took."""
    try:
        with container.uow() as uow:
            record_inbound_dial(uow, key=key, call_sid=call_sid, why=why)
    except Exception:
        # The stream is still to be closed; the call is on record, without the task.
        log.exception("inbound call %s: its refused transfer could not be recorded", call_sid)
