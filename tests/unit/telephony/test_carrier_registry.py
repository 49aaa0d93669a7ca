"""Every carrier a caller ID may name has a builder: a `CarrierKind` without one would make the
router fail the first call of a number that names it, at dial time."""

from __future__ import annotations

from ringfence.bootstrap.carriers import CARRIERS
from ringfence.domain.vocabulary import CarrierKind


def test_every_carrier_kind_is_registered() -> None:
    assert set(CARRIERS) == set(CarrierKind)
