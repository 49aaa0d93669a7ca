"""The tag use cases on the fake unit of work: one name per tag in an account, and the
"Opted Out" tag kept by the opt-out ledger. No database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ringfence.domain.tags import OPT_OUT_TAG
from ringfence.services.errors import Conflict, InvalidField, NotFound
from ringfence.services.tags import create_tag, delete_tag, update_tag
from ringfence.services.unit_of_work import TenantScope
from tests.unit.services.fakes import FakeUnitOfWork

ACCOUNT, OTHER = 1, 2
SCOPE = TenantScope(account_id=ACCOUNT, actor="api_key:test")
# "Opted Out" spelt other ways: they would read as an opt-out to staff, not to the gate.
LOOK_ALIKES = ["opted out", "Opted-Out", "Opted  Out", "Opted\u200bOut", "\u041epted Out"]


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


def _names(uow: FakeUnitOfWork, account_id: int = ACCOUNT) -> list[str]:
    return sorted(t.name for t in uow.tags.rows.values() if t.account_id == account_id)


# -- creating ---------------------------------------------------------------------------------


def test_a_new_tag_is_stored_and_committed_once(uow: FakeUnitOfWork) -> None:
    tag = create_tag(uow=uow, scope=SCOPE, name="VIP")
    assert uow.tags.rows[tag.id] is tag
    assert (tag.account_id, tag.name) == (ACCOUNT, "VIP")
    assert tag.created_at == tag.updated_at == uow.clock.now()
    assert uow.commits == 1


def test_a_name_is_taken_once_per_account(uow: FakeUnitOfWork) -> None:
    create_tag(uow=uow, scope=SCOPE, name="VIP")
    with pytest.raises(Conflict, match="a tag called 'VIP' already exists"):
        create_tag(uow=uow, scope=SCOPE, name="VIP")
    assert _names(uow) == ["VIP"]
    assert uow.commits == 1
    # Another account's names are not this one's business.
    create_tag(uow=uow, scope=TenantScope(account_id=OTHER, actor="t"), name="VIP")
    assert _names(uow, OTHER) == ["VIP"]
    assert uow.commits == 2


@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_no_tag_imitates_the_opted_out_tag(uow: FakeUnitOfWork, name: str) -> None:
    with pytest.raises(InvalidField) as refused:
        create_tag(uow=uow, scope=SCOPE, name=name)
    assert refused.value.field == "name"
    assert "opt-out ledger" in refused.value.message
    assert uow.tags.rows == {}
    assert uow.commits == 0


def test_the_opted_out_tag_itself_may_be_created(uow: FakeUnitOfWork) -> None:
    create_tag(uow=uow, scope=SCOPE, name=OPT_OUT_TAG)
    assert _names(uow) == [OPT_OUT_TAG]
    assert uow.commits == 1


# -- renaming ---------------------------------------------------------------------------------


def test_a_rename_is_committed_once(uow: FakeUnitOfWork) -> None:
    tag = uow.add_tag(ACCOUNT, "VIP")
    uow.clock.advance(timedelta(minutes=1))
    renamed = update_tag(uow=uow, scope=SCOPE, tag_id=tag.id, changes={"name": "Botox"})
    assert renamed is tag
    assert tag.name == "Botox"
    assert tag.updated_at == uow.clock.now() != tag.created_at
    assert uow.commits == 1


@pytest.mark.parametrize("changes", [{}, {"name": "VIP"}])
def test_keeping_the_name_is_no_conflict(uow: FakeUnitOfWork, changes: dict[str, str]) -> None:
    tag = uow.add_tag(ACCOUNT, "VIP")
    update_tag(uow=uow, scope=SCOPE, tag_id=tag.id, changes=changes)  # type: ignore[arg-type]
    assert tag.name == "VIP"
    assert uow.commits == 1


def test_a_rename_onto_a_taken_name_is_refused(uow: FakeUnitOfWork) -> None:
    uow.add_tag(ACCOUNT, "Botox")
    tag = uow.add_tag(ACCOUNT, "VIP")
    with pytest.raises(Conflict, match="'Botox' already exists"):
        update_tag(uow=uow, scope=SCOPE, tag_id=tag.id, changes={"name": "Botox"})
    assert tag.name == "VIP"
    assert uow.commits == 0


@pytest.mark.parametrize("name", [OPT_OUT_TAG, *LOOK_ALIKES])
def test_no_tag_is_renamed_to_the_opted_out_tag(uow: FakeUnitOfWork, name: str) -> None:
    tag = uow.add_tag(ACCOUNT, "VIP")
    with pytest.raises(InvalidField) as refused:
        update_tag(uow=uow, scope=SCOPE, tag_id=tag.id, changes={"name": name})
    assert refused.value.field == "name"
    assert tag.name == "VIP"
    assert uow.commits == 0


def test_the_opted_out_tag_cannot_be_renamed(uow: FakeUnitOfWork) -> None:
    tag = uow.add_tag(ACCOUNT, OPT_OUT_TAG)
    with pytest.raises(InvalidField, match="cannot be renamed"):
        update_tag(uow=uow, scope=SCOPE, tag_id=tag.id, changes={"name": "Former patients"})
    assert tag.name == OPT_OUT_TAG
    assert uow.commits == 0


def test_a_name_cannot_be_cleared(uow: FakeUnitOfWork) -> None:
    tag = uow.add_tag(ACCOUNT, "VIP")
    with pytest.raises(InvalidField) as refused:
        update_tag(uow=uow, scope=SCOPE, tag_id=tag.id, changes={"name": None})
    assert (refused.value.field, refused.value.message) == ("name", "may not be null")
    assert tag.name == "VIP"
    assert uow.commits == 0


# -- deleting ---------------------------------------------------------------------------------


def test_a_tag_is_deleted_and_committed_once(uow: FakeUnitOfWork) -> None:
    tag = uow.add_tag(ACCOUNT, "VIP")
    delete_tag(uow=uow, scope=SCOPE, tag_id=tag.id)
    assert uow.tags.rows == {}
    assert uow.commits == 1


def test_the_opted_out_tag_cannot_be_deleted(uow: FakeUnitOfWork) -> None:
    tag = uow.add_tag(ACCOUNT, OPT_OUT_TAG)
    with pytest.raises(Conflict, match="cannot be deleted"):
        delete_tag(uow=uow, scope=SCOPE, tag_id=tag.id)
    assert _names(uow) == [OPT_OUT_TAG]
    assert uow.commits == 0


def test_another_accounts_tag_reads_as_missing(uow: FakeUnitOfWork) -> None:
    tag = uow.add_tag(OTHER, "VIP")
    with pytest.raises(NotFound):
        update_tag(uow=uow, scope=SCOPE, tag_id=tag.id, changes={"name": "Mine"})
    with pytest.raises(NotFound):
        delete_tag(uow=uow, scope=SCOPE, tag_id=tag.id)
    assert tag.name == "VIP"
    assert uow.commits == 0
