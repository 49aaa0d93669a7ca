"""Automation → Forms: the practice's CRM-hosted consent forms, what the consent scanner says
of each text, its versions, and the consent its public page recorded.

A form is made and changed through `services/forms.py` (as the API's /api/v1/forms is); a
changed text is a new version, scanned when saved. "Use suggested wording" adds the scanner's
wording to the text in the box and shows the page again with it, unsaved: staff read it, then
save. Its buttons belong to the edit form (`form=`/`formaction`), so what was typed in the box
travels with them and is kept, with no script. With script, the findings follow the box as
staff type (`/findings`, htmx): the same scanner on the draft, nothing saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Final

from fastapi import APIRouter, Form, Path, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.adapters.db.orm import Form as FormRow
from ringfence.entrypoints.deps import Uow
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.pages import Viewer
from ringfence.entrypoints.web.params import whole_number
from ringfence.entrypoints.web.routes.public_forms import PUBLIC_FORM
from ringfence.services import forms
from ringfence.services.errors import InvalidField, InvalidFields, NotFound
from ringfence.services.form_findings import (
    NAME_MAX,
    RECOMMENDED,
    TEXT_MAX,
    Findings,
    check_fields,
    draft_findings,
    with_suggestion,
)
from ringfence.services.form_views import (
    current_version_of,
    form_detail,
    form_rows,
    location_choices,
)

router = APIRouter()

FORMS: Final = "/app/forms"
NEW: Final = f"{FORMS}/new"
FormId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# Bounded by the form parser; the length rules are checked by `check_fields`, with a sentence
# next to the field, never a raw validation error page.
Text = Annotated[str, Form()]


def _public_url(request: Request) -> Callable[[int], str]:
    base = str(request.base_url).rstrip("/")

    def url(form_id: int) -> str:
        return base + PUBLIC_FORM.format(form_id=form_id)

    return url


def _problems(exc: InvalidField) -> dict[str, str]:
    problems = exc.errors if isinstance(exc, InvalidFields) else [exc]
    return {p.field: p.message for p in problems}


def _redirect(request: Request, web: Web, to: str, flash: Flash) -> Response:
    response = RedirectResponse(to, status_code=status.HTTP_303_SEE_OTHER)
    web.flashes.add(request, response, flash)
    return response


@router.get(FORMS, name="forms")
def forms_page(request: Request, web: Web, viewer: SignedIn, uow: Uow) -> Response:
    return web.pages.render(
        request,
        "forms.html",
        viewer=viewer,
        context={
            "rows": form_rows(uow=uow, scope=viewer.scope),
            "public_url": _public_url(request),
        },
    )


# --- a new form (declared before /{form_id}: "new" is not an id) -------------------------------


def _render_new(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: Uow,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    return web.pages.render(
        request,
        "form_new.html",
        viewer=viewer,
        context={
            "locations": location_choices(uow=uow, scope=viewer.scope),
            "values": values,
            "errors": errors or {},
            "name_max": NAME_MAX,
            "text_max": TEXT_MAX,
        },
        status_code=status_code,
    )


@router.get(NEW, name="new_form")
def new_form_page(request: Request, web: Web, viewer: SignedIn, uow: Uow) -> Response:
    return _render_new(request, web, viewer, uow, values={})


@router.post(NEW)
def create_form(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    name: Text = "",
    location_id: Text = "",
    consent_text: Text = "",
) -> Response:
    values = {"name": name, "location_id": location_id, "consent_text": consent_text}
    try:
        check_fields(name=name, consent_text=consent_text)
        if whole_number(location_id) is None:
            raise InvalidField("location_id", "Choose the location the form belongs to.")
        made = forms.create_form(
            uow=uow,
            scope=viewer.scope,
            location_id=int(location_id),
            name=name.strip(),
            consent_text=consent_text,
        )
    except InvalidField as exc:
        errors = _problems(exc)
        if "location_id" in errors:  # the service's words name the id; these name the place
            errors["location_id"] = "Choose one of this account's locations."
        return _render_new(
            request,
            web,
            viewer,
            uow,
            values=values,
            errors=errors,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    return _redirect(
        request, web, f"{FORMS}/{made.id}", Flash(FlashLevel.SUCCESS, _saved(made.name, made))
    )


def _saved(name: str, form: FormRow, *, new_version: bool = True) -> str:
    if not new_version:
        return f"“{name}” saved. The consent text did not change, so there is no new version."
    valid = bool((form.consent_scan or {}).get("valid_for_voice_opt_in"))
    verdict = (
        "it is valid for AI voice calls."
        if valid
        else "it is not valid for AI voice calls yet: see what the check found below."
    )
    return f"“{name}” saved as version {form.current_version}: {verdict}"


# --- one form ----------------------------------------------------------------------------------


def _render_form(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: Uow,
    form_id: int,
    *,
    page: int = 1,
    values: dict[str, str] | None = None,
    draft: Findings | None = None,
    note: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    """The form's page; `values` are what the edit form shows instead of the saved text
    (a draft: `draft` is the scanner's verdict on it, shown in place of the saved one)."""
    try:
        detail = form_detail(uow=uow, scope=viewer.scope, form_id=form_id, page=page)
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what="That form")
    return web.pages.render(
        request,
        "form_detail.html",
        viewer=viewer,
        context={
            "form": detail,
            "values": values or {"name": detail.name, "consent_text": detail.consent_text},
            "findings": draft or detail.findings,
            "draft": draft is not None,
            "note": note,
            "errors": errors or {},
            "recommended": RECOMMENDED,
            "public_url": _public_url(request)(detail.form_id),
            "name_max": NAME_MAX,
            "text_max": TEXT_MAX,
        },
        status_code=status_code,
    )


@router.get(f"{FORMS}/{{form_id}}", name="form")
def form_page(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, form_id: FormId, page: str = "1"
) -> Response:
    number = whole_number(page, high=999_999) or 1
    return _render_form(request, web, viewer, uow, form_id, page=number)


@router.post(f"{FORMS}/{{form_id}}")
def save_form(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    form_id: FormId,
    name: Text = "",
    consent_text: Text = "",
) -> Response:
    """Saves the name and the text; a changed text is a new version (scanned)."""
    values = {"name": name, "consent_text": consent_text}
    try:
        check_fields(name=name, consent_text=consent_text)
        before = current_version_of(uow=uow, scope=viewer.scope, form_id=form_id)
        saved = forms.update_form(
            uow=uow,
            scope=viewer.scope,
            form_id=form_id,
            changes={"name": name.strip(), "consent_text": consent_text},
        )
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what="That form")
    except InvalidField as exc:
        return _render_form(
            request,
            web,
            viewer,
            uow,
            form_id,
            values=values,
            errors=_problems(exc),
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    message = _saved(saved.name, saved, new_version=saved.current_version != before)
    return _redirect(request, web, f"{FORMS}/{form_id}", Flash(FlashLevel.SUCCESS, message))


@router.post(f"{FORMS}/{{form_id}}/suggestion")
def use_suggestion(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    form_id: FormId,
    name: Text = "",
    consent_text: Text = "",
    element: Text = "",
) -> Response:
    """The text in the box with the scanner's wording for `element` added, shown again with
    the verdict it would get; nothing is saved until staff press Save."""
    text = consent_text
    try:
        current_version_of(uow=uow, scope=viewer.scope, form_id=form_id)  # the caller's form
        suggested = with_suggestion(uow=uow, scope=viewer.scope, text=consent_text, element=element)
        text = suggested.text
        note = f"{suggested.message} It is not saved yet: read it, then press Save."
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what="That form")
    except InvalidField as exc:
        note = exc.message
    return _render_form(
        request,
        web,
        viewer,
        uow,
        form_id,
        values={"name": name, "consent_text": text},
        draft=draft_findings(uow=uow, scope=viewer.scope, text=text) if text.strip() else None,
        note=note,
    )


@router.post(f"{FORMS}/{{form_id}}/findings")
def draft_check(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    form_id: FormId,
    name: Text = "",
    consent_text: Text = "",
) -> Response:
    """The scanner's verdict on the text in the box, not saved: for htmx the findings alone
    (swapped in as staff type), otherwise the page with them (as "use suggested wording")."""
    try:
        version = current_version_of(uow=uow, scope=viewer.scope, form_id=form_id)
    except NotFound:
        return web.pages.not_found(request, viewer=viewer, what="That form")
    # The box stops at TEXT_MAX; a longer post is not a browser's, and Save refuses it anyway.
    draft = draft_findings(uow=uow, scope=viewer.scope, text=consent_text[:TEXT_MAX])
    if request.headers.get("HX-Request") != "true":
        return _render_form(
            request,
            web,
            viewer,
            uow,
            form_id,
            values={"name": name, "consent_text": consent_text},
            draft=draft,
        )
    return web.pages.render(
        request,
        "_form_findings.html",
        viewer=viewer,
        context={
            # What the fragment reads of the form: asked on each pause in typing, so not the
            # whole page's (versions, submissions).
            "form": {"form_id": form_id, "current_version": version},
            "findings": draft,
            "draft": True,
            "live": True,
            "recommended": RECOMMENDED,
        },
    )
