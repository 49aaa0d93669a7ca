"""The unit of work's row query objects answer alike on the database (SQLite and PostgreSQL)
and in the fake the service unit tests use (`tests/unit/services/fakes.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ringfence.adapters.db.orm import Contact, Tag
from ringfence.bootstrap import Container
from ringfence.domain.vocabulary import ContactSource
from ringfence.services.errors import NotFound
from ringfence.services.repositories import Queries
from ringfence.services.unit_of_work import TenantScope
from tests.conftest import make_tenant
from tests.unit.services.fakes import START, FakeUnitOfWork

PHONE = "+12125550147"


@dataclass(frozen=True)
class World:
    uow: Queries
    mine: TenantScope
    theirs: TenantScope
    here: int  # a location of mine
    there: int  # a location of theirs

    def contact(self, location_id: int, phone: str | None = PHONE) -> Contact:
        contact = Contact(
            account_id=self.mine.account_id,
            location_id=location_id,
            first_name="Ava",
            last_name="",
            phone_e164=phone,
            source=ContactSource.API,
            created_at=START,
            updated_at=START,
        )
        self.uow.contacts.add(contact)
        return contact

    def tag(self, scope: TenantScope, name: str) -> Tag:
        tag = Tag(account_id=scope.account_id, name=name, created_at=START, updated_at=START)
        self.uow.tags.add(tag)
        return tag


@pytest.fixture(params=["sql", "fake"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    if request.param == "fake":
        fake = FakeUnitOfWork()
        fake.add_location(1, 10)
        fake.add_location(2, 20)
        yield World(fake, TenantScope(1, "t"), TenantScope(2, "t"), 10, 20)
        return
    container: Container = request.getfixturevalue("container")
    mine, theirs = make_tenant(container, "Mine"), make_tenant(container, "Theirs")
    with container.uow() as uow:
        yield World(
            uow,
            TenantScope(mine.account_id, "t"),
            TenantScope(theirs.account_id, "t"),
            mine.location_id,
            theirs.location_id,
        )


def test_a_contact_is_found_by_its_owner_only(world: World) -> None:
    contact = world.contact(world.here)
    assert contact.id is not None
    assert world.uow.contacts.owned(world.mine, contact.id) is contact
    for scope, contact_id in ((world.theirs, contact.id), (world.mine, contact.id + 1000)):
        with pytest.raises(NotFound, match=f"contacts {contact_id} not found"):
            world.uow.contacts.owned(scope, contact_id)


def test_a_number_is_found_at_its_location_only(world: World) -> None:
    contact = world.contact(world.here)
    world.contact(world.here, phone=None)
    assert world.uow.contacts.by_phone(location_id=world.here, phone=PHONE) is contact
    assert world.uow.contacts.by_phone(location_id=world.here, phone="+12125550100") is None
    assert world.uow.contacts.by_phone(location_id=world.there, phone=PHONE) is None


def test_a_deleted_contact_is_gone_and_a_new_one_has_no_evidence(world: World) -> None:
    contact = world.contact(world.here)
    assert world.uow.contacts.consent_records(contact) == 0
    world.uow.contacts.delete(contact)
    with pytest.raises(NotFound):
        world.uow.contacts.owned(world.mine, contact.id)


def test_tags_are_named_exactly_within_the_account(world: World) -> None:
    vip = world.tag(world.mine, "VIP")
    world.tag(world.mine, "Botox")
    world.tag(world.theirs, "Opted Out")
    assert world.uow.tags.named(world.mine, ["VIP", "vip", "Opted Out"]) == [vip]
    assert world.uow.tags.named(world.mine, []) == []
    assert world.uow.tags.owned(world.mine, vip.id) is vip
    with pytest.raises(NotFound, match=f"tags {vip.id} not found"):
        world.uow.tags.owned(world.theirs, vip.id)
    world.uow.tags.delete(vip)
    assert world.uow.tags.named(world.mine, ["VIP"]) == []


def test_a_location_is_found_by_its_owner_only(world: World) -> None:
    assert world.uow.locations.owned(world.mine, world.here).id == world.here
    with pytest.raises(NotFound, match=f"locations {world.there} not found"):
        world.uow.locations.owned(world.mine, world.there)
