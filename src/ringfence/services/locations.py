"""Locations: a practice's sites, each in one US time zone (the schema checks the zone), and
the check every record placed at a location passes (the location is the caller's)."""

from __future__ import annotations

from ringfence.adapters.db.orm import Location
from ringfence.services.errors import NotFound
from ringfence.services.repositories import Queries
from ringfence.services.tenancy import unknown_reference
from ringfence.services.unit_of_work import AbstractUnitOfWork, TenantScope


def create_location(
    *, uow: AbstractUnitOfWork, scope: TenantScope, name: str, time_zone: str
) -> Location:
    """A new location of the caller's account; committed."""
    now = uow.clock.now()
    location = Location(
        account_id=scope.account_id,
        name=name,
        time_zone=time_zone,
        created_at=now,
        updated_at=now,
    )
    uow.locations.add(location)
    uow.commit()
    return location


def referenced_location(uow: Queries, scope: TenantScope, location_id: int) -> Location:
    """The caller's location named by a body's `location_id`; else a field error naming it
    (another account's location reads as missing)."""
    try:
        return uow.locations.owned(scope, location_id)
    except NotFound as exc:
        raise unknown_reference("location_id", location_id) from exc
