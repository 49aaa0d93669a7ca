"""locations use US time zones: every location's zone must be one of the 50 states' or DC's

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 18:00:00

The API now refuses any other zone (`domain/us_zones.py`). This revision checks the rows made
before: if a location uses a zone outside the states (UTC, Asia/Tokyo, a territory's), it stops
with the list of them and the SQL to fix each one, and changes nothing; the operator sets each
location's real zone and runs `ringfence db upgrade` again. Aliases of a US zone (US/Eastern,
America/Indianapolis) are rewritten to the canonical name the API now stores. The zone list is
copied here, not imported: a migration must keep meaning what it meant when it was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# tzdata's zone.tab rows for country code US, as of 2026.
US_TIME_ZONES = frozenset(
    {
        "America/New_York",
        "America/Detroit",
        "America/Kentucky/Louisville",
        "America/Kentucky/Monticello",
        "America/Indiana/Indianapolis",
        "America/Indiana/Vincennes",
        "America/Indiana/Winamac",
        "America/Indiana/Marengo",
        "America/Indiana/Petersburg",
        "America/Indiana/Vevay",
        "America/Chicago",
        "America/Indiana/Tell_City",
        "America/Indiana/Knox",
        "America/Menominee",
        "America/North_Dakota/Center",
        "America/North_Dakota/New_Salem",
        "America/North_Dakota/Beulah",
        "America/Denver",
        "America/Boise",
        "America/Phoenix",
        "America/Los_Angeles",
        "America/Anchorage",
        "America/Juneau",
        "America/Sitka",
        "America/Metlakatla",
        "America/Yakutat",
        "America/Nome",
        "America/Adak",
        "Pacific/Honolulu",
    }
)
US_ZONE_ALIASES = {
    "US/Eastern": "America/New_York",
    "US/Central": "America/Chicago",
    "US/Mountain": "America/Denver",
    "US/Arizona": "America/Phoenix",
    "US/Pacific": "America/Los_Angeles",
    "US/Alaska": "America/Anchorage",
    "US/Aleutian": "America/Adak",
    "US/Hawaii": "Pacific/Honolulu",
    "US/Michigan": "America/Detroit",
    "US/East-Indiana": "America/Indiana/Indianapolis",
    "US/Indiana-Starke": "America/Indiana/Knox",
    "America/Indianapolis": "America/Indiana/Indianapolis",
    "America/Fort_Wayne": "America/Indiana/Indianapolis",
    "America/Knox_IN": "America/Indiana/Knox",
    "America/Louisville": "America/Kentucky/Louisville",
    "America/Atka": "America/Adak",
    "America/Shiprock": "America/Denver",
    "Navajo": "America/Denver",
}

_locations = sa.table(
    "locations",
    sa.column("id", sa.Integer()),
    sa.column("account_id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("time_zone", sa.String()),
)


class NonUsLocationZones(RuntimeError):
    """Locations whose zone is outside the 50 states and DC; the operator must fix them."""


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            _locations.c.id, _locations.c.account_id, _locations.c.name, _locations.c.time_zone
        ).order_by(_locations.c.id)
    ).all()
    offending = [
        row
        for row in rows
        if row.time_zone not in US_TIME_ZONES and row.time_zone not in US_ZONE_ALIASES
    ]
    if offending:
        raise NonUsLocationZones(_explain(offending))
    for row in rows:
        canonical = US_ZONE_ALIASES.get(row.time_zone)
        if canonical is not None:
            bind.execute(
                sa.update(_locations).where(_locations.c.id == row.id).values(time_zone=canonical)
            )


def _explain(offending: Sequence[Any]) -> str:
    """The operator's message: each offending row (id, account_id, name, time_zone), the fix."""
    count = len(offending)
    listed = "\n".join(
        f"  location {row.id} {row.name!r} (account {row.account_id}): {row.time_zone!r}"
        for row in offending
    )
    example = "\n".join(
        f"  UPDATE locations SET time_zone = 'America/New_York' WHERE id = {row.id};"
        for row in offending
    )
    return (
        f"revision 0017 stopped, nothing was changed: {count} location"
        f"{'s use' if count != 1 else ' uses'} a time zone outside the 50 states and DC, which "
        "Ringfence no longer accepts:\n"
        f"{listed}\n"
        "Set each one to the IANA zone of the state where the practice is (America/New_York "
        "below is only an example), for instance with SQL:\n"
        f"{example}\n"
        "then run `ringfence db upgrade` again. The US zones: "
        f"{', '.join(sorted(US_TIME_ZONES))}."
    )


def downgrade() -> None:
    # Nothing to undo: aliases name the same zone as the canonical names they became.
    pass
