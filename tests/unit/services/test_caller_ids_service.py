"""The location and caller-ID use cases on the fake unit of work: a number is one caller ID of
the account (another account's identical number is none of its business), at one of the
caller's locations. No database."""

from __future__ import annotations

import pytest

from ringfence.services.caller_ids import create_caller_id
from ringfence.services.errors import Conflict, InvalidField
from ringfence.services.locations import create_location
from ringfence.services.unit_of_work import TenantScope
from tests.unit.services.fakes import (
    ACCOUNT,
    ELSEWHERE,
    HERE,
    OTHER,
    SCOPE,
    THERE,
    FakeUnitOfWork,
    two_locations_and_a_rival,
)

THEIRS = TenantScope(account_id=OTHER, actor="api_key:theirs")
NUMBER = "+12125550199"


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return two_locations_and_a_rival()


def _numbers(uow: FakeUnitOfWork, account_id: int) -> list[tuple[int, str]]:
    return sorted(
        (n.location_id, n.e164) for n in uow.caller_ids.rows.values() if n.account_id == account_id
    )


def test_a_new_caller_id_is_stored_at_the_location_and_committed_once(
    uow: FakeUnitOfWork,
) -> None:
    number = create_caller_id(
        uow=uow, scope=SCOPE, location_id=HERE, e164=NUMBER, label="Front desk"
    )
    assert uow.caller_ids.rows[number.id] is number
    assert (number.account_id, number.location_id, number.label) == (ACCOUNT, HERE, "Front desk")
    assert number.created_at == number.updated_at == uow.clock.now()
    assert uow.commits == 1


def test_a_number_is_one_caller_id_of_the_account_at_whichever_location(
    uow: FakeUnitOfWork,
) -> None:
    create_caller_id(uow=uow, scope=SCOPE, location_id=HERE, e164=NUMBER, label="")
    for location_id in (HERE, THERE):
        with pytest.raises(Conflict) as refused:
            create_caller_id(uow=uow, scope=SCOPE, location_id=location_id, e164=NUMBER, label="")
        # The answer names the number, not the location that has it.
        assert str(refused.value) == f"e164: {NUMBER} is already one of this account's caller IDs"
    assert _numbers(uow, ACCOUNT) == [(HERE, NUMBER)]
    assert uow.commits == 1


def test_another_accounts_identical_number_is_no_conflict(uow: FakeUnitOfWork) -> None:
    create_caller_id(uow=uow, scope=THEIRS, location_id=ELSEWHERE, e164=NUMBER, label="")
    create_caller_id(uow=uow, scope=SCOPE, location_id=HERE, e164=NUMBER, label="")
    assert _numbers(uow, OTHER) == [(ELSEWHERE, NUMBER)]
    assert _numbers(uow, ACCOUNT) == [(HERE, NUMBER)]
    assert uow.commits == 2


def test_the_location_must_be_the_callers(uow: FakeUnitOfWork) -> None:
    for location_id in (ELSEWHERE, 999):
        with pytest.raises(InvalidField) as refused:
            create_caller_id(uow=uow, scope=SCOPE, location_id=location_id, e164=NUMBER, label="")
        assert (refused.value.field, refused.value.message) == (
            "location_id",
            f"no such location ({location_id})",
        )
    assert uow.caller_ids.rows == {}
    assert uow.commits == 0


def test_a_new_location_is_the_callers_and_committed_once(uow: FakeUnitOfWork) -> None:
    location = create_location(uow=uow, scope=SCOPE, name="Uptown", time_zone="America/Denver")
    assert uow.locations.owned(SCOPE, location.id) is location
    assert (location.account_id, location.name, location.time_zone) == (
        ACCOUNT,
        "Uptown",
        "America/Denver",
    )
    assert location.created_at == location.updated_at == uow.clock.now()
    assert uow.commits == 1
