from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from ringfence.adapters.db.orm import Form
from ringfence.services.forms import current_version, set_consent_text

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def test_consent_text_changes_create_versions_identified_by_hash() -> None:
    form = Form(name="Book a consult", current_version=0, versions=[])
    first = set_consent_text(form, "I agree to AI calls.", now=NOW)
    assert first is not None
    assert (form.current_version, first.version) == (1, 1)
    assert first.text_sha256 == hashlib.sha256(b"I agree to AI calls.").hexdigest()

    assert set_consent_text(form, "I agree to AI calls.", now=NOW + timedelta(days=1)) is None
    assert form.current_version == 1

    second = set_consent_text(form, "I agree to AI calls. Reply STOP.", now=NOW)
    assert second is not None
    assert form.current_version == 2
    assert current_version(form) is second
    assert [v.version for v in form.versions] == [1, 2]
