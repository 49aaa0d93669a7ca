"""Patients → Contacts → a contact → "Record written consent".

Staff confirm that a patient's written consent (a signed paper form, an e-signature kept in
another system) is on file. The route translates only: the form's three answers go to
`services/written_consent.confirm_for_contact`, which holds every rule (what evidence is
required, when an opted-out number may be given consent again) and writes the consent record
and its audit entry. A refusal re-renders the contact's page with the answers kept and each
field named in plain words; success redirects back with a flash, where the consent history and
the calling status show the change.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Form, Path, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.domain.vocabulary import CallPurpose
from ringfence.entrypoints.deps import Uow
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.routes.contacts import CONTACTS
from ringfence.entrypoints.web.routes.dashboard import OUTBOUND
from ringfence.services.contact_views import STATUS_PURPOSE, contact_detail
from ringfence.services.contact_words import phone_display
from ringfence.services.errors import Conflict, InvalidField, InvalidFields, NotFound
from ringfence.services.written_consent import confirm_for_contact

router = APIRouter()

ContactId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_WHAT: Final = "That contact"
LABELS: Final[dict[str, str]] = {
    "confirmed_by": "Who checked the signed consent",
    "note": "Where the signed consent is kept",
    "attestation": "Confirmation",
    "kind": "This patient",  # the service's field for "no phone number to give consent for"
}
# The service's messages are written for API clients ("required: who confirmed ..."); staff
# read what to do instead. Anything else the service says is shown as it is.
_PLAIN: Final[dict[tuple[str, str], str]] = {
    ("confirmed_by", "required"): "enter the name of the person who checked the signed consent",
    ("note", "required"): "say where the signed form or e-signature can be found",
    ("attestation", "must be true"): "tick the box to confirm the written consent is on file",
    ("kind", "the contact has no phone number"): (
        "there is no phone number to record consent for: consent is given for a phone number"
    ),
}


def _plain(error: InvalidField) -> str:
    for (field, start), words in _PLAIN.items():
        if error.field == field and error.message.startswith(start):
            return words
    return error.message


@router.post(f"{CONTACTS}/{{contact_id}}/written-consent", name="contact_written_consent")
def record_written_consent(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    contact_id: ContactId,
    confirmed_by: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    attestation: Annotated[str, Form()] = "",
    opt_out_seen: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Record the patient's written consent (CSRF-checked like every form of the staff app)."""
    try:
        record = confirm_for_contact(
            uow=uow,
            scope=viewer.scope,
            contact_id=contact_id,
            confirmed_by=confirmed_by,
            note=note,
            attestation=attestation == "yes",
            opt_out_seen=opt_out_seen,  # the opt-out the page showed ("" for none)
        )
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what=_WHAT)
    except Conflict:
        response = RedirectResponse(
            f"{CONTACTS}/{contact_id}#written-consent", status_code=status.HTTP_303_SEE_OTHER
        )
        web.flashes.add(
            request,
            response,
            Flash(
                FlashLevel.ERROR,
                "Nothing was recorded: this number opted out after the page was opened. "
                "Read its opt-out below, and record written consent only if the patient "
                "signed it after opting out.",
            ),
        )
        return response
    except InvalidField as refused:
        errors = refused.errors if isinstance(refused, InvalidFields) else [refused]
        return _refused(
            request,
            web,
            viewer,
            uow,
            contact_id,
            values={"confirmed_by": confirmed_by, "note": note, "attestation": attestation},
            errors={error.field: _plain(error) for error in errors},
        )
    response = RedirectResponse(
        f"{CONTACTS}/{contact_id}#consent-timeline", status_code=status.HTTP_303_SEE_OTHER
    )
    number = phone_display(record.phone_e164)
    text = (
        f"Written consent for calls to {number} recorded under your sign-in. "
        "“Can we call this patient?” below shows what it changed."
    )
    web.flashes.add(request, response, Flash(FlashLevel.SUCCESS, text))
    return response


def _refused(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    contact_id: int,
    *,
    values: dict[str, str],
    errors: dict[str, str],
) -> Response:
    try:
        detail = contact_detail(
            uow.session, viewer.scope, contact_id, purpose=STATUS_PURPOSE, now=uow.clock.now()
        )
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what=_WHAT)
    return web.pages.render(
        request,
        "contact_detail.html",
        viewer=viewer,
        context={
            "c": detail,
            "purposes": [(p.value, p.label) for p in CallPurpose],
            "call_base": f"{OUTBOUND}/calls",
            "written": {"values": values, "errors": errors, "labels": LABELS},
        },
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )
