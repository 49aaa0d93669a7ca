"""Ringfence's durable record of the calls it asked a carrier (Twilio, a SIP trunk) to place.

Twilio's REST API has no idempotency key, so at-most-once dialing rests on this table: the
row claiming a key is committed *before* the create-call request is sent (one key, one
request), the CallSid is written when Twilio answers, and status callbacks (which carry the
key in their signed URL) and REST polls keep its state. See docs/carriers.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ringfence.adapters.db.crypto import EncryptedJSON
from ringfence.adapters.db.orm import Base


class TwilioCall(Base):
    __tablename__ = "twilio_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # Twilio's CallSid once known; a local "RF..." id for a request Twilio refused at once.
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    job_id: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(Integer)
    to_e164: Mapped[str] = mapped_column(String(20))
    from_e164: Mapped[str] = mapped_column(String(20))
    # When the create request was (last) sent: the call's dial time for Ringfence.
    requested_at: Mapped[datetime]
    # "requested" (sent, answer not recorded), "not_placed" (Twilio never got it), then
    # Twilio's own call statuses: queued, ringing, in-progress, completed, busy, no-answer,
    # failed, canceled.
    status: Mapped[str] = mapped_column(String(20))
    refused: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_by: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    carrier_reason: Mapped[str | None] = mapped_column(String(200))
    # Ringfence asked Twilio to end the call (a cancel before the answer is not a no-answer
    # by the callee, but it is reported as one, as the sandbox does).
    hung_up_at: Mapped[datetime | None]
    # The last news of the call (a callback or a REST poll): polls only calls gone quiet.
    checked_at: Mapped[datetime]


class SipCall(Base):
    """A call placed through the SIP trunk. The row claiming a key is committed before the
    INVITE is sent; the final state is written when the dispatcher takes the call's report.
    A SIP dialog lives in the process that placed it: a row left unfinished by a stopped
    worker is reported, once the longest possible call has passed, as failed ("call lost")."""

    __tablename__ = "sip_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    call_id: Mapped[str] = mapped_column(String(128), unique=True)  # the SIP Call-ID
    job_id: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(Integer)
    to_uri: Mapped[str] = mapped_column(String(255))
    from_e164: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime]
    # "calling" until the call ends, then the outcome (connected, voicemail, busy, ...).
    status: Mapped[str] = mapped_column(String(20))
    sip_status: Mapped[int | None] = mapped_column(Integer)  # the INVITE's final response
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    carrier_reason: Mapped[str | None] = mapped_column(String(200))


class LiveCall(Base):
    """A live call's media, from the process that holds its audio to the dispatcher that reports
    it (`adapters/telephony/live_calls.py`). "live" while the media runs; "done" with the
    conversation (encrypted: it is the transcript) and the stored recording once it stopped;
    the row is deleted when the carrier takes it into the call's report."""

    __tablename__ = "live_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(10))
    began_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    conversation: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    recording_path: Mapped[str | None] = mapped_column(String(255))
    recording_seconds: Mapped[float | None] = mapped_column(Float)
    answer_to_first_audio_ms: Mapped[float] = mapped_column(Float, default=0.0)
