"""Core statements run straight on the driver's cursor, for the API's busiest path.

SQLAlchemy's execution of a Core statement costs, per execution, several times what SQLite
spends on a small statement: the cache key is generated and looked up, an execution context,
the parameters, a result and its metadata are set up, and events dispatched. On
`POST /api/v1/events` that was the largest share of an event's CPU after the commit
(docs/operations.md, "Event ingestion", third pass). A `Prepared` statement is compiled by
SQLAlchemy once per dialect (the same SQL it would send) and then run on the connection's DBAPI
cursor, in the connection's transaction, with the column types' own bind and result processors
(so values convert exactly as through `Connection.execute`). Driver errors come out as
SQLAlchemy's (`IntegrityError` stays `IntegrityError`), without parameters in the message.
While anything watches statements, they go through `Connection.execute`, so it sees them: SQL
logging (`sql_echo`, or the `sqlalchemy.engine` logger at INFO) and cursor-execute listeners
(tracing, a test counting statements).

For fixed statements only: "expanding" IN lists and Python-side column defaults are refused
when the statement is compiled (SQLAlchemy computes both per execution).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Bind:
    """One parameter the SQL takes: a caller's value by name, or a value fixed in the statement."""

    name: str | None  # None: `value` is fixed (already converted)
    processor: _Processor
    value: Any = None


@dataclass(slots=True)
class _Compiled:
    sql: str
    positional: bool
    binds: tuple[_Bind, ...]  # in the SQL's order (positional) or one per name
    keys: tuple[str, ...]  # the SQL's names for `binds` (named parameter styles)
    results: tuple[_Processor, ...] | None = None  # set at the first execution that has rows


class Prepared:
    """A fixed Core statement (bound parameters only), compiled once per dialect.

    `column_keys` names the columns an INSERT or UPDATE sets (what SQLAlchemy would take from
    the first parameter set).
    """

    __slots__ = ("_by_dialect", "_column_keys", "_result_types", "statement")

    def __init__(self, statement: Executable, *, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self._column_keys = list(column_keys) if column_keys is not None else None
        # What it answers: a SELECT's columns, or an INSERT's RETURNING (none without).
        columns = getattr(statement, "selected_columns", None)
        if columns is None:
            columns = getattr(statement, "exported_columns", None) or ()
        self._result_types: tuple[TypeEngine[Any], ...] = tuple(c.type for c in columns)
        # Per engine's dialect (SQLite's version decides RETURNING, PostgreSQL's its casts).
        self._by_dialect: weakref.WeakKeyDictionary[Dialect, _Compiled] = (
            weakref.WeakKeyDictionary()
        )

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run the statement and return every row it answers (none for DML without RETURNING)."""
        if _observed(connection):
            return [tuple(row) for row in connection.execute(self.statement, dict(params))]
        compiled = self._compiled(connection.dialect)
        try:
            values = _values(compiled, params)
        except Exception as error:  # a type refused a value, or a parameter is missing
            raise _unbindable(connection, compiled.sql, params, error) from error
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, values)
            if cursor.description is None:
                return []
            rows: list[tuple[Any, ...]] = list(cursor.fetchall())
            if compiled.results is None:
                compiled.results = self._result_processors(connection.dialect, cursor.description)
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, cursor, compiled.sql, values, error) from error
        finally:
            cursor.close()
        results = compiled.results
        if not any(results):
            return rows
        return [
            tuple([value if p is None else p(value) for p, value in zip(results, row, strict=True)])
            for row in rows
        ]

    def run_many(self, connection: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement that answers no rows once per parameter set (`executemany`)."""
        if not params:
            return
        if _observed(connection):
            connection.execute(self.statement, [dict(p) for p in params])
            return
        compiled = self._compiled(connection.dialect)
        try:
            values = [_values(compiled, p) for p in params]
        except Exception as error:  # a type refused a value, or a parameter is missing
            raise _unbindable(connection, compiled.sql, params, error, many=True) from error
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(compiled.sql, values)
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, cursor, compiled.sql, values, error, many=True) from error
        finally:
            cursor.close()

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect)
        if found is None:
            found = self._by_dialect[dialect] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        assert isinstance(self.statement, ClauseElement)
        compiled = self.statement.compile(dialect=dialect, column_keys=self._column_keys)
        assert isinstance(compiled, SQLCompiler)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("Prepared takes fixed statements: no expanding or literal-execute IN")
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("Prepared cannot compute Python-side column defaults: pass them")
        positional = compiled.positiontup is not None
        names = list(compiled.positiontup or compiled.binds)
        binds = tuple(_bind(compiled, name, dialect) for name in names)
        escaped = compiled.escaped_bind_names
        return _Compiled(
            sql=compiled.string,
            positional=positional,
            binds=binds,
            keys=tuple(escaped.get(name, name) for name in names),
        )

    def _result_processors(
        self, dialect: Dialect, description: Sequence[Sequence[Any]]
    ) -> tuple[_Processor, ...]:
        return tuple(
            type_.dialect_impl(dialect).result_processor(dialect, column[1])
            for type_, column in zip(self._result_types, description, strict=True)
        )


def _bind(compiled: SQLCompiler, name: str, dialect: Dialect) -> _Bind:
    parameter = compiled.binds[name]
    processor = parameter.type.dialect_impl(dialect).bind_processor(dialect)
    if parameter.required or parameter.callable is not None:
        return _Bind(name, processor)
    value = parameter.effective_value
    return _Bind(None, None, value if processor is None else processor(value))


def _values(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
    values = [
        b.value if b.name is None else params[b.name] if b.processor is None else
        b.processor(params[b.name])
        for b in compiled.binds
    ]  # fmt: skip
    if compiled.positional:
        return values
    return dict(zip(compiled.keys, values, strict=True))


def _observed(connection: Connection) -> bool:
    # SQLAlchemy's own test for logging a statement (echo, or its logger's level), and the
    # events `Connection.execute` fires around the cursor's. A connection outside a
    # transaction goes through `Connection.execute` too, which begins one (autobegin, with
    # SQLite's BEGIN IMMEDIATE listener): the bare cursor would write outside any transaction
    # (SQLite: committed at once; PostgreSQL: lost at the next rollback).
    events = connection.dispatch
    return bool(
        not connection.in_transaction()
        or connection.engine.logger.isEnabledFor(logging.INFO)
        or events.before_cursor_execute
        or events.after_cursor_execute
    )


def _unbindable(
    connection: Connection, sql: str, params: Any, error: Exception, *, many: bool = False
) -> StatementError:
    """What `Connection.execute` raises when a column type's conversion fails (a naive datetime,
    an unknown enum value, no PHI cipher): a `StatementError` naming the original, so callers
    that catch `SQLAlchemyError` (a carrier adapter turning it into `TelephonyError`) still do."""
    return DBAPIError.instance(
        sql,
        params,
        error,
        connection.dialect.loaded_dbapi.Error,
        hide_parameters=connection.engine.hide_parameters,
        dialect=connection.dialect,
        ismulti=many,
    )


def _wrapped(
    connection: Connection,
    cursor: Any,
    sql: str,
    values: Any,
    error: Any,  # the driver's Error (typed per driver)
    *,
    many: bool = False,
) -> StatementError:
    """The exception SQLAlchemy raises for a driver error (`Connection.execute`'s handling):
    the same class and message, parameters hidden as the engine says (ours: always), and a lost
    connection invalidated so that the pool does not hand it out again."""
    dialect = connection.dialect
    lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
    wrapped: StatementError = DBAPIError.instance(
        sql,
        values,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=connection.engine.hide_parameters,
        connection_invalidated=lost,
        dialect=dialect,
        ismulti=many,
    )
    if lost:
        connection.invalidate(wrapped)
    return wrapped
