"""Patients → Import contacts: upload a CSV, check its columns, then check or import it.

The same import as `POST /api/v1/contact-imports` and `ringfence contacts import`: the file is
read, mapped, validated and merged by `services.contact_import` alone; this module moves the
file and the staff's choices between the steps (kept server-side, `services.import_uploads`),
starts the run in the background and follows its progress (`services.import_progress`), and
shows the service's report.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Request, status
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ringfence.entrypoints.deps import ContainerDep, Uow
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.pages import Viewer
from ringfence.services.contact_import_csv import resolve_columns
from ringfence.services.contact_import_report import ImportField, ImportReport
from ringfence.services.contact_import_view import (
    CONSENT_NOTICE,
    FIELD_LABELS,
    SHOWN_PROBLEMS,
    account_locations,
    mapping_from_form,
    mapping_step,
    problems,
    read_upload,
    report_csv,
    size_in_words,
    twice_chosen,
    upload_limit,
)
from ringfence.services.errors import InvalidField
from ringfence.services.import_progress import (
    ImportJob,
    ImportRunner,
    ProgressTracker,
    RunState,
    ThreadRunner,
    error_words,
    progress_view,
)
from ringfence.services.import_uploads import Upload, UploadStore

router = APIRouter()

IMPORT: Final = "/app/contacts/import"
# Any text: the store answers None for what is not one of its tokens (the not-found page).
Token = Annotated[str, Path()]
_CHECK, _IMPORT = "check", "import"


def get_uploads(container: ContainerDep) -> UploadStore:
    # Under the data directory (where the generated secret key is kept): the server's own.
    folder = container.settings.secret_key_file.parent / "import-uploads"
    return UploadStore(folder, container.clock)


Uploads = Annotated[UploadStore, Depends(get_uploads)]
_THREADS: Final = ThreadRunner()


def get_runner() -> ImportRunner:
    """Where runs are started: a thread each (tests may start them otherwise)."""
    return _THREADS


Runner = Annotated[ImportRunner, Depends(get_runner)]


def _upload_page(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: Uow,
    container: ContainerDep,
    *,
    location_id: str = "",
    error: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    limit = upload_limit(container.settings.max_request_bytes)
    return web.pages.render(
        request,
        "contact_import.html",
        viewer=viewer,
        context={
            "locations": account_locations(uow.session, viewer.scope.account_id),
            "location_id": location_id,
            "error": error,
            "max_bytes": limit,
            "max_size": size_in_words(limit),
        },
        status_code=status_code,
    )


@router.get(IMPORT, name="contact_import")
def upload_form(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, container: ContainerDep
) -> Response:
    return _upload_page(request, web, viewer, uow, container)


@router.post(IMPORT, name="contact_import_upload")
async def upload(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    container: ContainerDep,
    uploads: Uploads,
) -> Response:
    form = await request.form()  # parsed once already by the CSRF check
    location = form.get("location_id")
    location_id = location if isinstance(location, str) else ""
    file = form.get("file")
    limit = upload_limit(container.settings.max_request_bytes)
    owned = {str(loc.id): loc for loc in account_locations(uow.session, viewer.scope.account_id)}
    try:
        if location_id not in owned:
            raise InvalidField("location_id", "Choose the location these contacts belong to.")
        if not isinstance(file, UploadFile):
            raise InvalidField("file", "Choose a CSV file to upload.")
        filename = file.filename or ""
        text = read_upload(filename, await file.read(limit + 1), max_bytes=limit)
    except InvalidField as exc:
        return _upload_page(
            request,
            web,
            viewer,
            uow,
            container,
            location_id=location_id,
            error=exc.message,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    finally:
        # The upload's spooled temporary file: nothing else closes a form parsed this way.
        await form.close()
    kept = uploads.save_new(
        account_id=viewer.scope.account_id,
        location_id=owned[location_id].id,
        filename=filename,
        csv_text=text,
    )
    return RedirectResponse(f"{IMPORT}/{kept.token}", status_code=status.HTTP_303_SEE_OTHER)


def _mapping_page(
    request: Request,
    web: Web,
    viewer: Viewer,
    uow: Uow,
    upload: Upload,
    *,
    chosen: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    locations = {loc.id: loc for loc in account_locations(uow.session, viewer.scope.account_id)}
    return web.pages.render(
        request,
        "contact_import_mapping.html",
        viewer=viewer,
        context={
            "upload": upload,
            "location": locations.get(upload.location_id),
            "step": mapping_step(upload.csv_text, chosen or upload.mapping),
            "fields": FIELD_LABELS,
            "errors": errors or {},
        },
        status_code=status_code,
    )


def _missing(request: Request, web: Web, viewer: Viewer) -> Response:
    return web.pages.not_found(
        request, viewer=viewer, what="That upload (it may have expired: upload the file again)"
    )


@router.get(f"{IMPORT}/{{token}}", name="contact_import_mapping")
def mapping(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, uploads: Uploads, token: Token
) -> Response:
    upload = uploads.get(account_id=viewer.scope.account_id, token=token)
    if upload is None:
        return _missing(request, web, viewer)
    return _mapping_page(request, web, viewer, uow, upload)


@router.post(f"{IMPORT}/{{token}}", name="contact_import_run")
async def run(
    request: Request,
    web: Web,
    viewer: SignedIn,
    uow: Uow,
    container: ContainerDep,
    uploads: Uploads,
    runner: Runner,
    token: Token,
) -> Response:
    """ "Check without saving" is the service's dry run; "Import" commits every good row.

    Either runs in the background (`services.import_progress`): the answer is its progress
    page at once. The columns are checked here first, so a wrong choice is shown on this form.
    """
    upload = uploads.get(account_id=viewer.scope.account_id, token=token)
    if upload is None:
        return _missing(request, web, viewer)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if upload.imported:
        return _already_imported(request, web, upload)
    step = await run_in_threadpool(mapping_step, upload.csv_text)  # reads every row
    headers = tuple(column.header for column in step.columns)
    chosen = mapping_from_form(headers, form)
    errors = twice_chosen(chosen)
    if not errors:
        try:
            resolve_columns(headers, chosen)  # what the run would refuse first
        except InvalidField as exc:
            errors = {_error_key(exc.field): _in_words(exc)}
    if errors:
        return _mapping_page(
            request,
            web,
            viewer,
            uow,
            upload,
            chosen=chosen,
            errors=errors,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    dry_run = form.get("action") != _IMPORT
    progress_url = f"{IMPORT}/{upload.token}/progress"
    started = uploads.start_run(upload, dry_run=dry_run, total=step.rows, mapping=chosen)
    if started is None:
        latest = uploads.get(account_id=viewer.scope.account_id, token=token)
        if latest is None or latest.imported:  # finished between the two reads
            return _already_imported(request, web, upload)
        response = RedirectResponse(progress_url, status_code=status.HTTP_303_SEE_OTHER)
        message = "This file is already being checked or imported: its progress is below."
        web.flashes.add(request, response, Flash(FlashLevel.INFO, message))
        return response
    tracker = ProgressTracker(
        current=started,
        write=partial(uploads.save_progress, upload),
        clock=container.clock,
    )
    runner.start(
        ImportJob(
            uow=container.uow,
            uploads=uploads,
            upload=upload,
            scope=viewer.scope,
            mapping=chosen,
            tracker=tracker,
        )
    )
    return RedirectResponse(progress_url, status_code=status.HTTP_303_SEE_OTHER)


def _already_imported(request: Request, web: Web, upload: Upload) -> Response:
    report_url = f"{IMPORT}/{upload.token}/report"
    response = RedirectResponse(report_url, status_code=status.HTTP_303_SEE_OTHER)
    message = "This file was already imported: upload it again to import it once more."
    web.flashes.add(request, response, Flash(FlashLevel.ERROR, message))
    return response


@router.get(f"{IMPORT}/{{token}}/progress", name="contact_import_progress")
def progress_page(
    request: Request,
    web: Web,
    viewer: SignedIn,
    container: ContainerDep,
    uploads: Uploads,
    token: Token,
) -> Response:
    """The run's progress; once it is done, its report. htmx polls it for the fragment."""
    upload = uploads.get(account_id=viewer.scope.account_id, token=token)
    progress = None if upload is None else uploads.progress(upload)
    if upload is None or progress is None:
        return _missing(request, web, viewer)
    polled = request.headers.get("HX-Request") == "true"
    if progress.state is RunState.DONE and upload.report is not None:
        report_url = f"{IMPORT}/{upload.token}/report"
        response: Response = (
            # htmx would swap a redirect's page into the fragment; it follows HX-Redirect.
            Response(headers={"HX-Redirect": report_url})
            if polled
            else RedirectResponse(report_url, status_code=status.HTTP_303_SEE_OTHER)
        )
        web.flashes.add(request, response, Flash(FlashLevel.SUCCESS, _finished(upload.report)))
        return response
    view = progress_view(progress, container.clock.now())
    context: dict[str, Any] = {
        "upload": upload,
        "progress": progress,
        "view": view,
        # The live region speaks when what it says changes, not at every poll.
        "announce": polled and request.query_params.get("seen") != view.key,
        # The same columns again, for "Run it again" (reads the file: not while polling).
        "step": None if view.running else mapping_step(upload.csv_text, progress.mapping),
    }
    template = "_contact_import_progress.html" if polled else "contact_import_progress.html"
    response = web.pages.render(request, template, viewer=viewer, context=context)
    response.headers["Cache-Control"] = "no-store"
    return response


def _finished(report: ImportReport) -> str:
    totals = report.totals
    if report.dry_run:
        return f"Checked {totals.rows} rows: nothing was saved."
    return f"Imported: {totals.created} new, {totals.merged} merged, {totals.rejected} skipped."


def _error_key(field: str) -> str:
    """The column a service error is about (`mapping.<header>`), else "" (the whole form)."""
    return field.removeprefix("mapping.") if field.startswith("mapping.") else ""


def _in_words(exc: InvalidField) -> str:
    if exc.field == "mapping":
        phone = FIELD_LABELS[ImportField.PHONE]
        return f"Choose “{phone}” for the column that holds the patients' phone numbers."
    words = error_words(exc)
    return words[:1].upper() + words[1:]


@router.get(f"{IMPORT}/{{token}}/report", name="contact_import_report")
def report_page(
    request: Request, web: Web, viewer: SignedIn, uow: Uow, uploads: Uploads, token: Token
) -> Response:
    upload = uploads.get(account_id=viewer.scope.account_id, token=token)
    if upload is None or upload.report is None:
        return _missing(request, web, viewer)
    report = upload.report
    found = problems(report)
    locations = {loc.id: loc for loc in account_locations(uow.session, viewer.scope.account_id)}
    context: dict[str, Any] = {
        "upload": upload,
        "report": report,
        "totals": report.totals,
        "location": locations.get(report.location_id),
        "problems": found[:SHOWN_PROBLEMS],
        "more_problems": max(0, len(found) - SHOWN_PROBLEMS),
        "consent_notice": CONSENT_NOTICE,
        "step": mapping_step(upload.csv_text, upload.mapping),
    }
    return web.pages.render(request, "contact_import_report.html", viewer=viewer, context=context)


@router.get(f"{IMPORT}/{{token}}/report.csv", name="contact_import_report_csv")
def report_download(
    request: Request, web: Web, viewer: SignedIn, uploads: Uploads, token: Token
) -> Response:
    upload = uploads.get(account_id=viewer.scope.account_id, token=token)
    if upload is None or upload.report is None:
        return _missing(request, web, viewer)
    stem = upload.filename.rsplit(".", 1)[0] or "contacts"
    safe_stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:60]
    return Response(
        report_csv(upload.csv_text, upload.report),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{safe_stem}-import-report.csv"',
            "Cache-Control": "no-store",
        },
    )
