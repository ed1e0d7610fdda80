"""The two ASGI apps the webhook bench serves with uvicorn (``--factory``).

``service_app``: the real service (``app.runtime.build_service_app``) from ``ACCTSYNC_*``.
``bare_app``: one Litestar route that reads the body and does the same single
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` into ``webhook_events`` on the same engine
type, with no verification, parsing or middleware: the floor the receiver is compared to.
"""

from __future__ import annotations

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
    return build_service_app(settings)


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
    return build_service_app(settings)


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
