"""The dispatcher's fixed statements run on the driver's cursor (adapters/db/prepared.py): a
simulated day writes exactly the rows it writes when every statement goes through SQLAlchemy
(a cursor-execute listener sends `Prepared` statements through `Connection.execute`).

A statement that binds a value differently (a type's conversion skipped, a column left out, a
parameter mis-named) changes a row here, on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import os
import secrets
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, select

from ringfence.adapters.db.crypto import install_cipher
from ringfence.adapters.db.engine import make_engine
from ringfence.adapters.db.orm import Base
from ringfence.adapters.phi_cipher import PhiCipher, generate_key
from ringfence.simulation.databases import scratch_database
from ringfence.simulation.population import PopulationSpec
from ringfence.simulation.runner import SimulationSpec, run_simulation

# The tables a simulated day writes through the statements `Prepared` runs.
WRITTEN = (
    "call_jobs",
    "call_events",
    "minutes_ledger",
    "sandbox_calls",
    "call_transcripts",
    "call_actions",
    "contact_tags",
    "contacts",
)


def _day(url: str, key: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple[Any, ...]]]:
    # The idempotency keys are the only random values the day writes in clear: a counter, for
    # the day only (the next scratch database's name must stay random: runs share a server).
    counter = itertools.count()
    with monkeypatch.context() as patch:
        patch.setattr(secrets, "token_hex", lambda n=16: f"{next(counter):0{2 * n}x}")
        spec = SimulationSpec(
            population=PopulationSpec(locations=2, contacts_per_location=25, seed=5),
            database_url=url,
            phi_key=key,
        )
        result = run_simulation(spec)
    assert result.dials > 0
    assert result.outcomes.get("connected", 0) > 0
    engine = make_engine(url)
    install_cipher(engine, PhiCipher.from_keys([key]))
    try:
        with engine.connect() as connection:
            return {name: _rows(connection, name) for name in WRITTEN}
    finally:
        engine.dispose()


def _rows(connection: Connection, name: str) -> list[tuple[Any, ...]]:
    """The table's rows as the driver returns them (what was stored, before any conversion of
    SQLAlchemy's), but the encrypted turns as plain text: each encryption is salted."""
    table = Base.metadata.tables[name]
    order = ", ".join(c.name for c in table.primary_key.columns)
    stored = [c.name for c in table.columns if c.name != "turns"]
    raw = connection.exec_driver_sql(f"SELECT {', '.join(stored)} FROM {name} ORDER BY {order}")
    rows = [tuple(row) for row in raw]
    if "turns" not in table.columns:
        return rows
    turns = connection.execute(select(table.c.turns).order_by(*table.primary_key.columns))
    return [(*row, plain) for row, (plain,) in zip(rows, turns, strict=True)]


def test_a_day_on_the_cursor_writes_what_sqlalchemy_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = os.environ.get("RINGFENCE_TEST_DATABASE_URL")
    key = generate_key()
    with scratch_database(server) as url:
        on_cursor = _day(url, key, monkeypatch)

    def watch(*_args: Any) -> None:
        pass

    event.listen(Engine, "before_cursor_execute", watch)
    try:
        with scratch_database(server) as url:
            through_sqlalchemy = _day(url, key, monkeypatch)
    finally:
        event.remove(Engine, "before_cursor_execute", watch)
    assert {name: len(rows) for name, rows in on_cursor.items()} == {
        name: len(rows) for name, rows in through_sqlalchemy.items()
    }
    assert all(on_cursor[name] for name in ("call_events", "call_transcripts", "call_actions"))
    for name in WRITTEN:
        assert on_cursor[name] == through_sqlalchemy[name], name
