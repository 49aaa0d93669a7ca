"""Contacts, their tags and their consent evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, field_validator, model_validator

from ringfence.domain.vocabulary import Channel, ConsentKind, ContactSource
from ringfence.entrypoints.api.schemas.common import (
    Body,
    Email,
    Id,
    ListQuery,
    LongText,
    Out,
    PhoneE164,
    PostalCode,
    ShortText,
    TagName,
    UsState,
)

PersonName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
LastName = Annotated[str, StringConstraints(max_length=100)]


class TagCreate(Body):
    name: TagName


class TagUpdate(Body):
    name: TagName | None = None


class TagOut(Out):
    id: int
    name: str
    created_at: datetime
    updated_at: datetime


class TagQuery(ListQuery):
    name: TagName | None = None


class _ContactFields(Body):
    email: Email | None = None
    dnd_voice: bool = False
    dnd_sms: bool = False
    dnd_email: bool = False
    opted_out_at: AwareDatetime | None = None
    opted_out_channel: Channel | None = None
    last_contacted_at: AwareDatetime | None = None
    last_engaged_at: AwareDatetime | None = None
    address_line1: ShortText | None = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    state: UsState | None = None
    postal_code: PostalCode | None = None

    @model_validator(mode="after")
    def _opt_out_pair(self) -> _ContactFields:
        if (self.opted_out_at is None) != (self.opted_out_channel is None):
            raise ValueError("opted_out_at and opted_out_channel are set (or cleared) together")
        return self


class ContactCreate(_ContactFields):
    location_id: Id
    first_name: PersonName
    last_name: LastName = ""
    phone: PhoneE164 | None = Field(default=None, description="Any notation; stored as E.164")
    source: ContactSource = ContactSource.API
    tags: list[TagName] = Field(default_factory=list, max_length=50)


class ContactUpdate(Body):
    first_name: PersonName | None = None
    last_name: LastName | None = None
    phone: PhoneE164 | None = None
    email: Email | None = None
    tags: list[TagName] | None = Field(default=None, max_length=50)
    dnd_voice: bool | None = None
    dnd_sms: bool | None = None
    dnd_email: bool | None = None
    opted_out_at: AwareDatetime | None = None
    opted_out_channel: Channel | None = None
    last_contacted_at: AwareDatetime | None = None
    last_engaged_at: AwareDatetime | None = None
    address_line1: ShortText | None = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    state: UsState | None = None
    postal_code: PostalCode | None = None


class ContactOut(Out):
    id: int
    location_id: int
    first_name: str
    last_name: str
    phone: str | None = Field(validation_alias="phone_e164")
    email: str | None
    source: ContactSource
    tags: list[str]
    dnd_voice: bool
    dnd_sms: bool
    dnd_email: bool
    opted_out_at: datetime | None
    opted_out_channel: Channel | None
    last_contacted_at: datetime | None
    last_engaged_at: datetime | None
    address_line1: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    created_at: datetime
    updated_at: datetime

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_names(cls, value: object) -> object:
        if isinstance(value, list):
            return sorted(str(getattr(tag, "name", tag)) for tag in value)
        return value


class ContactQuery(ListQuery):
    location_id: Id | None = None
    tag: TagName | None = None
    source: ContactSource | None = None
    dnd_voice: bool | None = None
    opted_out: bool | None = None
    phone: PhoneE164 | None = None
    q: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None, description="Case-insensitive match on first or last name"
    )


class ConsentCreate(Body):
    """Evidence of consent. `crm_form` needs the form; `manual_written` needs who confirmed."""

    kind: ConsentKind
    channel: Channel = Channel.VOICE
    form_id: Id | None = None
    form_version: Annotated[int, Field(ge=1)] | None = None
    ip_address: Annotated[str, StringConstraints(max_length=45)] | None = None
    # Stored whole (Text columns); longer than this is refused with a 422, never cut.
    user_agent: Annotated[str, StringConstraints(max_length=8192)] | None = None
    page_url: Annotated[str, StringConstraints(max_length=8192)] | None = None
    confirmed_by: ShortText | None = None
    note: LongText | None = None
    attestation: bool = Field(
        default=False,
        description="For `manual_written` consent to a number that opted out: must be true, "
        "attesting that written consent to calls using automated technology/AI voice is on "
        "file (new consent after an opt-out is the only way back to calling).",
    )

    @model_validator(mode="after")
    def _evidence_for_kind(self) -> ConsentCreate:
        if self.kind is ConsentKind.CRM_FORM and self.form_id is None:
            raise ValueError("form_id is required for a crm_form consent")
        if self.kind is ConsentKind.MANUAL_WRITTEN and not (self.confirmed_by and self.note):
            raise ValueError(
                "confirmed_by and note are required for a manual_written consent "
                "(who confirmed the written consent, and where it is kept)"
            )
        return self


class ConsentOut(Out):
    id: int
    contact_id: int
    kind: ConsentKind
    channel: Channel
    recorded_at: datetime
    phone_e164: str | None = Field(description="The phone number the record covers.")
    form_valid: bool | None = Field(
        description="crm_form: the form version passed the voice-consent scan at opt-in."
    )
    scanner_version: str | None
    held: bool = Field(
        description="A form submission after an opt-out, held until staff confirm consent."
    )
    form_id: int | None
    form_version: int | None
    consent_text: str | None
    consent_text_sha256: str | None
    ip_address: str | None
    user_agent: str | None
    page_url: str | None
    confirmed_by: str | None
    note: str | None
    recorded_by: str


class ConsentEvidenceItemOut(ConsentOut):
    text_matches_hash: bool | None


class ConsentEvidenceOut(Out):
    contact_id: int
    name: str
    phone_e164: str | None
    generated_at: datetime
    voice_consent_in_force: bool
    records: list[ConsentEvidenceItemOut]
