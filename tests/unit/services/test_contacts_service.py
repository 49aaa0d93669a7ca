"""The contact use cases on the fake unit of work: no database. Each rule's refusal writes
nothing (no commit); each success commits once."""

from __future__ import annotations

from datetime import timedelta
from typing import get_type_hints

import pytest

from ringfence.domain.compliance import SuppressionSource
from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.domain.vocabulary import Channel, ContactSource
from ringfence.entrypoints.api.schemas.contacts import ContactCreate, ContactUpdate
from ringfence.services.contacts import (
    ContactFields,
    create_contact,
    delete_contact,
    update_contact,
)
from ringfence.services.errors import Conflict, InvalidField, NotFound
from tests.unit.services.fakes import (
    ACCOUNT,
    ELSEWHERE,
    HERE,
    OTHER,
    SCOPE,
    THERE,
    AuditEntry,
    FakeUnitOfWork,
    Saved,
    Suppressed,
    two_locations_and_a_rival,
)

PHONE = "+12125550147"


@pytest.fixture
def uow() -> FakeUnitOfWork:
    fake = two_locations_and_a_rival()
    fake.add_tag(ACCOUNT, "VIP")
    fake.add_tag(OTHER, "Other account's tag")
    return fake


def _fields(**changes: object) -> ContactFields:
    """A new contact's fields as the API gives them (every field, defaults filled in)."""
    fields: ContactFields = {
        "first_name": "Ava",
        "last_name": "",
        "phone": None,
        "email": None,
        "source": ContactSource.API,
        "tags": [],
        "dnd_voice": False,
        "dnd_sms": False,
        "dnd_email": False,
        "opted_out_at": None,
        "opted_out_channel": None,
    }
    fields.update(changes)  # type: ignore[typeddict-item]  # test data, keys checked below
    return fields


def _create(uow: FakeUnitOfWork, location_id: int = HERE, **changes: object) -> int:
    contact = create_contact(
        uow=uow, scope=SCOPE, location_id=location_id, fields=_fields(**changes)
    )
    return contact.id


def _refused(uow: FakeUnitOfWork) -> None:
    assert uow.commits == 0


# -- creating ---------------------------------------------------------------------------------


def test_a_new_contact_is_stored_with_its_tags_and_committed_once(uow: FakeUnitOfWork) -> None:
    contact_id = _create(uow, phone=PHONE, tags=["VIP", "VIP"])
    stored = uow.contacts.rows[contact_id]
    assert (stored.account_id, stored.location_id, stored.first_name) == (ACCOUNT, HERE, "Ava")
    assert stored.phone_e164 == PHONE
    assert [tag.name for tag in stored.tags] == ["VIP"]
    assert stored.created_at == stored.updated_at == uow.clock.now()
    assert uow.commits == 1
    assert uow.triggers.saved == [Saved(contact_id, frozenset(), opted_out_before=False)]
    assert uow.opt_outs.calls == []
    assert uow.audit.entries == []


@pytest.mark.parametrize("location_id", [ELSEWHERE, 999])
def test_a_contact_goes_only_at_one_of_the_callers_locations(
    uow: FakeUnitOfWork, location_id: int
) -> None:
    with pytest.raises(InvalidField) as refused:
        _create(uow, location_id=location_id)
    assert (refused.value.field, refused.value.message) == (
        "location_id",
        f"no such location ({location_id})",
    )
    assert uow.contacts.rows == {}
    _refused(uow)


@pytest.mark.parametrize("tags", [["No Such Tag"], ["VIP", "Other account's tag"]])
def test_an_unknown_tag_is_refused_not_created(uow: FakeUnitOfWork, tags: list[str]) -> None:
    with pytest.raises(InvalidField) as refused:
        _create(uow, tags=tags)
    assert refused.value.field == "tags"
    assert tags[-1] in refused.value.message
    assert uow.contacts.rows == {}
    assert len(uow.tags.rows) == 2
    _refused(uow)


def test_one_contact_per_number_at_a_location(uow: FakeUnitOfWork) -> None:
    first = _create(uow, phone=PHONE)
    with pytest.raises(Conflict, match=rf"another contact \({first}\) at this location has"):
        _create(uow, phone=PHONE, first_name="Mia")
    assert list(uow.contacts.rows) == [first]
    assert uow.commits == 1
    # The same number at another location of the practice is another contact.
    _create(uow, location_id=THERE, phone=PHONE)
    assert uow.commits == 2


def test_opted_out_at_and_its_channel_go_together(uow: FakeUnitOfWork) -> None:
    with pytest.raises(InvalidField) as refused:
        _create(uow, opted_out_at=uow.clock.now())
    assert refused.value.field == "opted_out_at"
    assert uow.contacts.rows == {}
    _refused(uow)


def test_a_new_contact_with_voice_dnd_suppresses_its_number_and_is_audited(
    uow: FakeUnitOfWork,
) -> None:
    contact_id = _create(uow, phone=PHONE, dnd_voice=True)
    now = uow.clock.now()
    assert uow.opt_outs.calls == [Suppressed(PHONE, now, SuppressionSource.DND_VOICE, contact_id)]
    assert uow.audit.entries == [
        AuditEntry(
            "api_key:test",
            "contact",
            contact_id,
            "contact.created_with_flags",
            None,
            {"dnd_voice": True},
        )
    ]
    assert uow.commits == 1


def test_a_new_contact_for_a_suppressed_number_gets_the_opted_out_tag(
    uow: FakeUnitOfWork,
) -> None:
    uow.opt_outs.suppressed.add(PHONE)
    contact_id = _create(uow, phone=PHONE)
    assert [tag.name for tag in uow.contacts.rows[contact_id].tags] == [OPT_OUT_TAG]
    assert uow.opt_outs.tagged == [contact_id]
    assert uow.opt_outs.calls == []  # no new signal: the number already is suppressed


# -- changing ---------------------------------------------------------------------------------


def test_a_change_sets_only_the_given_fields_and_commits_once(uow: FakeUnitOfWork) -> None:
    contact_id = _create(uow, phone=PHONE, last_name="Lee")
    uow.clock.advance(timedelta(minutes=5))
    changed = update_contact(
        uow=uow,
        scope=SCOPE,
        contact_id=contact_id,
        changes={"first_name": "Avery", "tags": ["VIP"]},
    )
    assert (changed.first_name, changed.last_name, changed.phone_e164) == ("Avery", "Lee", PHONE)
    assert changed.updated_at == uow.clock.now() != changed.created_at
    assert uow.commits == 2
    assert uow.triggers.saved[-1] == Saved(contact_id, frozenset(), opted_out_before=False)
    assert uow.audit.entries == []  # no audited field changed


def test_dnd_and_opt_out_changes_are_audited_with_before_and_after(uow: FakeUnitOfWork) -> None:
    contact_id = _create(uow, phone=PHONE)
    update_contact(uow=uow, scope=SCOPE, contact_id=contact_id, changes={"dnd_voice": True})
    at = uow.clock.now()
    opted: ContactFields = {"opted_out_at": at, "opted_out_channel": Channel.VOICE}
    update_contact(uow=uow, scope=SCOPE, contact_id=contact_id, changes=opted)
    assert [(e.action, e.before, e.after) for e in uow.audit.entries] == [
        ("contact.flags_changed", {"dnd_voice": False}, {"dnd_voice": True}),
        (
            "contact.flags_changed",
            {"opted_out_at": None, "opted_out_channel": None},
            {"opted_out_at": at.isoformat(), "opted_out_channel": "voice"},
        ),
    ]
    assert [call.source for call in uow.opt_outs.calls] == [
        SuppressionSource.DND_VOICE,
        SuppressionSource.OPT_OUT_FLAG,
    ]
    assert uow.triggers.saved[-1].opted_out_before is False


def test_a_number_taken_at_the_location_is_refused_but_keeping_ones_own_is_not(
    uow: FakeUnitOfWork,
) -> None:
    taken = _create(uow, phone=PHONE)
    other = _create(uow, phone="+12125550100", first_name="Mia")
    with pytest.raises(Conflict, match=rf"another contact \({taken}\)"):
        update_contact(uow=uow, scope=SCOPE, contact_id=other, changes={"phone": PHONE})
    assert uow.contacts.rows[other].phone_e164 == "+12125550100"
    assert uow.commits == 2
    update_contact(uow=uow, scope=SCOPE, contact_id=taken, changes={"phone": PHONE})
    assert uow.commits == 3


@pytest.mark.parametrize(
    "field", ["first_name", "last_name", "dnd_voice", "dnd_sms", "dnd_email", "tags"]
)
def test_required_fields_cannot_be_cleared(uow: FakeUnitOfWork, field: str) -> None:
    contact_id = _create(uow)
    changes: ContactFields = {field: None}  # type: ignore[misc]  # any of the keys
    with pytest.raises(InvalidField) as refused:
        update_contact(uow=uow, scope=SCOPE, contact_id=contact_id, changes=changes)
    assert (refused.value.field, refused.value.message) == (field, "may not be null")
    assert uow.commits == 1


def test_the_opted_out_tag_stays_while_the_number_is_suppressed(uow: FakeUnitOfWork) -> None:
    contact_id = _create(uow, phone=PHONE)
    update_contact(uow=uow, scope=SCOPE, contact_id=contact_id, changes={"tags": []})
    uow.opt_outs.suppressed.add(PHONE)
    opted_out = uow.add_tag(ACCOUNT, OPT_OUT_TAG)
    uow.contacts.rows[contact_id].tags.append(opted_out)
    commits = uow.commits
    with pytest.raises(InvalidField) as refused:
        update_contact(uow=uow, scope=SCOPE, contact_id=contact_id, changes={"tags": ["VIP"]})
    assert refused.value.field == "tags"
    assert [tag.name for tag in uow.contacts.rows[contact_id].tags] == [OPT_OUT_TAG]
    assert uow.commits == commits
    # Once consent lifts the suppression, the tag may come off.
    uow.opt_outs.suppressed.clear()
    update_contact(uow=uow, scope=SCOPE, contact_id=contact_id, changes={"tags": ["VIP"]})
    assert [tag.name for tag in uow.contacts.rows[contact_id].tags] == ["VIP"]


def test_another_accounts_contact_reads_as_missing(uow: FakeUnitOfWork) -> None:
    contact_id = _create(uow)
    uow.contacts.rows[contact_id].account_id = OTHER
    with pytest.raises(NotFound):
        update_contact(uow=uow, scope=SCOPE, contact_id=contact_id, changes={"first_name": "X"})
    with pytest.raises(NotFound):
        delete_contact(uow=uow, scope=SCOPE, contact_id=contact_id)
    assert uow.commits == 1


# -- deleting ---------------------------------------------------------------------------------


def test_a_contact_with_consent_evidence_is_kept(uow: FakeUnitOfWork) -> None:
    keep, drop = _create(uow), _create(uow, first_name="Mia")
    uow.contacts.evidence[keep] = 2
    with pytest.raises(Conflict, match="2 consent record"):
        delete_contact(uow=uow, scope=SCOPE, contact_id=keep)
    assert keep in uow.contacts.rows
    assert uow.commits == 2
    delete_contact(uow=uow, scope=SCOPE, contact_id=drop)
    assert list(uow.contacts.rows) == [keep]
    assert uow.commits == 3


# -- the API's schemas and the service's fields ------------------------------------------------


def test_the_api_schemas_name_the_services_fields() -> None:
    # The routes hand the schema's fields over as `ContactFields` (a cast): the names must agree.
    keys = set(get_type_hints(ContactFields))
    assert set(ContactCreate.model_fields) - {"location_id"} <= keys
    assert set(ContactUpdate.model_fields) <= keys
