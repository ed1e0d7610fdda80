"""Hot read paths (issue 17): column types that convert the models' values with fewer Python
calls, and a one-row read in one hop.

:func:`first_row` runs a Core statement on a pooled connection inside one greenlet:
``async with engine.connect()`` costs a greenlet switch each for the checkout, the statement
and the check-in, and a task for the shielded close (a third of an entity read's database
work, ``bench.api``).

A model's ``GUID`` and ``DateTimeUTC`` columns are ``TypeDecorator`` s: every value read
passes through SQLAlchemy's decorator wrapper, the dialect's own processor and then the
decorator's ``process_result_value`` (which checks the dialect and the class name each
time). Reading a 100-row page of synced records spent 0.6 ms of its 1.2 ms of database work
there (``bench.api``). :func:`read_columns` gives the same columns retyped to
:class:`ReadGUID` / :class:`ReadDateTimeUTC`, whose result processors are one closure per
column: ``uuid.UUID`` from SQLite's 16 bytes (PostgreSQL's driver already returns
``uuid.UUID``), and a UTC-aware ``datetime`` from SQLite's text (PostgreSQL's ``timestamptz``
is already aware). Values are equal to what the model types return; only reads use them
(binds are the base types').
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Column, Executable, Row, Table, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.processors import str_to_datetime
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.util import greenlet_spawn

_UTC = dt.UTC


_new = object.__new__
_set = object.__setattr__
_from_bytes = int.from_bytes
_UNKNOWN = uuid.SafeUUID.unknown


def uuid_from_bytes(value: bytes) -> uuid.UUID:
    """``uuid.UUID(bytes=value)`` for a 16-byte ``value``, without the constructor's argument
    checks (half the time: 0.33 us against 0.69 us). It sets the two slots the constructor
    sets (``int``, ``is_safe``); ``tests/unit/test_db_reads.py`` checks the result against
    the constructor's.

    Raises:
        ValueError: ``value`` is not 16 bytes long.
    """
    if len(value) != 16:
        raise ValueError("bytes is not a 16-char string")
    made = _new(uuid.UUID)
    _set(made, "int", _from_bytes(value, "big"))
    _set(made, "is_safe", _UNKNOWN)
    return made


def utc_from_sqlite(value: str) -> dt.datetime:
    """A UTC-aware ``datetime`` from SQLite's stored text (``YYYY-MM-DD HH:MM:SS[.ffffff]``,
    UTC, as SQLAlchemy writes it; a value that carries its own offset keeps it). Parsing with
    the offset appended costs a sixth of parsing and then ``replace(tzinfo=...)``.

    Raises:
        ValueError: not an ISO 8601 date-time.
    """
    try:
        return _fromisoformat(value + "+00:00")
    except ValueError:
        parsed = str_to_datetime(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=_UTC)


_fromisoformat = dt.datetime.fromisoformat


class ReadGUID(GUID):
    """``GUID`` read as ``uuid.UUID`` by one closure (SQLite: :func:`uuid_from_bytes`)."""

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite" or not self.binary:
            return super().result_processor(dialect, coltype)

        def process(value: Any) -> uuid.UUID | None:
            return None if value is None else uuid_from_bytes(value)

        return process


class ReadDateTimeUTC(DateTimeUTC):
    """``DateTimeUTC`` read as an aware UTC ``datetime`` by one closure (SQLite:
    :func:`utc_from_sqlite`)."""

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: Any) -> dt.datetime | None:
            return None if value is None else utc_from_sqlite(value)

        return process


def read_column(column: Column[Any]) -> ColumnElement[Any]:
    """``column`` retyped for reading (labelled with its own name) when it is a ``GUID`` or
    ``DateTimeUTC``; any other column as it is."""
    if isinstance(column.type, GUID):
        return type_coerce(column, ReadGUID(binary=column.type.binary)).label(column.key)
    if isinstance(column.type, DateTimeUTC):
        return type_coerce(column, ReadDateTimeUTC(timezone=True)).label(column.key)
    return column


def read_columns(table: Table, names: Iterable[str]) -> list[ColumnElement[Any]]:
    """The named columns of ``table``, in order, through :func:`read_column`."""
    return [read_column(table.c[name]) for name in names]


async def first_row(
    engine: AsyncEngine, stmt: Executable, params: dict[str, Any]
) -> Row[Any] | None:
    """The first row of ``stmt`` with ``params``, or None, read on a connection of
    ``engine``'s pool in one greenlet (see the module docstring), outside any transaction on
    PostgreSQL (autocommit: ``stmt`` must be a read). The connection goes back to the pool
    before this returns, on success or error. A connection found dead by the read (the
    server restarted or ended the backend while it sat in the pool) is discarded with every
    connection opened before it, and the read runs once more on a new one.

    Raises:
        sqlalchemy.exc.DBAPIError: as ``AsyncConnection.execute`` would (a second dead
            connection: ``connection_invalidated`` is set).
    """
    try:
        return await greenlet_spawn(_first_row, engine.sync_engine, stmt, params)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    return await greenlet_spawn(_first_row, engine.sync_engine, stmt, params)


def _first_row(sync_engine: Any, stmt: Executable, params: dict[str, Any]) -> Row[Any] | None:
    with sync_engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # One statement needs no transaction: without one, no BEGIN before it and no
            # ROLLBACK when the connection goes back to the pool (two round trips of four).
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection.execute(stmt, params).first()
