"""A fresh, migrated database for a bench run: SQLite in a temporary folder, or a throw-away
PostgreSQL database emptied first."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.config import upgrade_database
from app.db.engine import create_engine, create_sessionmaker


@dataclass(frozen=True)
class BenchDatabase:
    """The database a bench runs on: its ``url`` and a ``sessionmaker`` on its engine."""

    url: str
    sessionmaker: async_sessionmaker[AsyncSession]

    @property
    def name(self) -> str:
        """``PostgreSQL`` or ``SQLite``, as the benches print it."""
        return "PostgreSQL" if self.url.startswith("postgresql") else "SQLite"


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS apscheduler CASCADE"))
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@contextlib.asynccontextmanager
async def fresh_database(url: str | None) -> AsyncIterator[BenchDatabase]:
    """The database at ``url`` migrated to the head, its engine disposed on leaving.

    ``url`` None: a new SQLite file in a temporary folder (``acctsync-bench-*``, left behind).
    A PostgreSQL URL (``postgresql+psycopg://...``): its ``public`` and ``apscheduler``
    schemas are DROPPED first, so use a throw-away database.

    Raises:
        sqlalchemy.exc.OperationalError: the database cannot be reached.
    """
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="acctsync-bench-"))
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    elif url.startswith("postgresql"):
        await _reset_postgres(url)
    await asyncio.to_thread(upgrade_database, url)
    engine = create_engine(url)
    try:
        yield BenchDatabase(url, create_sessionmaker(engine))
    finally:
        await engine.dispose()
