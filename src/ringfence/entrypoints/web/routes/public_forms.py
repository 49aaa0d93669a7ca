"""The public page of a CRM-hosted form: no sign-in, the consent checkbox (unchecked) and the
consent text rendered exactly from the form's current version.

Installed outside the staff pages' CSRF group on purpose: the page carries no ambient
authority (no session, nothing of the practice's to change), it must work embedded in the
practice's own site where third-party cookies are blocked, and the version it showed is
signed into the page instead (so a submission cannot claim another text than it was shown).

Against automation, in the order a submission meets them: rate limits (per address, per
number), a honeypot field, a minimum fill time, and, when configured, a captcha
(`adapters/captcha.py`: Turnstile or hCaptcha, verified with the vendor before anything is
recorded).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, Path, Request, status
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeSerializer

from ringfence.adapters.captcha import CaptchaVerifier
from ringfence.adapters.db.orm import Account
from ringfence.adapters.db.orm import Form as FormRow
from ringfence.domain.phone import InvalidPhoneNumber, to_e164
from ringfence.entrypoints.deps import (
    ContainerDep,
    Uow,
)
from ringfence.entrypoints.rate_limits import (
    FORM_PER_IP,
    FORM_PER_NUMBER,
    Limited,
    client_ip,
    limiter_of,
)
from ringfence.entrypoints.web.deps import Web
from ringfence.entrypoints.web.sessions import StaffSession
from ringfence.secret_key import secret_key
from ringfence.services.errors import InvalidField, InvalidFields
from ringfence.services.forms import current_version
from ringfence.services.public_forms import (
    SUBMISSION_MAX_LENGTHS,
    Evidence,
    Submission,
    submit,
)

router = APIRouter(include_in_schema=False)

PUBLIC_FORM: Final = "/f/{form_id}"
_SALT: Final = "ringfence.public-form"
log = logging.getLogger("ringfence.forms")
FormId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# How long the page's signed `shown` token is accepted. A signature never goes stale by
# itself: without a limit, one token fetched once by a script could be replayed forever. A
# day still covers a person who leaves the tab open overnight.
SHOWN_LIFETIME: Final = timedelta(hours=24)
EXPIRED: Final = "The form expired: reload the page."
CAPTCHA_FAILED: Final = "Please complete the check below and send again."


@dataclass(frozen=True, slots=True)
class _Shown:
    version: int
    at_ms: float


def _signer(container: ContainerDep) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key(container.settings), salt=_SALT)


def _captcha(request: Request) -> CaptchaVerifier | None:
    verifier: CaptchaVerifier | None = request.app.state.captcha
    return verifier


async def _captcha_token(request: Request) -> str:
    """The token the captcha widget posted. Its field is named by the vendor, so it is read
    here rather than declared (the parsed form is cached on the request: read once)."""
    verifier = _captcha(request)
    if verifier is None:
        return ""
    token = (await request.form()).get(verifier.widget.response_field)
    return token if isinstance(token, str) else ""


def _read_shown(container: ContainerDep, token: str, form_id: int, now: datetime) -> _Shown | None:
    """What the page showed and when, if `token` is ours, for this form, and not expired."""
    try:
        signed_form, version, at_ms = _signer(container).loads(token)
        shown = _Shown(int(version), float(at_ms))
    except (BadSignature, ValueError, TypeError):
        return None
    if signed_form != form_id:
        return None
    if now.timestamp() * 1000 - shown.at_ms > SHOWN_LIFETIME.total_seconds() * 1000:
        return None
    return shown


def _render(
    request: Request,
    web: Web,
    form: FormRow,
    account: Account,
    container: ContainerDep,
    *,
    version_number: int,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    done: bool = False,
    status_code: int = 200,
) -> Response:
    version = next(v for v in form.versions if v.version == version_number)
    verifier = _captcha(request)
    return web.pages.render_public(
        request,
        "public_form.html",
        session=StaffSession.anonymous(),
        context={
            "form": form,
            "practice": account.name,
            "consent_text": version.consent_text,
            # What was shown, and when: the submission proves both (and its fill time).
            "shown": _signer(container).dumps(
                [form.id, version.version, int(container.clock.now().timestamp() * 1000)]
            ),
            "values": values or {},
            "errors": errors or {},
            "max_lengths": SUBMISSION_MAX_LENGTHS,
            "done": done,
            "captcha": verifier.widget if verifier is not None else None,
        },
        status_code=status_code,
    )


def _limited(request: Request, phone: str) -> Limited | None:
    """Per client address, and per number given (one person's number typed again and again
    is someone else's doing)."""
    limiter = limiter_of(request)
    limited = limiter.hit(FORM_PER_IP, "public-form", client_ip(request))
    if limited is None and phone.strip():
        try:
            number = to_e164(phone)
        except InvalidPhoneNumber:
            number = "".join(ch for ch in phone if ch.isdigit())
        limited = limiter.hit(FORM_PER_NUMBER, "public-form-number", number)
    return limited


def _form(uow: Uow, form_id: int) -> tuple[FormRow, Account] | None:
    form = uow.session.get(FormRow, form_id)
    if form is None or current_version(form) is None:
        return None
    account = uow.session.get(Account, form.account_id)
    return (form, account) if account is not None else None


def _missing() -> Response:
    return Response("This form does not exist.", status_code=404, media_type="text/plain")


@router.get(PUBLIC_FORM, name="public_form")
def show(
    request: Request, web: Web, uow: Uow, container: ContainerDep, form_id: FormId
) -> Response:
    found = _form(uow, form_id)
    if found is None:
        return _missing()
    form, account = found
    return _render(request, web, form, account, container, version_number=form.current_version)


@router.post(PUBLIC_FORM, name="public_form_submit")
def receive(
    request: Request,
    web: Web,
    uow: Uow,
    container: ContainerDep,
    form_id: FormId,
    shown: Annotated[str, Form(max_length=500)],
    captcha_token: Annotated[str, Depends(_captcha_token)],
    # Lengths are checked by the submission (a friendly error on the form), not here (a raw
    # 422 page to a patient); the form parser bounds what a request can carry.
    first_name: Annotated[str, Form()] = "",
    last_name: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    consent: Annotated[str, Form(max_length=10)] = "",
    website: Annotated[str, Form(max_length=500)] = "",  # the honeypot: people leave it empty
) -> Response:
    found = _form(uow, form_id)
    if found is None:
        return _missing()
    form, account = found
    seen = _read_shown(container, shown, form.id, uow.clock.now())
    if seen is None:
        return Response(EXPIRED, status_code=400)
    version_number = seen.version
    limited = _limited(request, phone)
    if limited is not None:
        return Response(
            f"Too many submissions: try again in {limited.retry_after_s} seconds.",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(limited.retry_after_s)},
        )
    if website:
        # Automation: answered like a success (nothing to learn from), nothing recorded, no
        # workflow started, no consent.
        log.info("public form %d: honeypot filled, submission dropped", form.id)
        return _render(
            request, web, form, account, container, version_number=version_number, done=True
        )
    values = {"first_name": first_name, "last_name": last_name, "phone": phone, "email": email}
    minimum = container.settings.public_form_min_fill_seconds
    now_ms = uow.clock.now().timestamp() * 1000
    if minimum and now_ms - seen.at_ms < minimum * 1000:
        return _render(
            request, web, form, account, container,
            version_number=version_number, values=values,
            errors={"first_name": "That was quick: please check your details and send again."},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )  # fmt: skip
    verifier = _captcha(request)
    if verifier is not None:
        # Last of the checks: it costs a request to the vendor, and its token is single-use.
        verdict = verifier.verify(captcha_token, request.client.host if request.client else None)
        if not verdict.passed:
            log.info("public form %d: captcha failed (%s)", form.id, verdict.reason)
            return _render(
                request, web, form, account, container,
                version_number=version_number, values=values,
                errors={"captcha": CAPTCHA_FAILED},
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            )  # fmt: skip
    try:
        submit(
            uow=uow,
            form=form,
            submission=Submission(
                first_name=first_name,
                last_name=last_name,
                phone=phone,
                email=email,
                consent_box_ticked=consent == "yes",
                shown_version=version_number,
            ),
            evidence=Evidence(
                ip_address=request.client.host if request.client else None,
                user_agent=request.headers.get("user-agent"),
                page_url=request.headers.get("referer") or str(request.url),
            ),
        )
    except InvalidField as exc:
        problems = exc.errors if isinstance(exc, InvalidFields) else [exc]
        return _render(
            request, web, form, account, container,
            version_number=version_number, values=values,
            errors={p.field: p.message for p in problems},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )  # fmt: skip
    return _render(request, web, form, account, container, version_number=version_number, done=True)
