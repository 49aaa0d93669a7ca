"""Settings → Phone numbers: the caller IDs each location dials from, with their answer rate;
add one, change its label, remove it.

The rules are the services': a caller ID is a US number (`domain/phone.to_us_e164`), unique
within the account (`services/caller_ids.create_caller_id`, which never says whether another
account has it). Label changes and removals are the plain record use cases the API's PATCH and
DELETE use: `services/records.py` for the label, `services/caller_id_removal.py` for removal,
which refuses while a published workflow dials from the number or an agent gives it as its
callback number. The page asks first, lists what uses the number, and when the service would
refuse shows why instead of the Remove button.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Form, Path, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.adapters.db.orm import PhoneNumber
from ringfence.domain.phone import InvalidPhoneNumber, to_e164, to_us_e164
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.pages import Viewer
from ringfence.entrypoints.web.params import whole_number
from ringfence.services import caller_id_removal, records
from ringfence.services.caller_ids import create_caller_id
from ringfence.services.contact_words import phone_display
from ringfence.services.errors import Conflict, InvalidField, NotFound
from ringfence.services.phone_number_views import (
    PhoneNumbersPage,
    phone_numbers_page,
)

router = APIRouter()

NUMBERS: Final = "/app/phone-numbers"
LABEL_MAX: Final = 100  # the column's (and the API's) limit
NumberId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_WHAT: Final = "That phone number"


def _page(uow: Uow, viewer: Viewer) -> PhoneNumbersPage:
    return phone_numbers_page(uow.session, account_id=viewer.scope.account_id, now=uow.clock.now())


def _render_list(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: Uow,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    return web.pages.render(
        request,
        "phone_numbers.html",
        viewer=viewer,
        context={"page": _page(uow, viewer), "values": values or {}, "errors": errors or {}},
        status_code=status_code,
    )


def _back(request: Request, web: Web, flash: Flash) -> Response:
    response = RedirectResponse(NUMBERS, status_code=status.HTTP_303_SEE_OTHER)
    web.flashes.add(request, response, flash)
    return response


def _number_problem(raw: str) -> str:
    """Why `raw` cannot be a caller ID, in the words a front desk uses."""
    if not raw.strip():
        return "Enter the number, e.g. (212) 555-0100."
    try:
        e164 = to_e164(raw)
    except InvalidPhoneNumber:
        return "That is not a valid US phone number: check the area code and the digits."
    return (
        "Only US phone numbers can be used as caller IDs: "
        f"{phone_display(e164)} is not a US number."
    )


def _label_problem(label: str) -> str | None:
    return f"Keep the label to {LABEL_MAX} characters or fewer." if len(label) > LABEL_MAX else None


@router.get(NUMBERS, name="phone_numbers")
def phone_numbers(request: Request, web: Web, viewer: SignedIn, uow: Uow) -> Response:
    return _render_list(request, web, viewer, uow)


@router.post(NUMBERS, name="phone_number_add")
def add_number(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    location_id: Annotated[str, Form()] = "",
    number: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
) -> Response:
    values = {"location_id": location_id, "number": number, "label": label}
    errors: dict[str, str] = {}
    label = label.strip()
    if (problem := _label_problem(label)) is not None:
        errors["label"] = problem
    location = whole_number(location_id) or 0
    if not 1 <= location <= 2**31 - 1:
        errors["location_id"] = "Choose the location that dials from this number."
    try:
        e164 = to_us_e164(number)
    except InvalidPhoneNumber:
        errors["number"] = _number_problem(number)
    if not errors:
        try:
            create_caller_id(
                uow=uow, scope=viewer.scope, location_id=location, e164=e164, label=label
            )
        except Conflict:
            errors["number"] = f"{phone_display(e164)} is already one of this account's caller IDs."
        except InvalidField:  # the only field it names besides the number: the location
            errors["location_id"] = "Choose one of this account's locations."
    if errors:
        return _render_list(
            request,
            web,
            viewer,
            uow,
            values=values,
            errors=errors,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    return _back(
        request, web, Flash(FlashLevel.SUCCESS, f"{phone_display(e164)} added as a caller ID.")
    )


def _render_number(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: Uow,
    number_id: int,
    template: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    page = _page(uow, viewer)
    try:
        row = page.number(number_id)
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what=_WHAT)
    refused = caller_id_removal.removal_refusal(uow.session, viewer.scope, number_id)
    return web.pages.render(
        request,
        template,
        viewer=viewer,
        context={
            "number": row,
            "location_name": page.location_name(row.location_id),
            "values": values if values is not None else {"label": row.label},
            "errors": errors or {},
            "refusal": refused,
        },
        status_code=status_code,
    )


@router.get(f"{NUMBERS}/{{number_id}}/edit", name="phone_number_edit")
def edit_form(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, number_id: NumberId
) -> Response:
    return _render_number(request, web, viewer, uow, number_id, "phone_numbers_edit.html")


@router.post(f"{NUMBERS}/{{number_id}}/edit", name="phone_number_save")
def save_label(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    number_id: NumberId,
    label: Annotated[str, Form()] = "",
) -> Response:
    cleaned = label.strip()
    problem = _label_problem(cleaned)
    if problem is not None:
        return _render_number(
            request,
            web,
            viewer,
            uow,
            number_id,
            "phone_numbers_edit.html",
            values={"label": label},
            errors={"label": problem},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    now = uow.clock.now()

    def relabel(row: PhoneNumber) -> None:
        row.label = cleaned
        row.updated_at = now

    try:
        row = records.update(
            uow=uow, scope=viewer.scope, model=PhoneNumber, row_id=number_id, change=relabel
        )
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what=_WHAT)
    said = f"labelled “{cleaned}”" if cleaned else "now has no label"
    return _back(request, web, Flash(FlashLevel.SUCCESS, f"{phone_display(row.e164)} {said}."))


@router.get(f"{NUMBERS}/{{number_id}}/remove", name="phone_number_remove_confirm")
def remove_confirm(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, number_id: NumberId
) -> Response:
    return _render_number(request, web, viewer, uow, number_id, "phone_numbers_remove.html")


@router.post(f"{NUMBERS}/{{number_id}}/remove", name="phone_number_remove")
def remove(request: Request, web: Web, viewer: SignedIn, uow: Uow, number_id: NumberId) -> Response:
    try:
        shown = _page(uow, viewer).number(number_id).display
        caller_id_removal.remove_caller_id(uow=uow, scope=viewer.scope, number_id=number_id)
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what=_WHAT)
    except Conflict:  # in use since the confirm page was read: it shows why, and no button
        return _render_number(
            request,
            web,
            viewer,
            uow,
            number_id,
            "phone_numbers_remove.html",
            status_code=status.HTTP_409_CONFLICT,
        )
    return _back(
        request, web, Flash(FlashLevel.SUCCESS, f"{shown} removed from this account's caller IDs.")
    )
