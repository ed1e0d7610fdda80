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


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for ``database_url``.

    For a file-backed SQLite URL the parent folder is created (``./var`` by default).
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        sqlite_cursor.install()  # one aiosqlite thread hop per statement, not four
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory used by background jobs (requests get theirs from the plugin)."""
    return async_sessionmaker(engine, expire_on_commit=False)
