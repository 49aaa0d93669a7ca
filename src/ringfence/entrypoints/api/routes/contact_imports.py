"""Contacts from outside the CRM: CSV import, then staff confirming their written consent.

The two go together in the product description: contacts "added by import [...] do not pass
automated opt-in checks at launch — you must confirm written consent for those records
manually."
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from ringfence.entrypoints.api.deps import (
    Scope,
)
from ringfence.entrypoints.api.schemas.contact_imports import (
    ContactImportCreate,
    ContactImportOut,
    ManualWrittenConsentCreate,
    ManualWrittenConsentOut,
)
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.services.contact_import import run_import
from ringfence.services.written_consent import confirm_batch

router = APIRouter(tags=["contacts"])


@router.post(
    "/contact-imports",
    response_model=ContactImportOut,
    status_code=status.HTTP_201_CREATED,
    summary="Import contacts from CSV text (or preview the import)",
    responses={status.HTTP_200_OK: {"description": "Dry run: the report, nothing written"}},
)
def create_contact_import(
    uow: Uow, scope: Scope, body: ContactImportCreate, response: Response
) -> ContactImportOut:
    """Validate every row and report it by line number: `created`, `merged` (the number is
    already a contact of the location, or on an earlier line: empty fields are filled, filled
    ones are never overwritten, tags are added) or `rejected` with its reasons. Numbers outside
    the US and toll-free numbers are imported with a warning: the compliance gate never calls
    them. With `dry_run` nothing is written (200); otherwise every accepted row is written in
    one transaction (201), or nothing at all if anything fails.

    Imported contacts have source `import` and **no consent**: they cannot be called until
    written consent is confirmed (`POST /consents/manual-written`)."""
    report = run_import(
        uow=uow,
        scope=scope,
        location_id=body.location_id,
        csv_text=body.csv_text,
        mapping=body.mapping,
        dry_run=body.dry_run,
    )
    if body.dry_run:
        response.status_code = status.HTTP_200_OK
    return ContactImportOut.of(report)


@router.post(
    "/consents/manual-written",
    response_model=ManualWrittenConsentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Confirm written consent for many contacts at once",
)
def confirm_manual_written_consent(
    uow: Uow, scope: Scope, body: ManualWrittenConsentCreate
) -> ManualWrittenConsentOut:
    """Append one `manual_written` voice consent record per contact (at most 1000), under the
    attestation that written consent to calls using automated technology/AI voice is on file
    for each. `confirmed_by` says who checked, `note` where the consent is kept. All or
    nothing: an unknown contact id (or another account's), or a contact whose consent is
    revoked, fails the whole batch with `contact_ids` named."""
    batch = confirm_batch(
        uow=uow,
        scope=scope,
        contact_ids=body.contact_ids,
        confirmed_by=body.confirmed_by,
        note=body.note,
        attestation=body.attestation,
    )
    return ManualWrittenConsentOut(
        recorded_at=batch.recorded_at,
        contact_ids=[record.contact_id for record in batch.records],
        consent_record_ids=[record.id for record in batch.records],
    )
