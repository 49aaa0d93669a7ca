"""Revision 0021 moves every carrier's call records into one `carrier_calls` table, and back.

The claims in these rows are what keeps a dial at most once across the upgrade: a key Twilio or
the SIP trunk was already asked to place must still be found claimed afterwards, under its own
carrier, with its carrier call id and state. Run on a database of its own (SQLite file, or a
throw-away PostgreSQL database when RINGFENCE_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import Engine, MetaData, insert, select

from ringfence.adapters.db.migrate import alembic_config, upgrade
from ringfence.adapters.db.types import UTCDateTime

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

TWILIO_ROW = {
    "idempotency_key": "key-twilio",
    "call_sid": "CA0123456789abcdef0123456789abcdef",
    "job_id": 7,
    "contact_id": 3,
    "to_e164": "+12125550123",
    "from_e164": "+16465550198",
    "requested_at": T0,
    "status": "completed",
    "refused": False,
    "answered_by": "machine_end_beep",
    "answered_at": T0 + timedelta(seconds=9),
    "ended_at": T0 + timedelta(seconds=40),
    "carrier_reason": None,
    "hung_up_at": None,
    "checked_at": T0 + timedelta(seconds=41),
}
SIP_ROW = {
    "idempotency_key": "key-sip",
    "call_id": "a1b2c3@10.0.0.5",
    "job_id": 8,
    "contact_id": 4,
    "to_uri": "sip:+12125550124@trunk.example",
    "from_e164": "+16465550198",
    "requested_at": T0,
    "status": "busy",
    "sip_status": 486,
    "answered_at": None,
    "ended_at": T0 + timedelta(seconds=3),
    "carrier_reason": "486 Busy Here",
}


def _tables(engine: Engine) -> MetaData:
    meta = MetaData()
    meta.reflect(engine)
    for table in meta.tables.values():  # read datetimes back as the models do (aware UTC)
        for column in table.c:
            if column.name.endswith("_at"):
                column.type = UTCDateTime(timezone=True)
    return meta


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_twilio_and_sip_records_move_into_carrier_calls_and_back(old_engine: Engine) -> None:
    upgrade(old_engine, "0020")
    before = _tables(old_engine).tables
    with old_engine.begin() as conn:
        conn.execute(insert(before["twilio_calls"]), [TWILIO_ROW])
        conn.execute(insert(before["sip_calls"]), [SIP_ROW])

    upgrade(old_engine, "0021")
    after = _tables(old_engine).tables
    assert "twilio_calls" not in after
    assert "sip_calls" not in after
    with old_engine.connect() as conn:
        rows = {
            row["carrier"]: dict(row)
            for row in conn.execute(select(after["carrier_calls"])).mappings()
        }
    assert set(rows) == {"twilio", "sip"}
    twilio, sip = rows["twilio"], rows["sip"]
    assert (twilio["idempotency_key"], twilio["carrier_call_id"]) == (
        "key-twilio",
        TWILIO_ROW["call_sid"],
    )
    assert (twilio["to_address"], twilio["status"], twilio["answered_by"]) == (
        "+12125550123",
        "completed",
        "machine_end_beep",
    )
    assert (twilio["answered_at"], twilio["checked_at"]) == (
        TWILIO_ROW["answered_at"],
        TWILIO_ROW["checked_at"],
    )
    assert (sip["idempotency_key"], sip["carrier_call_id"], sip["to_address"]) == (
        "key-sip",
        "a1b2c3@10.0.0.5",
        "sip:+12125550124@trunk.example",
    )
    assert (sip["status"], sip["details"], sip["carrier_reason"]) == (
        "busy",
        {"sip_status": 486},
        "486 Busy Here",
    )
    assert sip["ended_at"] == SIP_ROW["ended_at"]

    _downgrade(old_engine, "0020")
    back = _tables(old_engine).tables
    assert "carrier_calls" not in back
    with old_engine.connect() as conn:
        twilio_back = dict(conn.execute(select(back["twilio_calls"])).mappings().one())
        sip_back = dict(conn.execute(select(back["sip_calls"])).mappings().one())
    assert {k: twilio_back[k] for k in TWILIO_ROW} == TWILIO_ROW
    assert {k: sip_back[k] for k in SIP_ROW} == SIP_ROW
