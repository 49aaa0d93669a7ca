"""Revision 0017: every location must use a US zone before the upgrade goes through.

Run on a database of its own (SQLite file, or a throw-away PostgreSQL database when
RINGFENCE_TEST_DATABASE_URL is set), migrated to 0016, filled, then upgraded.
"""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from types import ModuleType

import pytest
from sqlalchemy import Engine, MetaData, insert, select, text, update

from ringfence.adapters.db.migrate import MIGRATIONS_DIR, upgrade
from ringfence.domain.us_zones import US_TIME_ZONES, US_ZONE_ALIASES

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
REVISION = "0017"


def _fill(engine: Engine, zones: dict[int, str]) -> None:
    upgrade(engine, "0016")
    meta = MetaData()
    meta.reflect(engine)
    stamp = {"created_at": T0, "updated_at": T0}
    with engine.begin() as conn:
        conn.execute(
            insert(meta.tables["accounts"]),
            [
                {
                    "id": 1,
                    "name": "Glow",
                    "kyc_status": "approved",
                    "outbound_enabled": True,
                    **stamp,
                }
            ],
        )
        conn.execute(
            insert(meta.tables["locations"]),
            [
                {"id": i, "account_id": 1, "name": f"Site {i}", "time_zone": zone, **stamp}
                for i, zone in zones.items()
            ],
        )


def _zones(engine: Engine) -> dict[int, str]:
    meta = MetaData()
    meta.reflect(engine, only=["locations"])
    locations = meta.tables["locations"]
    with engine.connect() as conn:
        rows = conn.execute(select(locations.c.id, locations.c.time_zone)).all()
    return {row.id: row.time_zone for row in rows}


def _version(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def test_locations_outside_the_states_stop_the_upgrade_and_are_listed(old_engine: Engine) -> None:
    before = {
        1: "America/New_York",
        2: "UTC",
        3: "Asia/Tokyo",
        4: "US/Eastern",
        5: "America/Puerto_Rico",
    }
    _fill(old_engine, before)

    with pytest.raises(RuntimeError) as raised:
        upgrade(old_engine, REVISION)
    message = str(raised.value)
    assert "3 locations use a time zone outside the 50 states and DC" in message
    for line in (
        "location 2 'Site 2' (account 1): 'UTC'",
        "location 3 'Site 3' (account 1): 'Asia/Tokyo'",
        "location 5 'Site 5' (account 1): 'America/Puerto_Rico'",
        "UPDATE locations SET time_zone = 'America/New_York' WHERE id = 2;",
        "ringfence db upgrade",
    ):
        assert line in message
    assert "location 1 " not in message
    assert "location 4 " not in message  # an alias of a US zone is fine
    assert _version(old_engine) == "0016"  # nothing applied
    assert _zones(old_engine) == before  # nothing changed

    # The fix the message gives, then the upgrade goes through and aliases become canonical.
    meta = MetaData()
    meta.reflect(old_engine, only=["locations"])
    locations = meta.tables["locations"]
    with old_engine.begin() as conn:
        for location_id, zone in (
            (2, "America/Chicago"),
            (3, "Pacific/Honolulu"),
            (5, "America/New_York"),
        ):
            conn.execute(
                update(locations).where(locations.c.id == location_id).values(time_zone=zone)
            )
    upgrade(old_engine)
    assert _zones(old_engine) == {
        1: "America/New_York",
        2: "America/Chicago",
        3: "Pacific/Honolulu",
        4: "America/New_York",
        5: "America/New_York",
    }


def test_an_empty_or_all_us_database_upgrades(old_engine: Engine) -> None:
    _fill(old_engine, {1: "America/Indiana/Knox", 2: "America/Adak"})
    upgrade(old_engine)
    assert _zones(old_engine) == {1: "America/Indiana/Knox", 2: "America/Adak"}
    assert _version(old_engine) >= REVISION


def _migration() -> ModuleType:
    (path,) = (MIGRATIONS_DIR / "versions").glob(f"{REVISION}_*.py")
    spec = importlib.util.spec_from_file_location("migration_0017", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_carries_the_domains_zones_as_of_its_writing() -> None:
    """A migration is a snapshot (it must not import code that will change); today it agrees
    with the domain's list."""
    module = _migration()
    assert module.US_TIME_ZONES == US_TIME_ZONES
    assert dict(US_ZONE_ALIASES) == module.US_ZONE_ALIASES
