"""CRM-hosted forms: consent text is versioned, and each version is identified by its hash."""

from __future__ import annotations

import hashlib
from datetime import datetime

from ringfence.adapters.db.orm import Form, FormVersion


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
