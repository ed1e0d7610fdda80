"""Engine construction for the two supported databases.

SQLite (aiosqlite) is the embedded default: WAL journal, foreign keys on, a busy timeout so
the API and the in-process worker can share the file. PostgreSQL runs through psycopg 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
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
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory used by background jobs (requests get theirs from the plugin)."""
    return async_sessionmaker(engine, expire_on_commit=False)
