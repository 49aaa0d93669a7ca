"""Patients → Contacts: the account's contacts with their calling status, one contact's page
("can we call this patient?", the number's consent timeline, its suppression, its calls), and
the one action there, "Stop calling this number".

Stopping records the staff member's word as a revocation on the consent ledger
(`services/consent.add_consent`, the API's `POST /contacts/{id}/consents` path), which
suppresses the number practice-wide, tags its contacts, cancels their pending calls and takes
them out of their workflows, all audited under the signed-in key. There is no way back from
here on purpose: only new consent for the number lifts an opt-out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.domain.vocabulary import CallPurpose, Channel, ConsentKind
from ringfence.entrypoints.deps import Uow
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.params import whole_number
from ringfence.entrypoints.web.routes.dashboard import INBOUND, OUTBOUND
from ringfence.services import consent
from ringfence.services.consent import ConsentEvidence
from ringfence.services.contact_views import (
    STATUS_PURPOSE,
    ContactFilters,
    contact_detail,
    contact_list,
)
from ringfence.services.contact_words import CallingStatus, phone_display
from ringfence.services.errors import NotFound

router = APIRouter()

CONTACTS: Final = "/app/contacts"
ContactId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_SEARCH_MAX: Final = 100
_NOTE_MAX: Final = 500
_STOPPED_BY_STAFF: Final = "Staff pressed “Stop calling this number” on the contact's page"


def _whole(value: str) -> int | None:
    """A positive whole number typed in the URL, else None (a page never answers staff with
    a raw validation error)."""
    return whole_number(value)


@router.get(CONTACTS, name="contacts")
def contacts(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    q: str = "",
    location: str = "",
    tag: str = "",
    calling_status: Annotated[str, Query(alias="status")] = "",
    page: str = "1",
) -> Response:
    search = q.strip()[:_SEARCH_MAX]
    location_id, tag_id = _whole(location), _whole(tag)
    if location.strip() and location_id is None:
        return web.pages.not_found(request, viewer=viewer, what="That location")
    if tag.strip() and tag_id is None:
        return web.pages.not_found(request, viewer=viewer, what="That tag")
    try:
        wanted = calling_status.strip()
        calling = CallingStatus(wanted) if wanted else None
    except ValueError:  # not one of the five the list shows
        return web.pages.not_found(request, viewer=viewer, what="That calling status")
    filters = ContactFilters(search=search, location_id=location_id, tag_id=tag_id, status=calling)
    number = _whole(page) or 1
    try:
        found = contact_list(uow.session, viewer.scope, filters, page=number, now=uow.clock.now())
    except NotFound as exc:  # the service names which filter it did not find
        what = "That tag" if str(exc).startswith("tag ") else "That location"
        return web.pages.not_found(request, viewer=viewer, what=what)
    kept = {
        "q": search,
        "location": location_id or "",
        "tag": tag_id or "",
        "status": calling.value if calling else "",
    }
    return web.pages.render(
        request,
        "contacts.html",
        viewer=viewer,
        context={
            "found": found,
            "filters": filters,
            "statuses": [(s.value, s.label) for s in CallingStatus],
            "previous_url": _page_url(kept, found.page - 1) if found.page > 1 else None,
            "next_url": _page_url(kept, found.page + 1) if found.has_next else None,
        },
    )


def _page_url(kept: Mapping[str, object], page: int) -> str:
    query = {key: value for key, value in kept.items() if value} | {"page": page}
    return f"{CONTACTS}?{urlencode(query)}"


@router.get(f"{CONTACTS}/{{contact_id}}", name="contact")
def contact(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    contact_id: ContactId,
    purpose: str = "",
) -> Response:
    try:
        chosen = CallPurpose(purpose)
    except ValueError:  # none chosen yet, or not one of the five
        chosen = STATUS_PURPOSE
    try:
        detail = contact_detail(
            uow.session, viewer.scope, contact_id, purpose=chosen, now=uow.clock.now()
        )
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what="That contact")
    return web.pages.render(
        request,
        "contact_detail.html",
        viewer=viewer,
        context={
            "c": detail,
            "purposes": [(p.value, p.label) for p in CallPurpose],
            "call_base": f"{OUTBOUND}/calls",
            "inbound_call_base": f"{INBOUND}/calls",
        },
    )


@router.post(f"{CONTACTS}/{{contact_id}}/stop-calling", name="contact_stop_calling")
def stop_calling(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    contact_id: ContactId,
    note: Annotated[str, Form()] = "",
) -> Response:
    """Suppress the contact's number at every location of the practice (CSRF-checked like
    every form of the staff app)."""
    back = f"{CONTACTS}/{contact_id}"
    note = note.strip()
    if len(note) > _NOTE_MAX:
        flash = Flash(
            FlashLevel.ERROR,
            f"Nothing changed: the note is at most {_NOTE_MAX} characters "
            f"(this one has {len(note)}).",
        )
        return _back(request, web, back, flash)
    evidence = ConsentEvidence(
        kind=ConsentKind.REVOCATION,
        channel=Channel.VOICE,
        note=f"{_STOPPED_BY_STAFF}: {note}" if note else _STOPPED_BY_STAFF,
    )
    try:
        record = consent.add_consent(
            uow=uow, scope=viewer.scope, contact_id=contact_id, evidence=evidence
        )
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what="That contact")
    if record.phone_e164:
        text = (
            f"Calls to {phone_display(record.phone_e164)} stopped at every location: the "
            "number is opted out and its pending calls are canceled."
        )
    else:
        text = (
            "Recorded that this patient does not want calls: a number saved for them later "
            "is opted out from the start."
        )
    return _back(request, web, back, Flash(FlashLevel.SUCCESS, text))


def _back(request: Request, web: Web, to: str, flash: Flash) -> Response:
    response = RedirectResponse(to, status_code=status.HTTP_303_SEE_OTHER)
    web.flashes.add(request, response, flash)
    return response
