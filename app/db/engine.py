"""Engine construction for the two supported databases.

SQLite (aiosqlite) is the embedded default: WAL journal, foreign keys on, a busy timeout so
the API and the in-process worker can share the file. PostgreSQL runs through psycopg 3.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.db import sqlite_cursor


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


#: Connections a process keeps open (SQLAlchemy's ``pool_size``) and may open beyond them
#: (``max_overflow``). The pool closes an overflow connection when it is returned, so a
#: process whose steady concurrency exceeds ``pool_size`` opens and closes a connection per
#: request (for aiosqlite: a thread and four PRAGMAs; for PostgreSQL: a login): measured
#: with 16 concurrent requests, SQLAlchemy's default of 5 doubled the CPU per request of
#: ``GET /v1/entities/{id}`` (``bench.api``, issue 17). Idle connections cost a blocked
#: thread (SQLite) or a server slot (PostgreSQL: size ``max_connections`` for nodes x
#: :data:`POOL_SIZE` + overflow).
POOL_SIZE = 20
MAX_OVERFLOW = 20

#: A pooled PostgreSQL connection that sat idle in the pool this long (seconds) is pinged
#: (``SELECT 1``) before it is handed out; one used more recently is not. SQLAlchemy's
#: ``pool_pre_ping`` pings on every checkout: a round trip and two autocommit switches; without
#: it ``GET /v1/entities/{id}`` under load went from 0.31 to 0.40 of its anchor's throughput
#: (server CPU 1,281 -> 1,174 us per request; ``bench.api``, issue 17). A server
#: restart or a terminated backend is still caught before use once the connection has
#: been idle for this long; a connection that was in use when it died fails its statement,
#: SQLAlchemy then discards every connection of the pool opened before (the next requests
#: reconnect), a one-row read retries once (``app.db.reads.first_row``) and any other
#: request is answered 503 with ``Retry-After`` (``app.errors``).
PING_AFTER_IDLE_S = 1.0


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for ``database_url`` (pool: :data:`POOL_SIZE` kept,
    :data:`MAX_OVERFLOW` more; ``kwargs`` override, as for ``create_async_engine``).

    For a file-backed SQLite URL the parent folder is created (``./var`` by default).
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        sqlite_cursor.install()  # one aiosqlite thread hop per statement, not four
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs.setdefault("pool_size", POOL_SIZE)
            kwargs.setdefault("max_overflow", MAX_OVERFLOW)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", MAX_OVERFLOW)
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_idle_connections(engine, PING_AFTER_IDLE_S)
    return engine


def ping_idle_connections(engine: AsyncEngine, idle_s: float) -> None:
    """Ping a pooled connection before handing it out when it sat in ``engine``'s pool for
    at least ``idle_s`` seconds (see :data:`PING_AFTER_IDLE_S`). A ping that finds the
    connection gone discards it and every pooled connection opened before it, as
    ``pool_pre_ping`` does, and the pool hands out a new one; any other ping error is raised
    to the caller (``sqlalchemy.exc.DBAPIError``)."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect
    clock = time.monotonic

    def checked_in(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info["idle_since"] = clock()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or clock() - since < idle_s:
            return  # just opened, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise InvalidatePoolError(f"pooled connection gone: {exc}") from exc
            raise

    event.listen(sync_engine.pool, "checkin", checked_in)
    event.listen(sync_engine.pool, "checkout", checked_out)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory used by background jobs (requests get theirs from the plugin)."""
    return async_sessionmaker(engine, expire_on_commit=False)
