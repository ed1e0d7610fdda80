"""The two ASGI apps ``bench.api`` serves with uvicorn (``--factory``).

``service_app``: the real service (``app.runtime.build_service_app``, ``ACCTSYNC_*`` from the
environment; the bench sets ``ACCTSYNC_ROLE=api``, so no job runner).
``anchor_app``: the floor. A minimal Litestar app with two routes and no auth, middleware or
ORM: ``GET /one/{id}`` reads one ``entities`` row by primary key and ``GET /list/{entity_id}``
reads 100 ``synced_records`` rows of an entity (``ORDER BY created_at, id``), straight from
the database driver the service uses (aiosqlite on one connection for SQLite; psycopg 3 with
a small pool of async connections for PostgreSQL), and returns them as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, get
from sqlalchemy.engine import make_url

ONE_SQL = (
    "SELECT id, partner_id, type, status, currency, legal_name, first_name, last_name, email, "
    "phone, website, tax_id, address, created_at, updated_at FROM entities WHERE id = {p}"
)
LIST_SQL = (
    "SELECT id, object_type, sync_status, provider, platform, object_id, provider_object_id, "
    "platform_object_id, provider_updated_at, platform_updated_at, object_updated_at, "
    "last_pulled_at, errors, attempts, next_attempt_at, created_at, updated_at "
    "FROM synced_records WHERE entity_id = {p} AND object_type = 'bill' "
    "ORDER BY created_at, id LIMIT 100"
)


def service_app() -> Litestar:
    """The service app as ``acctsync serve`` builds it."""
    from app.config import load_settings
    from app.runtime import build_service_app

    return build_service_app(load_settings(), freeze_after_start=True)


def _cell(value: Any) -> Any:
    if isinstance(value, bytes):
        return str(uuid.UUID(bytes=value)) if len(value) == 16 else value.decode()
    return value


def anchor_app() -> Litestar:
    """``GET /one/{id}`` and ``GET /list/{entity_id}`` on the raw driver (see the module)."""
    url = make_url(os.environ["ACCTSYNC_DATABASE_URL"])
    sqlite = url.get_backend_name() == "sqlite"
    state: dict[str, Any] = {}

    async def rows(sql: str, key: uuid.UUID) -> list[tuple[Any, ...]]:
        if sqlite:
            cursor = await state["db"].execute(sql.format(p="?"), (key.bytes,))
            return list(await cursor.fetchall())
        conn = await state["pool"].get()
        try:
            cursor = await conn.execute(sql.format(p="%s"), (key,))
            return list(await cursor.fetchall())
        finally:
            state["pool"].put_nowait(conn)

    def columns(sql: str) -> list[str]:
        return [c.strip() for c in sql.split("SELECT ", 1)[1].split(" FROM", 1)[0].split(",")]

    one_cols, list_cols = columns(ONE_SQL), columns(LIST_SQL)

    @get("/one/{key:uuid}")
    async def one(key: uuid.UUID) -> dict[str, Any]:
        found = await rows(ONE_SQL, key)
        return dict(zip(one_cols, map(_cell, found[0]), strict=True)) if found else {}

    @get("/list/{key:uuid}")
    async def many(key: uuid.UUID) -> dict[str, Any]:
        found = await rows(LIST_SQL, key)
        return {"data": [dict(zip(list_cols, map(_cell, r), strict=True)) for r in found]}

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        if sqlite:
            import aiosqlite

            state["db"] = await aiosqlite.connect(url.database)
            await state["db"].execute("PRAGMA journal_mode=WAL")
        else:
            import psycopg

            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            pool: asyncio.Queue[Any] = asyncio.Queue()
            for _ in range(int(os.environ.get("BENCH_PG_POOL", "10"))):
                pool.put_nowait(await psycopg.AsyncConnection.connect(dsn, autocommit=True))
            state["pool"] = pool
        try:
            yield
        finally:
            if sqlite:
                await state["db"].close()
            else:
                while not state["pool"].empty():
                    await state["pool"].get_nowait().close()

    return Litestar(route_handlers=[one, many], lifespan=[lifespan], openapi_config=None)
