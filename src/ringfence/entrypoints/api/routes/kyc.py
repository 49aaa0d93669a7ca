"""Enable Outbound Calls over the API: the account's KYC registration, and the platform
operator's review (a separate credential: `RINGFENCE_OPERATOR_TOKEN`; a practice's API key
can never approve its own registration)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, status

from ringfence.adapters.db.orm import Account
from ringfence.entrypoints.api.deps import (
    Scope,
)
from ringfence.entrypoints.api.schemas.kyc import (
    DecisionIn,
    KycApplicationIn,
    KycOut,
    PendingOut,
)
from ringfence.entrypoints.deps import (
    ContainerDep,
    Uow,
)
from ringfence.services import kyc
from ringfence.services.consent_review import consent_problems

router = APIRouter(tags=["kyc"])
operator_router = APIRouter(tags=["operator"], include_in_schema=False)


def kyc_out(uow: Uow, account_id: int) -> KycOut:
    account = uow.session.get(Account, account_id)
    assert account is not None  # the key's account
    row = kyc.registration_of(uow.session, account_id)
    return KycOut(
        status=account.kyc_status,
        outbound_enabled=account.outbound_enabled,
        reasons=list(row.reasons) if row else [],
        submitted_at=row.submitted_at if row else None,
        decided_at=row.decided_at if row else None,
        decided_by=row.decided_by if row else None,
        approval_seen=bool(row and row.approval_seen_at),
        application=KycApplicationIn.model_validate(row.application) if row else None,
    )


@router.get("/kyc", response_model=KycOut, summary="The account's KYC registration")
def read_kyc(uow: Uow, scope: Scope) -> KycOut:
    return kyc_out(uow, scope.account_id)


@router.put("/kyc", response_model=KycOut, summary="Submit (or change) the KYC registration")
def submit_kyc(uow: Uow, scope: Scope, body: KycApplicationIn) -> KycOut:
    """Validated in full (every problem named at once), then reviewed automatically: approved
    when the data validates and the consent scan of the account's forms passes, otherwise left
    for a platform operator with the reasons. Changing the legal name, EIN or ownership of an
    approved registration sends it back for review and pauses outbound calling."""
    kyc.submit(
        uow=uow,
        scope=scope,
        application=kyc.application_from_dict(body.model_dump()),
        consent_check=consent_problems,
    )
    return kyc_out(uow, scope.account_id)


@router.post(
    "/kyc/acknowledge-approval",
    response_model=KycOut,
    summary="Dismiss the 'outbound calling approved' confirmation",
)
def acknowledge(uow: Uow, scope: Scope) -> KycOut:
    kyc.acknowledge_approval(uow=uow, scope=scope)
    return kyc_out(uow, scope.account_id)


def require_operator(
    container: ContainerDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    token = container.settings.operator_token
    if token is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the operator API is not enabled")
    expected = f"Bearer {token.get_secret_value()}"
    if authorization is None or not hmac.compare_digest(authorization, expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "operator token required")


Operator = Annotated[None, Depends(require_operator)]


@operator_router.get("/operator/kyc/pending", response_model=list[PendingOut])
def pending(uow: Uow, _operator: Operator) -> list[PendingOut]:
    return [
        PendingOut(
            account_id=row.account_id,
            account_name=name,
            legal_name=row.legal_name,
            submitted_at=row.submitted_at,
            reasons=list(row.reasons),
        )
        for row, name in kyc.pending_reviews(uow.session)
    ]


@operator_router.post("/operator/kyc/{account_id}/decision", response_model=KycOut)
def decide(
    uow: Uow,
    _operator: Operator,
    body: DecisionIn,
    account_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> KycOut:
    kyc.decide(
        uow=uow,
        account_id=account_id,
        outcome=body.outcome,
        reasons=tuple(body.reasons),
        operator=body.operator,
    )
    return kyc_out(uow, account_id)
