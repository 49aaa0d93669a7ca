"""The practice's set-up: locations, caller IDs, voice agents, CRM-hosted forms."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from ringfence.domain.staff_hours import is_sip_uri, parse_staff_hours
from ringfence.domain.vocabulary import CallPurpose
from ringfence.entrypoints.api.schemas.common import (
    Body,
    Id,
    Label100,
    ListQuery,
    LongText,
    Name,
    Out,
    UsPhoneE164,
    UsTimeZoneName,
    phone_e164,
)

_US_ZONE = (
    "IANA zone of the practice, e.g. America/Denver: a zone of one of the 50 states or DC "
    "(aliases such as US/Eastern are stored as their canonical name)"
)


class LocationCreate(Body):
    name: Name
    time_zone: UsTimeZoneName = Field(description=_US_ZONE)


class LocationUpdate(Body):
    name: Name | None = None
    time_zone: UsTimeZoneName | None = Field(default=None, description=_US_ZONE)


class LocationOut(Out):
    id: int
    name: str
    time_zone: str
    created_at: datetime
    updated_at: datetime


class LocationQuery(ListQuery):
    pass


class PhoneNumberCreate(Body):
    location_id: Id
    e164: UsPhoneE164 = Field(description="A US number, any notation; stored as E.164")
    label: Label100 = ""


class PhoneNumberUpdate(Body):
    label: Label100 | None = None


class PhoneNumberOut(Out):
    id: int
    location_id: int
    e164: str
    label: str
    created_at: datetime
    updated_at: datetime


class PhoneNumberQuery(ListQuery):
    location_id: Id | None = None


DialoguePolicy = Literal["scripted", "llm"]


def _transfer_target(value: str) -> str:
    """An E.164 number, or a SIP address for a PBX extension (SIP trunks, Twilio <Sip>)."""
    if value.strip().lower().startswith(("sip:", "sips:")):
        if not is_sip_uri(value.strip()):
            raise ValueError("not a SIP address like sip:frontdesk@pbx.example.com")
        return value.strip()
    return phone_e164(value)


TransferTarget = Annotated[str, StringConstraints(max_length=200), AfterValidator(_transfer_target)]


def _staff_hours(value: dict[str, list[str]]) -> dict[str, list[str]]:
    return parse_staff_hours(value).to_json()  # a bad day or range names itself


_Ranges = Annotated[list[Annotated[str, StringConstraints(max_length=20)]], Field(max_length=8)]
StaffHoursJson = Annotated[
    dict[str, _Ranges],
    Field(
        max_length=7,
        description='Business hours per weekday in the location\'s zone, e.g. {"mon": '
        '["09:00-12:30", "13:30-17:00"]}; a day left out is closed',
    ),
    AfterValidator(_staff_hours),
]
Openings = Annotated[dict[CallPurpose, LongText], Field(max_length=len(CallPurpose))]


class VoiceAgentCreate(Body):
    location_id: Id
    name: Name
    practice_name: Name
    system_prompt: LongText = ""
    inbound_greeting: LongText = ""
    outbound_opening: LongText = Field(
        default="", description="Default outbound opening: must name the practice"
    )
    outbound_openings: Openings = Field(
        default_factory=dict, description="Per-purpose openings overriding the default"
    )
    callback_number: UsPhoneE164 | None = Field(
        default=None, description="Said on calls and voicemails: where to call back or opt out"
    )
    voicemail_script: LongText = ""
    dialogue_policy: DialoguePolicy = "scripted"
    transfer_number: TransferTarget | None = Field(
        default=None,
        description="The staff line a caller who asks for a person is transferred to, while "
        "staff_hours say the office is open: a number, or a SIP address (a PBX extension)",
    )
    staff_hours: StaffHoursJson | None = None


class VoiceAgentUpdate(Body):
    name: Name | None = None
    practice_name: Name | None = None
    system_prompt: LongText | None = None
    inbound_greeting: LongText | None = None
    outbound_opening: LongText | None = None
    outbound_openings: Openings | None = None
    callback_number: UsPhoneE164 | None = None
    voicemail_script: LongText | None = None
    dialogue_policy: DialoguePolicy | None = None
    transfer_number: TransferTarget | None = None
    staff_hours: StaffHoursJson | None = None


class VoiceAgentOut(Out):
    id: int
    location_id: int
    name: str
    practice_name: str
    system_prompt: str
    inbound_greeting: str
    outbound_opening: str
    outbound_openings: dict[CallPurpose, str]
    callback_number: str | None
    voicemail_script: str
    dialogue_policy: str
    transfer_number: str | None
    staff_hours: dict[str, list[str]] | None
    created_at: datetime
    updated_at: datetime


class VoiceAgentQuery(ListQuery):
    location_id: Id | None = None


class FormCreate(Body):
    location_id: Id
    name: Name
    consent_text: LongText = Field(min_length=1, description="Opt-in text shown on the form")


class FormUpdate(Body):
    name: Name | None = None
    consent_text: LongText | None = Field(
        default=None, min_length=1, description="Changing it creates a new version"
    )


class FormVersionOut(Out):
    version: int
    consent_text: str
    text_sha256: str
    scan: dict[str, Any] | None = Field(
        default=None,
        description="The consent scanner's verdict on this text: score, "
        "valid_for_voice_opt_in, findings (element, status, blocking, suggestion)",
    )
    scanned_as: str | None = None
    created_at: datetime


class FormOut(Out):
    id: int
    location_id: int
    name: str
    current_version: int
    consent_text: str
    text_sha256: str
    consent_scan: dict[str, Any] | None = Field(
        default=None,
        description="The scanner's verdict on the current text; a form whose text is not "
        "valid_for_voice_opt_in still collects contacts, never voice consent",
    )
    versions: list[FormVersionOut]
    created_at: datetime
    updated_at: datetime


class FormQuery(ListQuery):
    location_id: Id | None = None
