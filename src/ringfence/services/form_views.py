"""What the staff app's Forms pages show: the account's forms with the consent scanner's
verdict, one form with its findings, versions and the consent its public page recorded.

Reads only (changes go through `services/forms.py`); the findings in words and the suggested
wording are `services/form_findings.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import func, select

from ringfence.adapters.db.orm import (
    Account,
    ConsentRecord,
    Contact,
    Form,
    FormVersion,
    Location,
    NumberSuppression,
)
from ringfence.domain.compliance import Suppression, SuppressionSource, zone
from ringfence.domain.vocabulary import ConsentKind
from ringfence.services.consent_review import scan_verdict
from ringfence.services.form_findings import Findings, account_of, verdict_words, version_findings
from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope, UnitOfWork

SUBMISSIONS_PER_PAGE: Final = 50
OPT_OUT_WORDS: Final = {
    SuppressionSource.CALL_OPT_OUT: "said “stop calling me” on a call",
    SuppressionSource.OPT_OUT_TAG: "tagged Opted Out",
    SuppressionSource.OPT_OUT_FLAG: "marked as opted out",
    SuppressionSource.DND_VOICE: "Do Not Disturb turned on for calls",
    SuppressionSource.REVOCATION: "consent withdrawn",
    SuppressionSource.IMPORT: "imported as opted out",
    SuppressionSource.BACKFILL: "opted out in the earlier records",
}


@dataclass(frozen=True, slots=True)
class LocationChoice:
    location_id: int
    name: str


def location_choices(*, uow: UnitOfWork, scope: TenantScope) -> tuple[LocationChoice, ...]:
    rows = uow.session.execute(
        select(Location.id, Location.name)
        .where(Location.account_id == scope.account_id)
        .order_by(Location.name, Location.id)
    ).all()
    return tuple(LocationChoice(i, name) for i, name in rows)


# --- the list ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormRow:
    form_id: int
    name: str
    location: str
    time_zone: str
    valid: bool
    verdict: str
    gaps: int  # required elements missing or weak
    submissions: int  # consent records made through the form
    updated_at: datetime


def _submission_counts(uow: UnitOfWork, scope: TenantScope) -> dict[int, int]:
    rows = uow.session.execute(
        select(ConsentRecord.form_id, func.count())
        .where(
            ConsentRecord.account_id == scope.account_id,
            ConsentRecord.form_id.is_not(None),
            ConsentRecord.kind == ConsentKind.CRM_FORM,
        )
        .group_by(ConsentRecord.form_id)
    ).all()
    return {form_id: count for form_id, count in rows if form_id is not None}


def form_rows(*, uow: UnitOfWork, scope: TenantScope) -> tuple[FormRow, ...]:
    """The account's forms, by name, each with the verdict on its current text."""
    account = account_of(uow, scope)
    rows = uow.session.execute(
        select(Form, FormVersion, Location.name, Location.time_zone)
        .join(
            FormVersion,
            (FormVersion.form_id == Form.id) & (FormVersion.version == Form.current_version),
        )
        .join(Location, Location.id == Form.location_id)
        .where(Form.account_id == scope.account_id)
        .order_by(Form.name, Form.id)
    ).all()
    counts = _submission_counts(uow, scope)
    made: list[FormRow] = []
    for form, version, location, time_zone in rows:
        found = version_findings(version, account)
        made.append(
            FormRow(
                form_id=form.id,
                name=form.name,
                location=location,
                time_zone=time_zone,
                valid=found.valid,
                verdict=found.verdict,
                gaps=len(found.gaps),
                submissions=counts.get(form.id, 0),
                updated_at=form.updated_at,
            )
        )
    return tuple(made)


# --- one form ----------------------------------------------------------------------------------


class ConsentState(StrEnum):
    IN_FORCE = "in_force"
    HELD = "held"
    REVOKED = "revoked"
    NOT_IN_FORCE = "not_in_force"


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    record_id: int
    recorded_at: datetime
    contact_id: int
    contact_name: str
    phone_masked: str
    version: int | None
    state: ConsentState
    state_words: str


@dataclass(frozen=True, slots=True)
class Submissions:
    rows: tuple[SubmissionRow, ...]  # newest first
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: int
    created_at: datetime
    valid: bool
    verdict: str
    current: bool


@dataclass(frozen=True, slots=True)
class FormDetail:
    form_id: int
    name: str
    location: str
    time_zone: str
    current_version: int
    consent_text: str
    updated_at: datetime
    findings: Findings  # on the current version
    versions: tuple[VersionRow, ...]  # newest first
    submissions: Submissions


def current_version_of(*, uow: UnitOfWork, scope: TenantScope, form_id: int) -> int:
    """The number of one of the caller's forms' current version (else NotFound)."""
    return get_owned(uow.session, Form, form_id, scope).current_version


def form_detail(*, uow: UnitOfWork, scope: TenantScope, form_id: int, page: int = 1) -> FormDetail:
    """One of the caller's forms (else NotFound, another account's included)."""
    form = get_owned(uow.session, Form, form_id, scope)
    account = account_of(uow, scope)
    location = uow.session.get(Location, form.location_id)
    assert location is not None  # the form's foreign key
    current = next(v for v in form.versions if v.version == form.current_version)
    versions = tuple(
        _version_row(v, account, current=v.version == form.current_version)
        for v in sorted(form.versions, key=lambda v: v.version, reverse=True)
    )
    return FormDetail(
        form_id=form.id,
        name=form.name,
        location=location.name,
        time_zone=location.time_zone,
        current_version=form.current_version,
        consent_text=current.consent_text,
        updated_at=form.updated_at,
        findings=version_findings(current, account),
        versions=versions,
        submissions=_submissions(uow, scope, form.id, page, location.time_zone),
    )


def _version_row(version: FormVersion, account: Account, *, current: bool) -> VersionRow:
    valid = scan_verdict(version, account)[0]
    return VersionRow(
        version=version.version,
        created_at=version.created_at,
        valid=valid,
        verdict=verdict_words(valid),
        current=current,
    )


def _submissions(
    uow: UnitOfWork, scope: TenantScope, form_id: int, page: int, time_zone: str
) -> Submissions:
    mine = (
        ConsentRecord.account_id == scope.account_id,
        ConsentRecord.form_id == form_id,
        ConsentRecord.kind == ConsentKind.CRM_FORM,
    )
    total = uow.session.scalar(select(func.count()).select_from(ConsentRecord).where(*mine)) or 0
    pages = max(1, -(-total // SUBMISSIONS_PER_PAGE))
    page = min(max(page, 1), pages)
    rows = uow.session.execute(
        select(ConsentRecord, Contact.first_name, Contact.last_name, Contact.phone_e164)
        .join(Contact, Contact.id == ConsentRecord.contact_id)
        .where(*mine, Contact.account_id == scope.account_id)
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        .limit(SUBMISSIONS_PER_PAGE)
        .offset((page - 1) * SUBMISSIONS_PER_PAGE)
    ).all()
    numbers = sorted({r.phone_e164 for r, *_ in rows if r.phone_e164})
    opt_outs = {
        phone: Suppression(at, SuppressionSource(source))
        for phone, at, source in uow.session.execute(
            select(
                NumberSuppression.phone_e164,
                NumberSuppression.suppressed_at,
                NumberSuppression.source,
            ).where(
                NumberSuppression.account_id == scope.account_id,
                NumberSuppression.phone_e164.in_(numbers),
            )
        ).all()
    }
    made = []
    for record, first, last, current_phone in rows:
        state, words = consent_state(
            record, current_phone, opt_outs.get(record.phone_e164 or ""), time_zone
        )
        made.append(
            SubmissionRow(
                record_id=record.id,
                recorded_at=record.recorded_at,
                contact_id=record.contact_id,
                contact_name=" ".join(p for p in (first, last) if p) or "(no name)",
                phone_masked=mask_phone(record.phone_e164),
                version=record.form_version,
                state=state,
                state_words=words,
            )
        )
    return Submissions(tuple(made), page, pages, total)


def consent_state(
    record: ConsentRecord,
    current_phone: str | None,
    opt_out: Suppression | None,
    time_zone: str,
) -> tuple[ConsentState, str]:
    """Whether a form's consent record still counts for its number, in words. An opt-out of
    the number at or after the record ends it (the gate's own comparison, `in_force`); a
    record that arrived after an opt-out waits for staff; consent is for one number."""
    if opt_out is not None and opt_out.in_force(record.recorded_at):
        day = opt_out.at.astimezone(zone(time_zone))
        how = OPT_OUT_WORDS.get(opt_out.source, "opted out")
        return ConsentState.REVOKED, f"Revoked on {day.day} {day:%b %Y} ({how})"
    if record.held:
        return ConsentState.HELD, (
            "Held for staff confirmation (the number had opted out before this submission)"
        )
    if record.form_valid is not True:
        return ConsentState.NOT_IN_FORCE, (
            "Not in force: the form's text was not valid for AI voice calls"
        )
    if record.phone_e164 is None or record.phone_e164 != current_phone:
        return ConsentState.NOT_IN_FORCE, "Not in force: the contact's number has changed since"
    return ConsentState.IN_FORCE, "In force"


def mask_phone(phone: str | None) -> str:
    """Only the last four digits show: staff recognise a patient without reading the number
    off the screen."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    if len(digits) < 4:
        return "—"
    return f"•••-•••-{digits[-4:]}"
