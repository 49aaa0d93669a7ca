"""What a live call's media endpoint hands to its carrier's reports: the conversation as held
(and where its recording was stored), keyed by the dial's idempotency key.

The media endpoint holds the call's audio (the web process, for Twilio's media streams; the
worker itself, for SIP); the carrier's `completed_reports` (the dispatcher, in a worker that may
be another process) reports the call once its status is final. `LiveCallResults` joins the two
through the database (`live_calls`): the endpoint says a call's media `began`, then `finished`
with its record (the conversation encrypted like every transcript); the carrier holds a final
report back while the media of its call is still being wrapped up (the stream's stop and the
status callback race), and `take`s (or `peek`s) the record into the report. Records are
purged two days after the call (`purge`, from the worker's hourly pass).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ringfence.adapters.db.carriers import LiveCall
from ringfence.adapters.telephony.base import TelephonyError
from ringfence.agent.callee import Conversation
from ringfence.agent.conversation_json import conversation_from_json, conversation_to_json
from ringfence.agent.events import EndReason, TransferFailed, TransferRequested, outcome_of
from ringfence.clock import Clock
from ringfence.domain.vocabulary import CallOutcome

log = logging.getLogger("ringfence.carriers")

LIVE = "live"
DONE = "done"
REPORTED = "reported"
# Records are kept this long (encrypted), then purged: long enough for a stopped dispatcher to
# come back and report its calls, short against any account's transcript retention.
KEEP = timedelta(days=2)


def live_outcome(conversation: Conversation) -> CallOutcome:
    """An answered call's outcome as its audio told it: the agent left a voicemail when the
    answering-machine detection heard a machine, else a person was on the line."""
    if conversation.ended_by is EndReason.VOICEMAIL:
        return CallOutcome.VOICEMAIL
    return CallOutcome.CONNECTED


def with_failed_transfer(conversation: Conversation, why: str) -> Conversation:
    """The conversation with a `TransferFailed` after its transfer (its outcome follows: staff
    call back); unchanged when the agent never handed the call over."""
    asked = [e for e in conversation.events if isinstance(e, TransferRequested)]
    if not asked or any(isinstance(e, TransferFailed) for e in conversation.events):
        return conversation
    events = (*conversation.events, TransferFailed(asked[-1].to, why))
    return replace(conversation, events=events, outcome=outcome_of(events))


@dataclass(frozen=True, slots=True)
class LiveCallRecord:
    """A live call's conversation, and its stored recording (path relative to the recordings
    directory; None when it could not be written)."""

    conversation: Conversation
    recording_path: str | None = None
    recording_seconds: float | None = None
    answer_to_first_audio_ms: float = 0.0


class LiveCallResults:
    """Thread- and process-safe: every method is one short transaction."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = session_factory
        self._clock = clock

    def began(self, key: str) -> None:
        now = self._clock.now()
        try:
            with self._sessions() as session, session.begin():
                session.execute(delete(LiveCall).where(LiveCall.idempotency_key == key))
                session.add(LiveCall(idempotency_key=key, state=LIVE, began_at=now))
        except IntegrityError:  # a second stream of the call began at the same moment
            log.warning("live call %s: media began twice", key)

    def finished(self, key: str, record: LiveCallRecord | None) -> None:
        """The media of the call ended; `record` is None when there is nothing to report."""
        with self._sessions() as session, session.begin():
            row = session.scalar(select(LiveCall).where(LiveCall.idempotency_key == key))
            if record is None:
                if row is not None:
                    session.delete(row)
                return
            if row is None:
                row = LiveCall(idempotency_key=key, began_at=self._clock.now())
                session.add(row)
            row.state = DONE
            row.finished_at = self._clock.now()
            row.conversation = conversation_to_json(record.conversation)
            row.recording_path = record.recording_path
            row.recording_seconds = record.recording_seconds
            row.answer_to_first_audio_ms = record.answer_to_first_audio_ms

    def in_progress(self, key: str) -> bool:
        """Whether the call's media has begun and not finished yet."""
        with self._sessions() as session:
            state = session.scalar(select(LiveCall.state).where(LiveCall.idempotency_key == key))
        return state == LIVE

    def take(self, key: str) -> LiveCallRecord | None:
        """The record of the call under `key`, once (None when none is held, or it was taken).
        Taking marks it reported; the row stays until `purge` (a crash before the report is
        applied can still `peek` it)."""
        try:
            with self._sessions() as session, session.begin():
                claimed = session.execute(
                    update(LiveCall)
                    .where(LiveCall.idempotency_key == key, LiveCall.state == DONE)
                    .values(state=REPORTED)
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    return None
                return self._record(session, key)
        except SQLAlchemyError as exc:
            raise TelephonyError(f"the record of live call {key} cannot be read: {exc}") from exc

    def peek(self, key: str) -> LiveCallRecord | None:
        """The record of the call under `key`, taken or not (None while live or unknown)."""
        try:
            with self._sessions() as session:
                return self._record(session, key)
        except SQLAlchemyError as exc:
            raise TelephonyError(f"the record of live call {key} cannot be read: {exc}") from exc

    def purge(self, *, older_than: timedelta = KEEP) -> int:
        """Delete the records of calls that began before `older_than` ago (reported long
        since, or abandoned by a stopped process). Returns how many went."""
        cutoff = self._clock.now() - older_than
        with self._sessions() as session, session.begin():
            gone = session.execute(delete(LiveCall).where(LiveCall.began_at < cutoff))
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]

    def _record(self, session: Session, key: str) -> LiveCallRecord | None:
        row = session.scalar(
            select(LiveCall).where(
                LiveCall.idempotency_key == key, LiveCall.state.in_((DONE, REPORTED))
            )
        )
        if row is None or row.conversation is None:
            return None
        try:
            conversation = conversation_from_json(row.conversation)
        except ValueError:
            log.exception("live call %s: its record cannot be read; reported without it", key)
            return None
        return LiveCallRecord(
            conversation=conversation,
            recording_path=row.recording_path,
            recording_seconds=row.recording_seconds,
            answer_to_first_audio_ms=row.answer_to_first_audio_ms,
        )
