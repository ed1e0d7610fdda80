"""The two ASGI apps the webhook bench serves with uvicorn (``--factory``).

``service_app``: the real service (``app.runtime.build_service_app``) from ``ACCTSYNC_*``.
``anchor_app``: the anchor of issue 17: one connection, commit per request, raw driver.
``bare_app``: one Litestar route that reads the body and does the same single
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` into ``webhook_events`` on the same engine
type, with no verification, parsing or middleware: the floor the receiver is compared to.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Request, Response, post
from sqlalchemy.dialects import postgresql, sqlite

from app.config import load_settings
from app.db.engine import create_engine
from app.db.models import WebhookEvent


def service_app() -> Litestar:
    """The service app as ``acctsync serve`` builds it (logging set up the same way)."""
    from app.cli import _logging
    from app.runtime import build_service_app

    settings = load_settings()
    _logging(settings)  # as ``acctsync serve`` does
    return build_service_app(settings, freeze_after_start=True)


def service_nomw_app() -> Litestar:
    """The service app without its request-id and Prometheus middleware (bench only: shows
    what those two cost on every request)."""
    from litestar.plugins.prometheus import PrometheusConfig

    import app.server as server_module
    from app.cli import _logging
    from app.runtime import build_service_app

    def passthrough(app: Any) -> Any:  # Litestar passes ``app=``
        return app

    server_module.request_id_middleware = passthrough  # type: ignore[assignment]
    PrometheusConfig.middleware = property(lambda _self: passthrough)  # type: ignore[assignment,method-assign]
    settings = load_settings()
    _logging(settings)  # as ``acctsync serve`` does
    return build_service_app(settings, freeze_after_start=True)


def bare_app() -> Litestar:
    """``POST /bare``: read the body, insert one ``webhook_events`` row, answer 200."""
    engine = create_engine(os.environ["ACCTSYNC_DATABASE_URL"])
    table = WebhookEvent.__table__
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite

    @post("/bare", status_code=200)
    async def bare(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
        body = await request.body()
        now = dt.datetime.now(dt.UTC)
        stmt = (
            dialect.insert(table)
            .values(
                id=uuid.uuid4(),
                message_id=request.headers.get("webhook-id") or uuid.uuid4().hex,
                partner_id=None,
                event_type="bills.write.successful",
                company_id=None,
                body=body,
                received_at=now,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(table.c.id)
        )
        async with engine.begin() as conn:
            created = (await conn.execute(stmt)).scalar() is not None
        return Response({"status": "accepted" if created else "duplicate"}, status_code=200)

    @contextlib.asynccontextmanager
    async def dispose(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()

    return Litestar(route_handlers=[bare], lifespan=[dispose], openapi_config=None)


def bare_batched_app() -> Litestar:
    """``POST /bare``: like :func:`bare_app` but through the receiver's group commit
    (``app.webhook_receiver.writer``): the floor for the service's own request overhead."""
    from app.webhook_receiver.writer import writer_for

    engine = create_engine(os.environ["ACCTSYNC_DATABASE_URL"])

    @post("/bare", status_code=200)
    async def bare(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
        body = await request.body()
        now = dt.datetime.now(dt.UTC)
        created = await writer_for(engine).insert(
            {
                "message_id": request.headers.get("webhook-id") or uuid.uuid4().hex,
                "partner_id": None,
                "event_type": "bills.write.successful",
                "company_id": None,
                "body": body,
                "received_at": now,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
        return Response({"status": "accepted" if created else "duplicate"}, status_code=200)

    @contextlib.asynccontextmanager
    async def dispose(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()

    return Litestar(route_handlers=[bare], lifespan=[dispose], openapi_config=None)


def anchor_app() -> Litestar:
    """``POST /bare``: the issue-17 anchor. Read the body and insert one ``webhook_events``
    row on ONE database connection, committing every request (an asyncio lock orders the
    requests on it), straight on the driver: aiosqlite (WAL, ``synchronous=NORMAL`` as the
    service) or one psycopg 3 async connection. No verification, parsing, ORM or middleware."""
    from sqlalchemy.engine import make_url

    url = make_url(os.environ["ACCTSYNC_DATABASE_URL"])
    is_sqlite = url.get_backend_name() == "sqlite"
    p = "?" if is_sqlite else "%s"
    sql = (
        "INSERT INTO webhook_events (id, message_id, partner_id, event_type, company_id, body, "
        "received_at, attempts, created_at, updated_at) "
        f"VALUES ({', '.join([p] * 10)}) ON CONFLICT (message_id) DO NOTHING RETURNING id"
    )
    state: dict[str, Any] = {}
    lock = asyncio.Lock()

    @post("/bare", status_code=200)
    async def bare(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
        body = await request.body()
        now = dt.datetime.now(dt.UTC)
        stamp: Any = now.strftime("%Y-%m-%d %H:%M:%S.%f") if is_sqlite else now
        key = uuid.uuid4()
        params = (
            key.bytes if is_sqlite else key,
            request.headers.get("webhook-id") or uuid.uuid4().hex,
            None,
            "bills.write.successful",
            None,
            body,
            stamp,
            0,
            stamp,
            stamp,
        )
        conn = state["conn"]
        async with lock:
            cursor = await conn.execute(sql, params)
            created = await cursor.fetchone() is not None
            await conn.commit()
        return Response({"status": "accepted" if created else "duplicate"}, status_code=200)

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        if is_sqlite:
            import aiosqlite

            conn = await aiosqlite.connect(url.database)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000"):
                await conn.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            conn = await psycopg.AsyncConnection.connect(dsn)
        state["conn"] = conn
        try:
            yield
        finally:
            await conn.close()

    return Litestar(route_handlers=[bare], lifespan=[lifespan], openapi_config=None)
