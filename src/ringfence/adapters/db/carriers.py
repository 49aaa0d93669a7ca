"""Ringfence's durable record of the calls it asked a carrier (Twilio, a SIP trunk) to place.

One table for every carrier (`carrier_calls`). Twilio's REST API has no idempotency key and a
SIP dialog dies with its process, so at-most-once dialing rests on this table: the row claiming
a key is committed *before* the request is sent (one key, one request), the carrier's call id
is written when known, and callbacks, polls or the call's end keep its state. See
docs/carriers.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ringfence.adapters.db.crypto import EncryptedJSON
from ringfence.adapters.db.orm import Base, enum_column
from ringfence.domain.vocabulary import CarrierKind


class CarrierCall(Base):
    """One call Ringfence asked a carrier (`carrier`) to place: the claim of its idempotency key,
    committed before the request or INVITE is sent (`adapters/telephony/call_records.py`), then
    its state as the carrier reports it.

    Common to every carrier; what only one carrier knows goes in `details` (SIP: the INVITE's
    final response code). A key names one call per carrier.
    """

    __tablename__ = "carrier_calls"
    __table_args__ = (
        UniqueConstraint("carrier", "idempotency_key"),
        UniqueConstraint("carrier", "carrier_call_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier: Mapped[CarrierKind] = mapped_column(enum_column(CarrierKind, "carrier_kind"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    # The carrier's id of the call once known: Twilio's CallSid (a local "RF..." id for a
    # request Twilio refused at once), the SIP Call-ID (chosen before the INVITE).
    carrier_call_id: Mapped[str | None] = mapped_column(String(128))
    job_id: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(Integer)
    to_address: Mapped[str] = mapped_column(String(255))  # E.164, or the SIP request URI
    from_e164: Mapped[str] = mapped_column(String(20))
    # When the request was (last) sent: the call's dial time for Ringfence.
    requested_at: Mapped[datetime]
    # The carrier's own vocabulary: Twilio's "requested"/"not_placed" then its call statuses;
    # SIP's "calling" then the outcome.
    status: Mapped[str] = mapped_column(String(20))
    refused: Mapped[bool] = mapped_column(Boolean, default=False)  # refused at once
    answered_by: Mapped[str | None] = mapped_column(String(32))  # answering-machine detection
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    carrier_reason: Mapped[str | None] = mapped_column(String(200))
    # Ringfence asked the carrier to end the call (a cancel before the answer is reported as
    # no answer, as the sandbox does).
    hung_up_at: Mapped[datetime | None]
    # The last news of the call (a callback or a poll): Twilio polls only calls gone quiet.
    checked_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


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
