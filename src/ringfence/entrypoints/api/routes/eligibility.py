"""GET /contacts/{id}/call-eligibility: the compliance gate's answer for one contact."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from ringfence.adapters.db.orm import Contact
from ringfence.entrypoints.api.deps import (
    Scope,
)
from ringfence.entrypoints.api.schemas.eligibility import EligibilityOut, EligibilityQuery
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.services.eligibility import call_eligibility
from ringfence.services.tenancy import get_owned

router = APIRouter(tags=["compliance"])


@router.get(
    "/contacts/{contact_id}/call-eligibility",
    response_model=EligibilityOut,
    summary="May this contact be called? If not, why not and until when?",
)
def get_call_eligibility(
    uow: Uow,
    scope: Scope,
    contact_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    query: Annotated[EligibilityQuery, Query()],
) -> EligibilityOut:
    """The same verdict the dispatcher computes right before dialing: `dial`, `queued`
    (pacing: the next free minute), `deferred` (with the earliest instant every time-curable
    rule passes) or `failed` (never retried), plus every rule's result with its numbers and the
    non-blocking risk warnings. Nothing is written."""
    contact = get_owned(uow.session, Contact, contact_id, scope)
    at = query.at or uow.clock.now()
    evaluation = call_eligibility(uow.session, contact, purpose=query.purpose, now=at)
    return EligibilityOut.build(
        contact_id=contact.id, purpose=query.purpose, at=at, evaluation=evaluation
    )
