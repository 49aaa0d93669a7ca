"""CRM-hosted forms: consent text is versioned, and each version is identified by its hash.

The consent scanner judges every new version of the text; its verdict is kept on the version
and in the audit log (a form with a blocking gap cannot give voice consent).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TypedDict

from ringfence.adapters.db.orm import Form, FormVersion
from ringfence.services.errors import InvalidField
from ringfence.services.fields import apply_fields
from ringfence.services.locations import referenced_location
from ringfence.services.unit_of_work import AbstractUnitOfWork, TenantScope


class FormChanges(TypedDict, total=False):
    """The fields of a form that change (a key present with None is refused: a form always
    has a name and a consent text)."""

    name: str | None
    consent_text: str | None


def create_form(
    *,
    uow: AbstractUnitOfWork,
    scope: TenantScope,
    location_id: int,
    name: str,
    consent_text: str,
) -> Form:
    """A new form at one of the caller's locations, its text version 1 (scanned); committed."""
    referenced_location(uow, scope, location_id)
    now = uow.clock.now()
    form = Form(
        account_id=scope.account_id,
        location_id=location_id,
        name=name,
        current_version=0,
        created_at=now,
        updated_at=now,
    )
    version = set_consent_text(form, consent_text, now=now)
    uow.forms.add(form)
    if version is not None:
        _scan(uow, scope, form, version, now)
    uow.commit()
    return form


def update_form(
    *, uow: AbstractUnitOfWork, scope: TenantScope, form_id: int, changes: FormChanges
) -> Form:
    """Change the fields present in `changes`; a changed consent text is a new version
    (scanned), the same text is none; committed."""
    form = uow.forms.owned(scope, form_id)
    text = changes.get("consent_text")
    if "consent_text" in changes and text is None:
        raise InvalidField("consent_text", "may not be null")
    apply_fields(form, {k: v for k, v in changes.items() if k != "consent_text"})
    now = uow.clock.now()
    form.updated_at = now
    if text is not None:
        version = set_consent_text(form, text, now=now)
        if version is not None:
            _scan(uow, scope, form, version, now)
    uow.commit()
    return form


def _scan(
    uow: AbstractUnitOfWork, scope: TenantScope, form: Form, version: FormVersion, now: datetime
) -> None:
    """Judge a new version of the text, keep the verdict on it and in the audit log."""
    # Imported here, not at the top: consent_review imports this module (`current_version`).
    from ringfence.services.consent_review import scan_version

    result = scan_version(version, uow.accounts.of(scope))
    gaps = [f.element.value for f in result.findings if f.blocking and f.status != "present"]
    uow.audit.record(
        scope, entity_type="form", entity_id=form.id,
        action="form.consent_scanned", at=now,
        after={
            "version": version.version, "score": result.score,
            "valid_for_voice_opt_in": result.valid_for_voice_opt_in,
            "gaps": gaps,
        },
    )  # fmt: skip


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def set_consent_text(form: Form, text: str, *, now: datetime) -> FormVersion | None:
    """Add a new version when `text` differs from the current one; returns it (or None)."""
    current = current_version(form)
    if current is not None and current.consent_text == text:
        return None
    number = (current.version + 1) if current is not None else 1
    version = FormVersion(
        version=number, consent_text=text, text_sha256=text_sha256(text), created_at=now
    )
    form.versions.append(version)
    form.current_version = number
    form.updated_at = now
    return version


def current_version(form: Form) -> FormVersion | None:
    return next((v for v in form.versions if v.version == form.current_version), None)
