"""Call jobs and their transitions: the dispatcher's durable state and the dial history.

A job counts as a *dial* once `dialed_at` is set (it moved to `dialing` with its throttle slot
reserved). Jobs failed or canceled before dialing never have `dialed_at`, so they never count
toward any limit and never book minutes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Table, Text, insert
from sqlalchemy.orm import Mapped, mapped_column

from ringfence.adapters.db.crypto import EncryptedJSON
from ringfence.adapters.db.orm import Base, enum_column
from ringfence.adapters.db.prepared import Prepared
from ringfence.domain.vocabulary import (
    CallDirection,
    CallOutcome,
    CallPurpose,
    CallStatus,
    CallType,
)


class CallJob(Base):
    __tablename__ = "call_jobs"
    __table_args__ = (
        # The dispatcher's tick: due jobs by time, so its cost follows due jobs, not all jobs.
        Index("ix_call_jobs_status_next_attempt_at", "status", "next_attempt_at"),
        # A ready location's next job: its pending jobs in due order.
        Index(
            "ix_call_jobs_location_id_status_next_attempt_at",
            "location_id",
            "status",
            "next_attempt_at",
        ),
        # Dial history per number (14-day and per-day caps) and per location (pacing, day cap).
        Index("ix_call_jobs_phone_e164_dialed_at", "phone_e164", "dialed_at"),
        Index("ix_call_jobs_location_id_dialed_at", "location_id", "dialed_at"),
        Index("ix_call_jobs_account_id_id", "account_id", "id"),
        # The outbound dashboard: a location's dials of one call type over a range of local
        # days (tiles, trend, caller-ID comparison, call log). The trailing columns make the
        # tiles, trend and caller-ID statements index-only scans (no table lookups per call).
        Index(
            "ix_call_jobs_location_id_call_type_dialed_local_day",
            "location_id",
            "call_type",
            "dialed_local_day",
            "outcome",
            "duration_seconds",
            "workflow_id",
            "from_number_id",
            "account_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("voice_agents.id", ondelete="SET NULL"))
    from_number_id: Mapped[int | None] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="SET NULL")
    )
    workflow_id: Mapped[int | None] = mapped_column(Integer)
    # The workflow enrollment whose call step enqueued the job (resumed when it ends).
    enrollment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Dial no later than this (e.g. 24 h before the appointment); past it the gate fails the
    # job instead of calling late.
    deadline_at: Mapped[datetime | None]
    action_name: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[CallPurpose] = mapped_column(enum_column(CallPurpose, "call_purpose"))
    call_type: Mapped[CallType] = mapped_column(enum_column(CallType, "call_type"))
    # Outbound unless a caller rang us (migration 0022). Inbound calls are never "dialed":
    # their dialed_at / dialed_local_day stay empty, so nothing that counts dials sees them.
    direction: Mapped[CallDirection] = mapped_column(
        enum_column(CallDirection, "call_direction"),
        default=CallDirection.OUTBOUND,
        server_default=CallDirection.OUTBOUND.value,
    )
    status: Mapped[CallStatus] = mapped_column(enum_column(CallStatus, "call_status"))
    next_attempt_at: Mapped[datetime | None]
    # How many times the gate has evaluated the job (each verdict is a call_events row).
    evaluations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason_text: Mapped[str | None] = mapped_column(Text)
    # The number as dialed (the contact's number may change later; history must not).
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    dialed_at: Mapped[datetime | None]
    # The location's calendar day of `dialed_at`, fixed at dial time: the dashboard's ranges
    # (Today, 7 / 30 days, Custom) and its daily trend are whole days in the location's zone.
    dialed_local_day: Mapped[date | None] = mapped_column(Date)
    ended_at: Mapped[datetime | None]
    outcome: Mapped[CallOutcome | None] = mapped_column(enum_column(CallOutcome, "call_outcome"))
    carrier_call_id: Mapped[str | None] = mapped_column(String(100))
    # The call context the call was placed with (agent/session.py) and its agent profile by
    # content (`AgentProfileSnapshot`); rows written before migration 0024 carry the profile
    # inline ({"profile": ..., "context": ...}) and no digest.
    agent_session: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # No foreign key: see migration 0024 (SQLite cannot add one without rebuilding the table).
    agent_profile_digest: Mapped[str | None] = mapped_column(String(64))
    carrier_reason: Mapped[str | None] = mapped_column(String(200))
    # What the conversation produced, for workflow branches (domain/workflows/outcomes.py).
    produced: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    billable_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AgentProfileSnapshot(Base):
    """An agent profile as a call was placed with it, stored once per content.

    Every dial snapshots what the agent was set up to say (the compliance trail), and a
    profile (the practice's texts and reply templates, about 2 KB) is the same for thousands
    of calls: the job names it by digest (SHA-256 of the account and the profile's canonical
    JSON, services/stored_sessions.py) instead of carrying a copy. Rows are never updated:
    an edited agent is a new digest, so an old call still reads what it was placed with.
    """

    __tablename__ = "agent_profiles"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class CallEvent(Base):
    """Every state transition of a job, with its reason: the compliance trail."""

    __tablename__ = "call_events"
    __table_args__ = (Index("ix_call_events_job_id_id", "job_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("call_jobs.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    from_status: Mapped[CallStatus | None] = mapped_column(enum_column(CallStatus, "call_status"))
    to_status: Mapped[CallStatus] = mapped_column(enum_column(CallStatus, "call_status"))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class LocationPacing(Base):
    """Per-location dispatch state, and the row every dial at the location locks.

    Locking this row (`FOR UPDATE SKIP LOCKED` on PostgreSQL) serialises the throttle
    decisions of one location across any number of dispatcher processes, so two workers can
    never both take the last slot of a limit. `ready_at` is when the location next needs the
    dispatcher (next pacing slot, next local day after the daily cap, or its earliest pending
    job): ticks only visit ready locations, so their cost follows the work that is due, not
    the number of waiting jobs.
    """

    __tablename__ = "location_pacing"

    location_id: Mapped[int] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # UTC start of the location-local calendar day that `dials_today` counts.
    day_start: Mapped[datetime | None]
    dials_today: Mapped[int] = mapped_column(Integer, default=0)
    last_dial_at: Mapped[datetime | None]
    ready_at: Mapped[datetime | None] = mapped_column(index=True)


class CarrierPacing(Base):
    """A carrier account's call rate (token bucket), shared by every dispatcher process."""

    __tablename__ = "carrier_pacing"

    carrier: Mapped[str] = mapped_column(String(50), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[datetime]


class MinutesLedger(Base):
    """Billable time per completed dial. Failed-before-dial and canceled jobs book nothing."""

    __tablename__ = "minutes_ledger"
    __table_args__ = (Index("ix_minutes_ledger_location_id_local_day", "location_id", "local_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("call_jobs.id", ondelete="CASCADE"), unique=True)
    local_day: Mapped[date] = mapped_column(Date)
    billable_seconds: Mapped[int] = mapped_column(Integer)
    booked_at: Mapped[datetime]


class CallTranscript(Base):
    """What was said on a connected or voicemail call, with offsets into the recording.

    The turns are PHI: encrypted at rest (adapters/db/crypto.py), and emptied by a retention
    purge, which sets `purged_at` (the row stays, so the dashboard keeps the sentiment and
    can say when and why the words are gone). Sentiment is not PHI and stays in clear: the
    dashboard's rollup triggers read it.
    """

    __tablename__ = "call_transcripts"
    # The retention purge: an account's transcripts not purged yet.
    __table_args__ = (Index("ix_call_transcripts_account_id_purged_at", "account_id", "purged_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("call_jobs.id", ondelete="CASCADE"), unique=True)
    # [{"speaker": "agent" | "callee", "text": ..., "start": seconds, "end": seconds}, ...]
    turns: Mapped[list[dict[str, Any]]] = mapped_column(EncryptedJSON)
    # Live conversations only (voicemail is excluded), from the callee's words.
    sentiment: Mapped[str | None] = mapped_column(String(10))
    sentiment_score: Mapped[float | None] = mapped_column(Float)
    # Relative to the recordings directory; the file's bytes are encrypted (services/recordings.py).
    recording_path: Mapped[str | None] = mapped_column(String(500))
    recording_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    purged_at: Mapped[datetime | None]


class CallAction(Base):
    """An action a call triggered (tag applied, task created, opt-out applied, ...): the
    dashboard's "Actions Triggered"."""

    __tablename__ = "call_actions"
    __table_args__ = (Index("ix_call_actions_job_id", "job_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("call_jobs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    entity_type: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime]


def event_row(
    *,
    account_id: int,
    job_id: int,
    at: datetime,
    from_status: CallStatus | None,
    to_status: CallStatus,
    reason_code: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """A `call_events` row for the bulk INSERTs of the dispatcher and its helpers."""
    return {
        "account_id": account_id,
        "job_id": job_id,
        "at": at,
        "from_status": from_status,
        "to_status": to_status,
        "reason_code": reason_code,
        "detail": detail,
    }


# `event_row`'s rows, inserted on the driver's cursor (adapters/db/prepared.py): the dispatcher
# writes one per gate decision and per settled call. Every column is given (a None is NULL, as
# the ORM's bulk INSERT wrote it: no column here has a default).
INSERT_EVENTS = Prepared(
    insert(cast(Table, CallEvent.__table__)),
    column_keys=("account_id", "job_id", "at", "from_status", "to_status", "reason_code", "detail"),
)
