"""Revision 0022 adds `call_jobs.direction`: every call already recorded, and every insert that
does not name a direction, is outbound; downgrading removes the column (and inbound records,
which the older schema would count as outbound dials). Run on a database of its own (SQLite
file, or a throw-away PostgreSQL database when RINGFENCE_TEST_DATABASE_URL is set)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    insert,
    select,
)

from ringfence.adapters.db.migrate import downgrade, upgrade

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def _tables(engine: Engine) -> dict[str, Table]:
    meta = MetaData()
    meta.reflect(engine)
    return dict(meta.tables)


def _row(table: Table, **given: Any) -> dict[str, Any]:
    """`given`, plus a plain value for every other NOT NULL column without a default."""
    row = dict(given)
    for column in table.c:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        if column.primary_key:
            continue
        kind = column.type
        if isinstance(kind, Boolean):
            row[column.name] = False
        elif isinstance(kind, DateTime):
            row[column.name] = T0
        elif isinstance(kind, Date):
            row[column.name] = date(2026, 12, 1)
        elif isinstance(kind, Integer):
            row[column.name] = 0
        elif isinstance(kind, JSON):
            row[column.name] = {}
        else:
            row[column.name] = "x"
    return row


def _practice(conn: Connection, t: dict[str, Table]) -> None:
    """Account 1, its location 1 and contact 1: what a call job row needs to point at."""
    conn.execute(insert(t["accounts"]), [_row(t["accounts"], id=1, name="Acme")])
    conn.execute(insert(t["locations"]), [_row(t["locations"], id=1, account_id=1)])
    conn.execute(
        insert(t["contacts"]),
        [_row(t["contacts"], id=1, account_id=1, location_id=1, phone_e164="+12125550123")],
    )


def _job(t: dict[str, Table], job_id: int, **given: Any) -> dict[str, Any]:
    """A call job of contact 1 (`_practice`), completed unless `given` says otherwise."""
    fields: dict[str, Any] = {
        "account_id": 1,
        "location_id": 1,
        "contact_id": 1,
        "purpose": "appointment_confirmation",
        "call_type": "live",
        "status": "completed",
    }
    return _row(t["call_jobs"], id=job_id, **(fields | given))


def test_existing_calls_become_outbound_and_the_column_goes_on_downgrade(
    old_engine: Engine,
) -> None:
    upgrade(old_engine, "0021")
    t = _tables(old_engine)
    with old_engine.begin() as conn:
        _practice(conn, t)
        conn.execute(
            insert(t["call_jobs"]),
            [_job(t, 1)],
        )

    upgrade(old_engine, "0022")
    t = _tables(old_engine)
    assert not t["call_jobs"].c.direction.nullable
    with old_engine.begin() as conn:
        # An insert that names no direction (every writer before issue 19) is outbound too:
        # `_row` leaves out columns with a server default.
        conn.execute(
            insert(t["call_jobs"]),
            [_job(t, 2, status="queued")],
        )
        conn.execute(
            insert(t["call_jobs"]),
            [_job(t, 3, direction="inbound")],
        )
        directions = dict(
            conn.execute(select(t["call_jobs"].c.id, t["call_jobs"].c.direction)).all()
        )
    assert directions == {1: "outbound", 2: "outbound", 3: "inbound"}

    downgrade(old_engine, "0021")
    back = _tables(old_engine)
    assert "direction" not in back["call_jobs"].c
    with old_engine.connect() as conn:
        ids = sorted(conn.execute(select(back["call_jobs"].c.id)).scalars())
    assert ids == [1, 2]  # the inbound record went with the column
