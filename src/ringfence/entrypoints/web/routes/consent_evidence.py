"""A contact's consent evidence as a printable page (the same facts as the API's JSON)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from ringfence.adapters.db.orm import Contact
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.services.consent_evidence import evidence_file

router = APIRouter()


@router.get("/app/contacts/{contact_id}/consent-evidence", name="consent_evidence")
def consent_evidence(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    contact_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    contact = uow.session.get(Contact, contact_id)
    if contact is None or contact.account_id != viewer.scope.account_id:
        return web.pages.not_found(request, viewer=viewer, what="That contact")
    document = evidence_file(uow.session, contact, now=uow.clock.now())
    return web.pages.render(
        request, "consent_evidence.html", viewer=viewer, context={"doc": document}
    )
