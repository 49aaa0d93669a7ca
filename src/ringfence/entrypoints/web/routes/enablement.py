"""AI Agents → Voice AI → Enable Outbound Calls: the KYC registration form and its status.

Inbound access does not imply outbound: until the registration is approved, no patient is
called. The form shows every problem at once next to its field and keeps what was typed.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response

from ringfence.adapters.db.orm import Account
from ringfence.domain.kyc import MAX_OWNERS
from ringfence.domain.vocabulary import CallPurpose, KycStatus
from ringfence.entrypoints.deps import (
    Uow,
)
from ringfence.entrypoints.web.deps import SignedIn, Web
from ringfence.entrypoints.web.flash import Flash, FlashLevel
from ringfence.entrypoints.web.params import whole_number
from ringfence.services import kyc
from ringfence.services.consent_review import consent_problems
from ringfence.services.errors import InvalidField, InvalidFields
from ringfence.services.kyc_views import kyc_history, registered_details

router = APIRouter()

ENABLE: Final = "/app/voice-ai/outbound"
OWNER_ROWS: Final = 4  # the form's owner rows (the API takes up to MAX_OWNERS)
PURPOSE_LABELS: Final = {
    CallPurpose.APPOINTMENT_CONFIRMATION: "Appointment confirmations (next 24–48 h)",
    CallPurpose.NO_SHOW_RECOVERY: "No-show recovery",
    CallPurpose.CONSULT_FOLLOW_UP: "Consult follow-ups",
    CallPurpose.TREATMENT_REMINDER: "Treatment reminders (retreatment interval)",
    CallPurpose.LEAD_REACTIVATION: "Lead reactivation (opted-in leads)",
}


def _values_from(application: dict[str, Any] | None) -> dict[str, str]:
    """The form's flat fields from a stored application (or empty ones)."""
    values: dict[str, str] = {}
    if application is None:
        return values
    for key in ("legal_name", "dba", "ein", "website", "expected_daily_volume"):
        values[key] = str(application.get(key, ""))
    for key, value in application.get("address", {}).items():
        values[f"address.{key}"] = str(value)
    for key, value in application.get("representative", {}).items():
        values[f"representative.{key}"] = str(value)
    for index, owner in enumerate(application.get("owners", [])):
        for key, value in owner.items():
            values[f"owners[{index}].{key}"] = "on" if value is True else str(value)
    for purpose in application.get("use_cases", []):
        values[f"use_case.{purpose}"] = "on"
    return values


def _application_from(values: dict[str, str]) -> dict[str, Any]:
    owners = []
    for index in range(OWNER_ROWS):
        name = values.get(f"owners[{index}].name", "").strip()
        percent = values.get(f"owners[{index}].ownership_percent", "").strip()
        if not name and not percent:
            continue
        owners.append(
            {
                "name": name,
                "title": values.get(f"owners[{index}].title", "").strip(),
                "ownership_percent": _number(percent, f"owners[{index}].ownership_percent"),
                "control_person": values.get(f"owners[{index}].control_person") == "on",
            }
        )
    volume = values.get("expected_daily_volume", "").strip()
    return {
        "legal_name": values.get("legal_name", ""),
        "dba": values.get("dba", ""),
        "ein": values.get("ein", ""),
        "address": {
            k: values.get(f"address.{k}", "").strip().upper()
            if k == "state"
            else values.get(f"address.{k}", "").strip()
            for k in ("street", "city", "state", "postal_code")
        },
        "website": values.get("website", "").strip(),
        "owners": owners,
        "representative": {
            k: values.get(f"representative.{k}", "").strip()
            for k in ("name", "title", "email", "phone_e164")
        },
        "use_cases": [p.value for p in CallPurpose if values.get(f"use_case.{p.value}") == "on"],
        "expected_daily_volume": whole_number(volume, low=0) or 0,
    }


def _number(text: str, field: str) -> float:
    try:
        return float(text or "0")
    except ValueError:
        raise InvalidField(field, "a number from 0 to 100") from None


def _render(
    request: Request,
    web: Web,
    viewer: Any,
    uow: Uow,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    account = uow.session.get(Account, viewer.scope.account_id)
    row = kyc.registration_of(uow.session, viewer.scope.account_id)
    return web.pages.render(
        request,
        "enable_outbound.html",
        viewer=viewer,
        context={
            "account": account,
            "registration": row,
            "values": values
            if values is not None
            else _values_from(row.application if row else None),
            "errors": errors or {},
            "owner_rows": OWNER_ROWS,
            "max_owners": MAX_OWNERS,
            "purposes": PURPOSE_LABELS,
            "history": kyc_history(uow.session, account_id=viewer.scope.account_id),
            "registered": registered_details(row)
            if row is not None and row.status is KycStatus.APPROVED
            else None,
        },
        status_code=status_code,
    )


@router.get(ENABLE, name="enable_outbound")
def enable_outbound(request: Request, web: Web, viewer: SignedIn, uow: Uow) -> Response:
    return _render(request, web, viewer, uow)


@router.post(ENABLE, name="enable_outbound_submit")
async def submit(request: Request, web: Web, viewer: SignedIn, uow: Uow) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        application = kyc.application_from_dict(_application_from(values))
        row = kyc.submit(
            uow=uow, scope=viewer.scope, application=application, consent_check=consent_problems
        )
    except InvalidField as exc:
        problems = exc.errors if isinstance(exc, InvalidFields) else [exc]
        return _render(
            request,
            web,
            viewer,
            uow,
            values=values,
            errors={p.field: p.message for p in problems},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    response = RedirectResponse(ENABLE, status_code=status.HTTP_303_SEE_OTHER)
    message = (
        "Outbound calling is approved for this account."
        if row.status.value == "approved"
        else "Registration submitted: it is waiting for review (see the reasons below)."
    )
    web.flashes.add(request, response, Flash(FlashLevel.SUCCESS, message))
    return response


@router.post(f"{ENABLE}/acknowledge", name="enable_outbound_acknowledge")
def acknowledge(request: Request, web: Web, viewer: SignedIn, uow: Uow) -> Response:
    kyc.acknowledge_approval(uow=uow, scope=viewer.scope)
    return RedirectResponse("/app/voice-ai", status_code=status.HTTP_303_SEE_OTHER)
