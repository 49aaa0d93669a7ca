"""`Prepared` statements (run on the driver's cursor) answer and fail exactly as the same
statements through `Connection.execute`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    event,
    exists,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError, StatementError

from ringfence.adapters.db.prepared import Prepared
from ringfence.adapters.db.types import UTCDateTime


class Color(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


METADATA = MetaData()
THINGS = Table(
    "prepared_things",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), unique=True, nullable=False),
    Column("flag", Boolean, nullable=False),
    Column("at", UTCDateTime, nullable=True),
    Column("doc", JSON(none_as_null=True), nullable=True),
    Column(
        "color",
        Enum(Color, native_enum=False, values_callable=lambda m: [c.value for c in m]),
        nullable=False,
    ),
    Column("note", Text, nullable=True),
    Column("count", Integer, nullable=False, default=0),  # a Python-side default
)
COLUMNS = ("name", "flag", "at", "doc", "color", "note", "count")
INSERT = insert(THINGS).returning(THINGS.c.id)
# Bound parameters only: a name used twice, a literal bound once, an equality list.
SELECT = (
    select(
        THINGS.c.id,
        THINGS.c.name,
        THINGS.c.flag,
        THINGS.c.at,
        THINGS.c.doc,
        THINGS.c.color,
        exists().where(THINGS.c.note == bindparam("name")).label("named_in_a_note"),
    )
    .where(
        or_(
            THINGS.c.name == bindparam("name"),
            THINGS.c.color == literal(Color.BLUE, THINGS.c.color.type),
        ),
        THINGS.c.at >= bindparam("since"),
    )
    .order_by(THINGS.c.id)
)
AT = datetime(2026, 3, 1, 14, 30, 15, 250_000, tzinfo=timezone(timedelta(hours=-5)))


def _thing(name: str, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "name": name,
        "flag": True,
        "at": AT,
        "doc": {"steps": [0, 1], "text": "é"},
        "color": Color.RED,
        "note": name,
        "count": 3,
    }
    return row | changes


@pytest.fixture
def engine(old_engine: Engine) -> Engine:
    METADATA.create_all(old_engine)
    return old_engine


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


def test_rows_are_those_connection_execute_answers(connection: Connection) -> None:
    inserted = Prepared(INSERT, column_keys=COLUMNS)
    first = inserted.rows(connection, _thing("first"))
    second = inserted.rows(connection, _thing("second", flag=False, doc=None, color=Color.BLUE))
    core_id = connection.execute(INSERT, _thing("third", at=None)).scalar_one()
    assert [first, second] == [[(core_id - 2,)], [(core_id - 1,)]]

    params = {"name": "first", "since": AT - timedelta(days=1)}
    prepared = Prepared(SELECT).rows(connection, params)
    through_core = [tuple(row) for row in connection.execute(SELECT, params)]
    assert prepared == through_core
    assert [row[1] for row in prepared] == ["first", "second"]
    _id, _name, flag, at, doc, color, named = prepared[0]
    # The column types' own conversions: an aware UTC instant, a bool, a parsed document.
    assert (flag, at, doc, color, named) == (
        True,
        AT,
        {"steps": [0, 1], "text": "é"},
        Color.RED,
        True,
    )
    assert at.tzinfo == UTC
    assert prepared[1][2:5] == (False, AT, None)


def test_run_many_inserts_every_row(connection: Connection) -> None:
    Prepared(insert(THINGS), column_keys=COLUMNS).run_many(
        connection, [_thing("a"), _thing("b"), _thing("c", color=Color.BLUE)]
    )
    names = connection.execute(select(THINGS.c.name, THINGS.c.color).order_by(THINGS.c.id)).all()
    assert [tuple(row) for row in names] == [("a", Color.RED), ("b", Color.RED), ("c", Color.BLUE)]


def test_a_driver_error_is_the_one_sqlalchemy_raises(connection: Connection) -> None:
    inserted = Prepared(INSERT, column_keys=COLUMNS)
    inserted.rows(connection, _thing("Quillon Vantasser"))
    errors: list[IntegrityError] = []
    for attempt in (
        lambda: inserted.rows(connection, _thing("Quillon Vantasser")),
        lambda: connection.execute(INSERT, _thing("Quillon Vantasser")),
    ):
        savepoint = connection.begin_nested()  # PostgreSQL: the failure aborts up to here
        with pytest.raises(IntegrityError) as raised:
            attempt()
        savepoint.rollback()
        errors.append(raised.value)
    prepared, through_core = errors
    assert str(prepared) == str(through_core)
    assert "parameters hidden" in str(prepared)  # never the values (patient data) in a log


def test_a_value_its_type_refuses_is_the_error_sqlalchemy_raises(connection: Connection) -> None:
    # A naive datetime (UTCDateTime refuses it): through SQLAlchemy a StatementError, which a
    # caller catching SQLAlchemyError (the sandbox carrier's dial_many) turns into its own.
    naive = _thing("naive", at=datetime(2026, 3, 1, 14, 30))
    errors: list[StatementError] = []
    for attempt in (
        lambda: Prepared(INSERT, column_keys=COLUMNS).rows(connection, naive),
        lambda: Prepared(insert(THINGS), column_keys=COLUMNS).run_many(connection, [naive]),
        lambda: connection.execute(INSERT, naive),
    ):
        with pytest.raises(StatementError, match="naive datetime") as raised:
            attempt()
        assert isinstance(raised.value.orig, ValueError)
        errors.append(raised.value)
    assert str(errors[0]) == str(errors[2])


def test_statements_it_cannot_run_are_refused(connection: Connection) -> None:
    expanding = select(THINGS.c.id).where(THINGS.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="expanding"):
        Prepared(expanding).rows(connection, {"ids": [1]})
    # `count` left out: SQLAlchemy would fill in its Python-side default per execution.
    without_default = Prepared(INSERT, column_keys=[c for c in COLUMNS if c != "count"])
    with pytest.raises(ValueError, match="default"):
        without_default.rows(connection, _thing("x"))


def test_while_sql_is_logged_it_goes_through_sqlalchemy(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # `sql_echo`, or the operator's logging configuration: SQLAlchemy logs at INFO.
    with (
        caplog.at_level(logging.INFO, logger="sqlalchemy.engine"),
        engine.connect() as connection,
        connection.begin(),
    ):
        Prepared(INSERT, column_keys=COLUMNS).rows(connection, _thing("logged"))
        rows = Prepared(SELECT).rows(connection, {"name": "logged", "since": AT})
    assert [row[1] for row in rows] == ["logged"]
    assert any("INSERT INTO prepared_things" in r.getMessage() for r in caplog.records)
    assert any("FROM prepared_things" in r.getMessage() for r in caplog.records)


def test_cursor_execute_listeners_see_its_statements(engine: Engine) -> None:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        with engine.connect() as connection, connection.begin():
            Prepared(insert(THINGS), column_keys=COLUMNS).run_many(connection, [_thing("seen")])
            Prepared(SELECT).rows(connection, {"name": "seen", "since": AT})
    finally:
        event.remove(engine, "before_cursor_execute", note)
    ours = [statement.split()[0] for statement in seen if "prepared_things" in statement]
    assert ours == ["INSERT", "SELECT"]


def test_outside_a_transaction_it_begins_one_as_connection_execute_does(engine: Engine) -> None:
    """Review finding: on a connection with no transaction begun, the bare cursor wrote
    outside any (SQLite: committed at once, kept after a rollback; PostgreSQL: lost)."""
    with engine.connect() as connection:
        assert not connection.in_transaction()
        Prepared(insert(THINGS), column_keys=COLUMNS).run_many(connection, [_thing("autobegun")])
        assert connection.in_transaction()
        connection.rollback()
        left = connection.execute(select(THINGS.c.id).where(THINGS.c.name == "autobegun")).all()
        connection.rollback()
    assert left == []
