"""A Twilio call's state, pure: what a status callback or a REST resource says (`Observation`),
folded into `CallState` (statuses only move forward), and the report it makes."""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from ringfence.adapters.telephony.base import (
    CallReport,
    CarrierCallState,
    completed_report,
)
from ringfence.adapters.telephony.twilio.rest import TwilioCallResource
from ringfence.domain.vocabulary import CallOutcome

REQUESTED: Final = "requested"
NOT_PLACED: Final = "not_placed"
IN_PROGRESS: Final = "in-progress"
FINAL_STATUSES: Final = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# Statuses only move forward: a late "ringing" callback never undoes an "in-progress".
_RANK: Final = {REQUESTED: 0, NOT_PLACED: 0, "queued": 1, "initiated": 1, "ringing": 2}
_RANK_IN_PROGRESS: Final = 3
# Twilio's clock and ours may disagree a little when matching a call to a request by time.
CLOCK_SKEW: Final = timedelta(seconds=60)


# --- The call's state: pure -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Observation:
    """What Twilio said about a call at one moment: a status callback, or a REST resource."""

    status: str  # Twilio's CallStatus; "" when it says nothing of the status (an AMD result)
    at: datetime  # when it was true (a callback's Timestamp; the time of a REST answer)
    call_sid: str | None = None
    ended_at: datetime | None = None
    talk_seconds: int | None = None  # Twilio's duration: from the answer to the end
    answered_by: str | None = None
    reason: str | None = None  # error code, SIP response


@dataclass(frozen=True, slots=True)
class CallState:
    """A Twilio call's row of `carrier_calls`, as a value."""

    idempotency_key: str
    call_sid: str | None
    to_e164: str
    from_e164: str
    requested_at: datetime
    status: str
    refused: bool
    answered_by: str | None
    answered_at: datetime | None
    ended_at: datetime | None
    carrier_reason: str | None
    hung_up_at: datetime | None
    checked_at: datetime
    # Twilio's DialCallStatus of the agent's hand-over to staff (`<Dial action=...>`), if any.
    dial_status: str | None = None

    @property
    def final(self) -> bool:
        return self.refused or self.status in FINAL_STATUSES


def _rank(status: str) -> int:
    return _RANK_IN_PROGRESS if status == IN_PROGRESS else _RANK.get(status, -1)


def observe(state: CallState, news: Observation, *, now: datetime) -> CallState:
    """The call's state after `news`. Statuses only move forward and the first final word
    stands (callbacks arrive out of order, and a poll may race them); a late word on who
    answered (asynchronous AMD) is still kept."""
    answered_by = state.answered_by or news.answered_by
    if state.final:
        return replace(state, answered_by=answered_by, checked_at=now)
    call_sid = state.call_sid or news.call_sid
    status = news.status
    if status in FINAL_STATUSES:
        ended = max(news.ended_at or news.at, state.requested_at)
        answered: datetime | None = None
        if status == "completed":
            # Twilio's duration (what it bills) places the answer; without it, the moment
            # the call was first seen answered (a callback's timestamp, or a poll's).
            if news.talk_seconds is not None:
                answered = ended - timedelta(seconds=news.talk_seconds)
            else:
                answered = state.answered_at or ended
            answered = min(max(answered, state.requested_at), ended)
        return replace(
            state,
            call_sid=call_sid,
            status=status,
            answered_by=answered_by,
            answered_at=answered,
            ended_at=ended,
            carrier_reason=news.reason or state.carrier_reason,
            checked_at=now,
        )
    if _rank(status) > _rank(state.status):
        answered_at = state.answered_at
        if status == IN_PROGRESS and answered_at is None:
            answered_at = max(news.at, state.requested_at)
        return replace(
            state,
            call_sid=call_sid,
            status=status,
            answered_by=answered_by,
            answered_at=answered_at,
            checked_at=now,
        )
    return replace(state, call_sid=call_sid, answered_by=answered_by, checked_at=now)


def outcome_of(state: CallState) -> tuple[CallOutcome, str | None]:
    """The outcome of an ended call, and the carrier's reason where it did not connect."""
    reason = state.carrier_reason
    match state.status:
        case "completed":
            answered_by = (state.answered_by or "").lower()
            if answered_by.startswith("machine"):
                return CallOutcome.VOICEMAIL, None
            if answered_by == "fax":
                return CallOutcome.FAILED, "answered by a fax machine"
            return CallOutcome.CONNECTED, None
        case "busy":
            return CallOutcome.BUSY, reason
        case "no-answer":
            return CallOutcome.NO_ANSWER, reason
        case "canceled" if state.hung_up_at is not None:
            return CallOutcome.NO_ANSWER, reason  # Ringfence gave up before anyone answered
        case "canceled":
            return CallOutcome.FAILED, reason or "canceled by the carrier"
        case _:
            return CallOutcome.FAILED, reason or "call failed"


# DialCallStatus values (Twilio's <Dial> action callback) that mean staff took the call.
_BRIDGED: Final = frozenset({"completed", "answered"})


def transfer_failure_of(dial_status: str) -> str | None:
    """Why a `<Dial>` to the staff line did not bridge (None: staff answered), in words for
    the task staff get."""
    if dial_status in _BRIDGED:
        return None
    match dial_status:
        case "busy":
            return "the staff line was busy"
        case "no-answer":
            return "no one on the staff line answered"
        case "canceled":
            return "the patient hung up before staff answered"
        case "failed":
            return "the staff line could not be reached"
        case _:
            return f"the staff line's dial ended {dial_status!r}"


def report_of(state: CallState) -> CallReport:
    """Where the call stands, in the contract's terms."""
    key, sid, dialed = state.idempotency_key, state.call_sid or "", state.requested_at
    if state.refused:
        return CallReport(
            idempotency_key=key,
            carrier_call_id=sid,
            state=CarrierCallState.COMPLETED,
            dialed_at=dialed,
            ended_at=dialed,
            outcome=CallOutcome.FAILED,
            duration_seconds=0,
            billable_seconds=0,
            carrier_reason=state.carrier_reason,
        )
    if state.status in FINAL_STATUSES:
        ended = state.ended_at or dialed
        answered = state.answered_at if state.status == "completed" else None
        outcome, reason = outcome_of(state)
        report = completed_report(
            key,
            sid,
            dialed=dialed,
            answered=answered,
            ended=ended,
            outcome=outcome,
            reason=reason,
        )
        if state.dial_status is None:
            return report
        return replace(report, transfer_failed=transfer_failure_of(state.dial_status))
    if state.status == IN_PROGRESS:
        return CallReport(
            key, sid, CarrierCallState.IN_PROGRESS, dialed, answered_at=state.answered_at
        )
    return CallReport(key, sid, CarrierCallState.RINGING, dialed)


def observation_of_resource(call: TwilioCallResource, now: datetime) -> Observation:
    return Observation(
        status=call.status or "queued",
        at=now,
        call_sid=call.sid,
        ended_at=call.end_time,
        talk_seconds=_int_or_none(call.duration),
        answered_by=call.answered_by or None,
    )


def observation_of_callback(form: Mapping[str, str], now: datetime) -> Observation:
    """A status callback's parameters (CallSid, CallStatus, Timestamp, CallDuration, AnsweredBy,
    SipResponseCode, ErrorCode, ErrorMessage). Raises ValueError without CallSid/CallStatus."""
    sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
    if not sid or not status:
        raise ValueError("a status callback needs CallSid and CallStatus")
    at = _rfc2822(form.get("Timestamp")) or now
    final = status in FINAL_STATUSES
    reason = None
    if final and status != "completed":
        parts = []
        if form.get("ErrorCode"):
            message = form.get("ErrorMessage", "")
            parts.append(f"Twilio {form['ErrorCode']}" + (f": {message}" if message else ""))
        if form.get("SipResponseCode"):
            parts.append(f"SIP {form['SipResponseCode']}")
        reason = "; ".join(parts)[:200] or None
    return Observation(
        status=status,
        at=at,
        call_sid=sid,
        ended_at=at if final else None,
        talk_seconds=_int_or_none(form.get("CallDuration")),
        answered_by=form.get("AnsweredBy") or None,
        reason=reason,
    )


def _rfc2822(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None
