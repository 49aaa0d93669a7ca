from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.clock import VirtualClock
from ringfence.entrypoints.api.schemas.common import decode_cursor, encode_cursor


@given(st.integers(min_value=0, max_value=2**31))
def test_cursor_round_trips(last_id: int) -> None:
    assert decode_cursor(encode_cursor(last_id)) == last_id


@pytest.mark.parametrize(
    "cursor", ["", "!!!", "bm90IGpzb24=", "eyJhZnRlciI6ICJ4In0=", "eyJhZnRlciI6IC0xfQ==", "W10="]
)
def test_foreign_cursors_are_rejected(cursor: str) -> None:
    with pytest.raises(ValueError, match="malformed cursor"):
        decode_cursor(cursor)


def test_virtual_clock_moves_only_forward_and_only_when_told() -> None:
    start = datetime(2026, 3, 8, 6, 59, tzinfo=UTC)
    clock = VirtualClock(start)
    assert clock.now() == start
    assert clock.advance(timedelta(minutes=2)) == start + timedelta(minutes=2)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="aware"):
        VirtualClock(datetime(2026, 1, 1))
