"""The relational model (SQLAlchemy 2 typed declarative mappings).

Every row carries `account_id` so that tenant filtering is one indexed predicate on every
query, never a join that someone might forget. Location-owned rows carry `location_id` too.
Consent records and audit events are append-only: nothing in Ringfence updates or deletes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ringfence.adapters.db.types import UTCDateTime
from ringfence.domain.vocabulary import (
    AppointmentStatus,
    CarrierKind,
    Channel,
    ConsentKind,
    ContactSource,
    KycStatus,
    TaskPriority,
    TaskStatus,
)

# Stable constraint names make Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def enum_column(enum_type: type[Any], name: str) -> Enum:
    # Stored as VARCHAR + CHECK-free strings: adding a status later is a code change, not a
    # PostgreSQL ALTER TYPE migration.
    return Enum(
        enum_type,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 - SQLAlchemy's hook


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_name: Mapped[str | None] = mapped_column(String(200))
    kyc_status: Mapped[KycStatus] = mapped_column(
        enum_column(KycStatus, "kyc_status"), default=KycStatus.NOT_STARTED
    )
    outbound_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # A stable handle for idempotent seeding (the demo) and for operators; never shown as auth.
    slug: Mapped[str | None] = mapped_column(String(80), unique=True)
    # How long recordings and transcripts are kept: 30, 90 or 365 days; None keeps them.
    phi_retention_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    # Only the first characters are kept in clear, to recognise a key in a list.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # None: until revoked


class WebSession(Base):
    """A staff browser signed in with an API key, kept server-side so that it can be ended.

    The cookie carries a random token; only its SHA-256 is stored. Signing out, "sign out
    everywhere" and revoking the key end the row, and a cookie naming an ended row is refused
    at its next request.
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    api_key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Shown in the session list to tell browsers apart; a display hint, not evidence.
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


contact_tags = Table(
    "contact_tags",
    Base.metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("location_id", "phone_e164"),
        Index("ix_contacts_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), index=True
    )
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    phone_e164: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    source: Mapped[ContactSource] = mapped_column(enum_column(ContactSource, "contact_source"))
    dnd_voice: Mapped[bool] = mapped_column(Boolean, default=False)
    dnd_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    dnd_email: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None]
    opted_out_channel: Mapped[Channel | None] = mapped_column(enum_column(Channel, "channel"))
    last_contacted_at: Mapped[datetime | None]
    # Last time the contact engaged with the practice (form, booking, live call): the lead
    # reactivation risk warning looks at it.
    last_engaged_at: Mapped[datetime | None]
    address_line1: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    tags: Mapped[list[Tag]] = relationship(secondary=contact_tags, lazy="selectin")


class Form(Base):
    """A CRM-hosted form. Its consent text is versioned: evidence names the exact version."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    versions: Mapped[list[FormVersion]] = relationship(
        lazy="selectin", order_by="FormVersion.version", cascade="all, delete-orphan"
    )

    def _current(self) -> FormVersion:
        for version in self.versions:
            if version.version == self.current_version:
                return version
        raise LookupError(f"form {self.id} has no version {self.current_version}")

    @property
    def consent_text(self) -> str:
        return self._current().consent_text

    @property
    def text_sha256(self) -> str:
        return self._current().text_sha256

    @property
    def consent_scan(self) -> dict[str, Any] | None:
        return self._current().scan


class FormVersion(Base):
    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    consent_text: Mapped[str] = mapped_column(Text)
    # SHA-256 of the exact text shown: what a TCPA dispute needs to prove.
    text_sha256: Mapped[str] = mapped_column(String(64))
    # The consent scanner's verdict on this text (domain/consent_scan), judged when the
    # version was made, and the practice name it was judged under.
    scan: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    scanned_as: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ConsentRecord(Base):
    """Append-only evidence of an opt-in, a manual written consent, or a revocation.

    Consent is given for a telephone number: `phone_e164` is the number the record covers (the
    contact's number when it was recorded), and the gate looks records up by (account,
    number), so a changed number has no consent until new evidence arrives.
    """

    __tablename__ = "consent_records"
    __table_args__ = (
        Index("ix_consent_records_contact_id_recorded_at", "contact_id", "recorded_at"),
        Index("ix_consent_records_account_id_phone_e164", "account_id", "phone_e164"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[ConsentKind] = mapped_column(enum_column(ConsentKind, "consent_kind"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"), default=Channel.VOICE)
    recorded_at: Mapped[datetime]
    form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id", ondelete="SET NULL"))
    form_version: Mapped[int | None] = mapped_column(Integer)
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_text_sha256: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    # Evidence is kept whole (Text): a cut user agent or URL is no longer what the browser sent.
    user_agent: Mapped[str | None] = mapped_column(Text)
    page_url: Mapped[str | None] = mapped_column(Text)
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    # crm_form records: did the form version pass the voice-consent scan when the person
    # opted in (the verdict stored on the version), and which scanner judged it.
    form_valid: Mapped[bool | None] = mapped_column(Boolean)
    scanner_version: Mapped[str | None] = mapped_column(String(16))
    # A form submission that arrived while the number was suppressed: kept as evidence, but it
    # counts only once staff confirm the consent (a manual_written record).
    held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class NumberSuppression(Base):
    """One entry per (account, number): the latest opt-out of that number at the practice.

    Every opt-out path writes it (services/suppression.py); the gate fails any call to the
    number, from any contact or location of the account, unless consent for the number was
    recorded after `suppressed_at`. Clearing a contact's flag or tag does not change it.
    """

    __tablename__ = "number_suppressions"
    __table_args__ = (UniqueConstraint("account_id", "phone_e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    phone_e164: Mapped[str] = mapped_column(String(20))
    suppressed_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(32))
    # The contact whose opt-out wrote the latest entry (kept when it is deleted: SET NULL).
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PhoneNumber(Base):
    """A caller ID the location dials from, through its carrier."""

    __tablename__ = "phone_numbers"
    __table_args__ = (UniqueConstraint("account_id", "e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), index=True
    )
    # Unique within an account only: a number registered by another tenant is none of this
    # account's business, and refusing it would tell that the other tenant exists.
    e164: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(100), default="")
    carrier: Mapped[CarrierKind] = mapped_column(
        enum_column(CarrierKind, "carrier_kind"),
        default=CarrierKind.SANDBOX,
        server_default=CarrierKind.SANDBOX.value,
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class VoiceAgent(Base):
    """One agent serves both directions; the runtime is told which one each call is."""

    __tablename__ = "voice_agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    practice_name: Mapped[str] = mapped_column(String(200))
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    inbound_greeting: Mapped[str] = mapped_column(Text, default="")
    # The default outbound opening, and per-purpose overrides ({purpose: text}).
    outbound_opening: Mapped[str] = mapped_column(Text, default="")
    outbound_openings: Mapped[dict[str, str]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    callback_number: Mapped[str | None] = mapped_column(String(20))
    # A caller who asks for a person is transferred here while the office is open
    # (`staff_hours`, domain/staff_hours.py); otherwise staff get a call-back task.
    transfer_number: Mapped[str | None] = mapped_column(String(200))  # E.164 or a SIP URI
    staff_hours: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
    voicemail_script: Mapped[str] = mapped_column(Text, default="", server_default="")
    dialogue_policy: Mapped[str] = mapped_column(
        String(20), default="scripted", server_default="scripted"
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_location_id_starts_at", "location_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime]
    service: Mapped[str] = mapped_column(String(200))
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_column(AppointmentStatus, "appointment_status"), default=AppointmentStatus.SCHEDULED
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Opportunity(Base):
    __tablename__ = "opportunities"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    pipeline: Mapped[str] = mapped_column(String(100), default="default")
    stage: Mapped[str] = mapped_column(String(100))
    value_cents: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    assignee: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None]
    status: Mapped[TaskStatus] = mapped_column(
        enum_column(TaskStatus, "task_status"), default=TaskStatus.OPEN
    )
    priority: Mapped[TaskPriority] = mapped_column(
        enum_column(TaskPriority, "task_priority"), default=TaskPriority.NORMAL
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AuditEvent(Base):
    """Append-only: who changed consent, DND, opt-out, KYC or workflow status, and how."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_account_id_entity", "account_id", "entity_type", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(200))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(50))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    occurred_at: Mapped[datetime]
