"""A submission of a CRM-hosted form, with the consent evidence a TCPA dispute needs.

The page shows the form's current consent text; the submission names the version it showed
(signed into the page, so it cannot be swapped), and the consent record copies exactly that
version's text and hash, with the time, IP address, user agent and page URL. A form whose
text is not valid for outbound voice opt-in (the consent scanner finds a blocking gap) still
creates or updates the contact, but records no voice consent: the box alone does not make
unlawful wording lawful.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Account, ConsentRecord, Contact, Form, FormVersion
from ringfence.domain.phone import US_REGIONS, InvalidPhoneNumber, region_of, to_e164
from ringfence.domain.vocabulary import Channel, ConsentKind, ContactSource
from ringfence.domain.workflows.definition import TriggerKind
from ringfence.services import audit
from ringfence.services.consent_review import scan_verdict
from ringfence.services.errors import InvalidField, InvalidFields
from ringfence.services.suppression import suppressed_now, tag_contact
from ringfence.services.unit_of_work import TenantScope, UnitOfWork, all_or_nothing
from ringfence.services.workflows.events import TriggerEvent, ingest


@dataclass(frozen=True, slots=True)
class Submission:
    first_name: str
    last_name: str
    phone: str
    email: str
    consent_box_ticked: bool
    shown_version: int


@dataclass(frozen=True, slots=True)
class Evidence:
    ip_address: str | None
    user_agent: str | None
    page_url: str | None


@dataclass(frozen=True, slots=True)
class Submitted:
    contact_id: int
    created: bool
    consent_record_id: int | None
    voice_consent_refused_because: str | None  # the box was ticked but the text is not valid
    held_for_confirmation: bool = False  # the number had opted out: staff must confirm


def shown_version(form: Form, number: int) -> FormVersion:
    version = next((v for v in form.versions if v.version == number), None)
    if version is None:
        raise InvalidField("version", f"form {form.id} has no version {number}")
    return version


# What a visitor may type in each field (the contact's columns): longer is refused with the
# field's own friendly error on the form, never a raw validation error page.
SUBMISSION_MAX_LENGTHS: Final = {"first_name": 100, "last_name": 100, "phone": 40, "email": 254}


def submit(*, uow: UnitOfWork, form: Form, submission: Submission, evidence: Evidence) -> Submitted:
    """A visitor's submission of `form`; committed. Refused (`InvalidField`s, every problem at
    once) it is rolled back at once, so the form shown again reads the rows as stored."""
    with all_or_nothing(uow):
        return _submit(uow.session, form, submission, evidence, now=uow.clock.now())


def _submit(
    session: Session, form: Form, submission: Submission, evidence: Evidence, *, now: datetime
) -> Submitted:
    problems: list[InvalidField] = []
    if not submission.first_name.strip():
        problems.append(InvalidField("first_name", "please enter your first name"))
    problems += [
        InvalidField(name, f"please use at most {limit} characters")
        for name, limit in SUBMISSION_MAX_LENGTHS.items()
        if len(getattr(submission, name)) > limit
    ]
    phone = ""
    try:
        phone = to_e164(submission.phone)
    except InvalidPhoneNumber:
        problems.append(InvalidField("phone", "please enter a valid US mobile or phone number"))
    if phone and region_of(phone) not in US_REGIONS:
        problems.append(InvalidField("phone", "please enter a US phone number"))
    email = submission.email.strip()
    if email and "@" not in email:  # (its length is checked above, with the others)
        problems.append(InvalidField("email", "please enter a valid email address"))
    if problems:
        raise InvalidFields(problems)
    version = shown_version(form, submission.shown_version)
    scope = TenantScope(account_id=form.account_id, actor=f"form:{form.id}")
    contact = session.scalars(
        select(Contact).where(
            Contact.account_id == form.account_id,
            Contact.location_id == form.location_id,
            Contact.phone_e164 == phone,
        )
    ).first()
    created = contact is None
    if contact is None:
        contact = Contact(
            account_id=form.account_id,
            location_id=form.location_id,
            first_name=submission.first_name.strip()[:100],
            last_name=submission.last_name.strip()[:100],
            phone_e164=phone,
            email=email or None,
            source=ContactSource.FORM,
            created_at=now,
            updated_at=now,
        )
        session.add(contact)
    else:
        # Fill what is missing; never overwrite what the practice already has.
        contact.last_name = contact.last_name or submission.last_name.strip()[:100]
        contact.email = contact.email or email or None
        contact.updated_at = now
    session.flush()
    suppressed = suppressed_now(session, contact, now)
    if created and suppressed:
        tag_contact(session, contact, now)  # the tag mirrors the number's suppression
    record_id: int | None = None
    refused: str | None = None
    held = False
    if submission.consent_box_ticked:
        account = session.get(Account, form.account_id)
        assert account is not None  # the form's foreign key
        valid, scanner_version, _gaps = scan_verdict(version, account)
        if valid:
            # Anyone can type someone else's number into a public form: a submission for a
            # number that opted out at this practice is kept as evidence but held until staff
            # confirm the consent; it does not lift the suppression by itself.
            held = suppressed
            record = ConsentRecord(
                account_id=form.account_id,
                location_id=form.location_id,
                contact_id=contact.id,
                kind=ConsentKind.CRM_FORM,
                channel=Channel.VOICE,
                recorded_at=now,
                form_id=form.id,
                form_version=version.version,
                consent_text=version.consent_text,
                consent_text_sha256=version.text_sha256,
                ip_address=(evidence.ip_address or "")[:45] or None,  # an address fits
                # Kept whole: a cut user agent or URL is not what the browser sent. The web
                # server bounds a request's headers (h11: 16 KiB), so these are bounded too.
                user_agent=evidence.user_agent or None,
                page_url=evidence.page_url or None,
                recorded_by=scope.actor,
                phone_e164=phone,
                form_valid=True,
                scanner_version=scanner_version,
                held=held,
            )
            session.add(record)
            session.flush()
            record_id = record.id
        else:
            refused = "the form's consent text is not valid for outbound voice opt-in"
    audit.record(
        session, scope, entity_type="contact", entity_id=contact.id,
        action="form.submitted", at=now,
        after={
            "form_id": form.id, "form_version": version.version, "created": created,
            "consent_record_id": record_id, "voice_consent_refused": refused,
            "held_for_staff_confirmation": held,
        },
    )  # fmt: skip
    ingest(
        session,
        scope,
        TriggerEvent(
            external_id=f"form:{form.id}:contact:{contact.id}:{now.isoformat()}",
            kind=TriggerKind.FORM_SUBMITTED,
            contact_id=contact.id,
            form_id=form.id,
            occurred_at=now,
        ),
        now,
    )
    return Submitted(contact.id, created, record_id, refused, held)
