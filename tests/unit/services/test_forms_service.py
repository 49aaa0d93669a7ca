"""The form use cases on the fake unit of work: a changed consent text is a new version, each
new version scanned and the verdict audited; the same text makes none. No database."""

from __future__ import annotations

from typing import cast, get_type_hints

import pytest

from ringfence.entrypoints.api.schemas.practice import FormUpdate
from ringfence.services.errors import InvalidField
from ringfence.services.forms import FormChanges, create_form, text_sha256, update_form
from ringfence.services.unit_of_work import TenantScope
from tests.unit.services.fakes import FakeUnitOfWork

ACCOUNT, OTHER = 1, 2
SCOPE = TenantScope(account_id=ACCOUNT, actor="api_key:test")
HERE, ELSEWHERE = 10, 20  # a location of the account, one of another account
GOOD = (
    "By checking this box, I agree that Glow Aesthetics may call me at the phone number I "
    "provided, including calls made with automated technology or an artificial or AI voice, "
    "about my appointments and offers. Consent is not a condition of purchase. I can opt out "
    "at any time by saying 'stop' on a call or replying STOP. See our Terms and Privacy Policy."
)
WEAK = "Sign me up for news and specials from Glow Aesthetics."


@pytest.fixture
def uow() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    fake.add_account(ACCOUNT, "Glow Aesthetics")
    fake.add_location(ACCOUNT, HERE)
    fake.add_location(OTHER, ELSEWHERE)
    return fake


def _scans(uow: FakeUnitOfWork) -> list[tuple[object, object]]:
    """(version, valid for voice opt-in) of each scan in the audit log."""
    assert all(e.action == "form.consent_scanned" for e in uow.audit.entries)
    return [
        (e.after["version"], e.after["valid_for_voice_opt_in"])
        for e in uow.audit.entries
        if e.after is not None
    ]


def test_a_new_form_is_version_1_scanned_audited_and_committed_once(uow: FakeUnitOfWork) -> None:
    form = create_form(uow=uow, scope=SCOPE, location_id=HERE, name="Consult", consent_text=GOOD)
    assert uow.forms.rows[form.id] is form
    assert (form.current_version, form.consent_text) == (1, GOOD)
    assert form.text_sha256 == text_sha256(GOOD)
    assert form.consent_scan is not None
    assert form.consent_scan["valid_for_voice_opt_in"] is True
    assert _scans(uow) == [(1, True)]
    assert uow.audit.entries[0].entity_id == form.id
    assert uow.commits == 1


def test_a_changed_text_is_a_new_version_and_the_same_text_none(uow: FakeUnitOfWork) -> None:
    form = create_form(uow=uow, scope=SCOPE, location_id=HERE, name="Consult", consent_text=GOOD)
    update_form(uow=uow, scope=SCOPE, form_id=form.id, changes={"consent_text": WEAK})
    assert [v.version for v in form.versions] == [1, 2]
    assert (form.current_version, form.consent_text) == (2, WEAK)
    assert _scans(uow) == [(1, True), (2, False)]
    update_form(
        uow=uow, scope=SCOPE, form_id=form.id, changes={"consent_text": WEAK, "name": "News"}
    )
    assert (form.current_version, form.name) == (2, "News")
    assert len(uow.audit.entries) == 2  # no new version, no new scan
    assert uow.commits == 3


@pytest.mark.parametrize("field", ["consent_text", "name"])
def test_a_form_keeps_its_name_and_text(uow: FakeUnitOfWork, field: str) -> None:
    form = create_form(uow=uow, scope=SCOPE, location_id=HERE, name="Consult", consent_text=GOOD)
    changes = cast(FormChanges, {field: None})
    with pytest.raises(InvalidField) as refused:
        update_form(uow=uow, scope=SCOPE, form_id=form.id, changes=changes)
    assert (refused.value.field, refused.value.message) == (field, "may not be null")
    assert (form.current_version, form.name) == (1, "Consult")
    assert uow.commits == 1


def test_the_location_must_be_the_callers(uow: FakeUnitOfWork) -> None:
    with pytest.raises(InvalidField) as refused:
        create_form(uow=uow, scope=SCOPE, location_id=ELSEWHERE, name="x", consent_text=GOOD)
    assert refused.value.field == "location_id"
    assert (uow.forms.rows, uow.audit.entries, uow.commits) == ({}, [], 0)


def test_the_api_schema_names_the_services_fields() -> None:
    assert set(FormUpdate.model_fields) == set(get_type_hints(FormChanges))
