"""`all_or_nothing`, the block a use case wraps its change in when a refusal must be rolled
back at once (a form shown again reads the rows as stored). No database."""

from __future__ import annotations

import pytest

from ringfence.services.errors import InvalidField
from ringfence.services.unit_of_work import all_or_nothing
from tests.unit.services.fakes import FakeUnitOfWork


def test_a_block_that_finishes_is_committed_once() -> None:
    uow = FakeUnitOfWork()
    with all_or_nothing(uow):
        pass
    assert (uow.commits, uow.rollbacks) == (1, 0)


def test_a_refused_change_is_rolled_back_before_the_error_goes_on() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(InvalidField), all_or_nothing(uow):
        raise InvalidField("name", "at most 200 characters")
    assert (uow.commits, uow.rollbacks) == (0, 1)


def test_returning_from_the_block_commits() -> None:
    uow = FakeUnitOfWork()

    def use_case() -> int:
        with all_or_nothing(uow):
            return 7

    assert use_case() == 7
    assert uow.committed
