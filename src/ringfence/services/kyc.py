"""Enable Outbound Calls: the KYC registration's submission, review and effects.

Submitting runs the automatic review at once: approved when the data validates and the
consent scan of the account's CRM-hosted forms passes; otherwise the registration waits for a
platform operator (`ringfence kyc review` / the operator API), with the reasons. Approval
turns outbound calling on and wakes the calls that waited for it; a later change to the legal
name, EIN or ownership sends the registration back for review, which pauses outbound calling
(the gate Fails `kyc_not_approved`, and the dispatcher defers such calls instead of failing
them: domain/calls.ACCOUNT_PAUSES). Every change is in the audit log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ringfence.adapters.db.calls import CallJob, LocationPacing
from ringfence.adapters.db.kyc import KycRegistration
from ringfence.adapters.db.orm import Account, Location
from ringfence.domain.calls import ACCOUNT_PAUSES
from ringfence.domain.kyc import (
    Address,
    KycApplication,
    Owner,
    Representative,
    ReviewOutcome,
    after_edit,
    auto_review,
    check_move,
    material_fingerprint,
    normalized_ein,
    validate,
)
from ringfence.domain.vocabulary import CallPurpose, CallStatus, KycStatus
from ringfence.services import audit
from ringfence.services.errors import Conflict, InvalidField, InvalidFields, NotFound
from ringfence.services.unit_of_work import TenantScope, UnitOfWork, all_or_nothing

AUTOMATIC_REVIEWER: Final = "automatic review"
# Above this many calls a day a person looks at the registration, whatever else it says.
REVIEW_ABOVE_DAILY_VOLUME: Final = 2_000

ConsentCheck = Callable[[Session, int, str], tuple[str, ...]]


def application_from_dict(data: dict[str, Any]) -> KycApplication:
    return KycApplication(
        legal_name=data["legal_name"],
        dba=data.get("dba", ""),
        ein=data["ein"],
        address=Address(**data["address"]),
        website=data["website"],
        owners=tuple(Owner(**owner) for owner in data["owners"]),
        representative=Representative(**data["representative"]),
        use_cases=tuple(CallPurpose(u) for u in data["use_cases"]),
        expected_daily_volume=int(data["expected_daily_volume"]),
    )


def application_to_dict(application: KycApplication) -> dict[str, Any]:
    data = dataclasses.asdict(application)
    data["use_cases"] = [u.value for u in application.use_cases]
    return data


def registration_of(session: Session, account_id: int) -> KycRegistration | None:
    return session.scalars(
        select(KycRegistration).where(KycRegistration.account_id == account_id)
    ).first()


def submit(
    *,
    uow: UnitOfWork,
    scope: TenantScope,
    application: KycApplication,
    consent_check: ConsentCheck,
) -> KycRegistration:
    """Save the application (every field problem at once as `InvalidField`s is refused) and
    run the automatic review; committed (a refusal is rolled back at once, so the form shown
    again reads the registration as stored). An approved registration whose legal name, EIN
    and ownership are unchanged stays approved; any other submission is (re)reviewed."""
    with all_or_nothing(uow):
        return _submit(
            uow.session, scope, application, now=uow.clock.now(), consent_check=consent_check
        )


def _submit(
    session: Session,
    scope: TenantScope,
    application: KycApplication,
    *,
    now: datetime,
    consent_check: ConsentCheck,
) -> KycRegistration:
    problems = validate(application)
    if problems:
        raise InvalidFields([InvalidField(p.field, p.message) for p in problems])
    application = dataclasses.replace(application, ein=normalized_ein(application.ein))
    account = session.get(Account, scope.account_id, with_for_update=True)
    if account is None:
        raise NotFound(f"account {scope.account_id} does not exist")
    row = registration_of(session, scope.account_id)
    before = _snapshot(row)
    if row is None:
        row = KycRegistration(
            account_id=scope.account_id,
            status=KycStatus.NOT_STARTED,
            reasons=[],
            created_at=now,
        )
        session.add(row)
    unchanged = after_edit(row.status, row.approved_fingerprint, application) is KycStatus.APPROVED
    row.application = application_to_dict(application)
    row.legal_name = application.legal_name.strip()
    row.ein = application.ein
    row.updated_at = now
    account.legal_name = row.legal_name
    if unchanged:
        session.flush()
        audit.record(
            session, scope, entity_type="kyc_registration", entity_id=row.id,
            action="kyc.updated", at=now, before=before, after=_snapshot(row),
        )  # fmt: skip
        return row
    check_move(row.status, KycStatus.SUBMITTED)
    was_approved = row.status is KycStatus.APPROVED
    row.status = KycStatus.SUBMITTED
    row.submitted_at = now
    row.decided_at = row.decided_by = None
    row.reasons = []
    account.kyc_status = KycStatus.SUBMITTED
    account.updated_at = now
    session.flush()
    audit.record(
        session, scope, entity_type="kyc_registration", entity_id=row.id,
        action="kyc.resubmitted_after_material_change" if was_approved else "kyc.submitted",
        at=now, before=before, after=_snapshot(row),
    )  # fmt: skip
    consent = consent_check(session, scope.account_id, application.legal_name)
    volume = (
        (f"expected daily volume {application.expected_daily_volume:,} is above "
         f"{REVIEW_ABOVE_DAILY_VOLUME:,}: reviewed by a person",)
        if application.expected_daily_volume > REVIEW_ABOVE_DAILY_VOLUME
        else ()
    )  # fmt: skip
    # Who owns and runs the business is what KYC vouches for: a change to it is looked at by
    # a person, even when everything else would pass on its own.
    changed = (
        ("the legal name, EIN or ownership changed since the approval: reviewed by a person",)
        if was_approved
        else ()
    )
    review = auto_review((), consent + volume + changed)
    if review.approve:
        _decide(session, scope, row, ReviewOutcome.APPROVED, (), AUTOMATIC_REVIEWER, now)
    else:
        row.reasons = list(review.reasons)
    return row


def decide(
    *,
    uow: UnitOfWork,
    account_id: int,
    outcome: ReviewOutcome,
    reasons: tuple[str, ...],
    operator: str,
) -> KycRegistration:
    """A platform operator's decision on a submitted registration; audited and committed."""
    session, now = uow.session, uow.clock.now()
    row = registration_of(session, account_id)
    if row is None:
        raise NotFound(f"account {account_id} has no KYC registration")
    if outcome is not ReviewOutcome.APPROVED and not reasons:
        raise InvalidField("reasons", "say why, so the practice knows what to change")
    scope = TenantScope(account_id=account_id, actor=f"operator:{operator}")
    _decide(session, scope, row, outcome, reasons, operator, now)
    uow.commit()
    return row


def _decide(
    session: Session,
    scope: TenantScope,
    row: KycRegistration,
    outcome: ReviewOutcome,
    reasons: tuple[str, ...],
    decided_by: str,
    now: datetime,
) -> None:
    target = KycStatus(outcome.value)
    try:
        check_move(row.status, target)
    except ValueError as exc:
        raise Conflict(str(exc)) from exc
    before = _snapshot(row)
    account = session.get(Account, row.account_id, with_for_update=True)
    assert account is not None  # the registration's foreign key
    row.status = target
    row.reasons = list(reasons)
    row.decided_at = now
    row.decided_by = decided_by
    row.updated_at = now
    account.kyc_status = target
    account.updated_at = now
    if target is KycStatus.APPROVED:
        row.approved_fingerprint = material_fingerprint(application_from_dict(row.application))
        row.approval_seen_at = None
        account.outbound_enabled = True
    session.flush()
    audit.record(
        session, scope, entity_type="kyc_registration", entity_id=row.id,
        action=f"kyc.{target.value}", at=now, before=before, after=_snapshot(row),
    )  # fmt: skip
    if target is KycStatus.APPROVED:
        _wake_paused_calls(session, row.account_id, now)


def _wake_paused_calls(session: Session, account_id: int, now: datetime) -> int:
    """Calls that waited for the account (not for their own reasons) are due again now."""
    woken = session.execute(
        update(CallJob)
        .where(
            CallJob.account_id == account_id,
            CallJob.status == CallStatus.DEFERRED,
            CallJob.reason_code.in_(sorted(r.value for r in ACCOUNT_PAUSES)),
        )
        .values(next_attempt_at=now, updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    location_ids = select(Location.id).where(Location.account_id == account_id)
    session.execute(
        update(LocationPacing)
        .where(
            LocationPacing.location_id.in_(location_ids),
            (LocationPacing.ready_at.is_(None)) | (LocationPacing.ready_at > now),
        )
        .values(ready_at=now)
    )
    return int(woken or 0)


def acknowledge_approval(*, uow: UnitOfWork, scope: TenantScope) -> None:
    """The practice has seen that outbound calling is approved (its notice goes away);
    committed."""
    row = registration_of(uow.session, scope.account_id)
    if row is not None and row.status is KycStatus.APPROVED and row.approval_seen_at is None:
        row.approval_seen_at = uow.clock.now()
    uow.commit()


def pending_reviews(session: Session) -> list[tuple[KycRegistration, str]]:
    """Submitted registrations waiting for an operator, oldest first, with the account name."""
    rows = session.execute(
        select(KycRegistration, Account.name)
        .join(Account, Account.id == KycRegistration.account_id)
        .where(KycRegistration.status == KycStatus.SUBMITTED)
        .order_by(KycRegistration.submitted_at, KycRegistration.id)
    ).all()
    return [(row, name) for row, name in rows]


def _snapshot(row: KycRegistration | None) -> dict[str, Any]:
    if row is None:
        return {"status": KycStatus.NOT_STARTED.value}
    return {
        "status": row.status.value,
        "legal_name": row.legal_name,
        "ein": row.ein,
        "owners": [
            {"name": o["name"], "ownership_percent": o["ownership_percent"]}
            for o in row.application.get("owners", [])
        ],
        "reasons": list(row.reasons),
    }
