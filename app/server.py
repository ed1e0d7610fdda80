"""The one place that wires the application: routes, plugins, state, middleware, and (by
importing ``app.tasks``) the background tasks."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncEngine

import app.tasks  # noqa: F401  (adds the background tasks to the job runner's registry)
from app import logs
from app.accounting.routes import AccountingDocumentsController
from app.auth.routes import AuthController
from app.auth.security import build_jwt_auth
from app.config import Settings
from app.connections.routes import ConnectionController
from app.connections.smarty import connect_page, connect_submit
from app.console.routes import TEMPLATES as CONSOLE_TEMPLATES
from app.console.routes import console_router
from app.counterparts.routes import CounterpartController
from app.crypto import SecretBox, derive_key
from app.db.config import sqlalchemy_config
from app.db.engine import create_engine, create_sessionmaker
from app.deps import provide_entity, provide_principal
from app.entities.routes import EntityController
from app.errors import error_response, exception_handler
from app.events.routes import (
    EventController,
    WebhookDeliveryController,
    WebhookSubscriptionController,
)
from app.events.stream import event_stream
from app.guard import input_guard_middleware
from app.health.routes import live, ready
from app.ledger.routes import LedgerAccountController, TaxRateController
from app.measure_units.routes import MeasureUnitController
from app.openapi import (
    DescribedJsonRenderPlugin,
    DescribedRedocRenderPlugin,
    DescribedSwaggerRenderPlugin,
)
from app.pagination import Paginator
from app.partners.routes import PartnerSettingsController
from app.payables.routes import PayableController
from app.products.routes import ProductController
from app.providers import (
    ProviderAuthError,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from app.receivables.routes import ReceivableController
from app.sync.push import run_push
from app.sync.routes import SyncRulesController
from app.synced_records.routes import RunPush, SyncedRecordController
from app.webhook_receiver.routes import receive_codat, receive_codat_for_partner

log = logging.getLogger("acctsync")


def _new_request_id() -> str:
    """32 hex digits, random but not secret (a request id names a request in logs). Drawn from
    ``random`` (reseeded in every forked worker), not ``uuid4``: ``os.urandom`` is a system
    call that releases the GIL, and on a loaded server winning it back cost 80 us a request
    (``bench.api``, issue 17)."""
    return f"{random.getrandbits(128):032x}"


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Give every HTTP response an ``x-request-id`` (the caller's, up to 128 characters, or a
    new one) and echo ``x-monite-version``; the id is bound to the request's log lines."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = ""
        version = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:128]
            elif name == b"x-monite-version":
                version = value
        request_id = request_id or _new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        added = [(b"x-request-id", request_id.encode("latin-1"))]
        if version:
            added.append((b"x-monite-version", version))
        unbind = logs.bind(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in added}
                message["headers"] = [
                    *(h for h in message.get("headers", ()) if h[0].lower() not in names),
                    *added,
                ]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            unbind()

    return middleware


def _provide_run_push() -> RunPush:
    """The push engine's entry point, for the synced records' retry route."""
    return run_push


async def _refresh_job_metrics(request: Any) -> None:
    """The job queue gauges are read from the job store when ``/metrics`` is scraped."""
    jobs = request.app.state.get("jobs")
    if jobs is not None:
        await jobs.refresh_metrics()


class MetricsController(PrometheusController):
    path = "/metrics"
    openapi_config = None  # type: ignore[assignment]
    before_request = _refresh_job_metrics


#: Swagger UI's files, served by the service from the swagger-ui-bundle package, so that
#: /schema/swagger works on a machine without internet (no CDN).
SWAGGER_ASSETS = "/schema-assets/swagger-ui"
#: ReDoc's standalone bundle, vendored under app/static/redoc (no PyPI package ships it alone;
#: see the README there), for /schema/redoc without internet.
REDOC_ASSETS = "/schema-assets/redoc"
REDOC_DIR = Path(__file__).parent / "static" / "redoc"


def provider_error_handler(request: Any, exc: ProviderError) -> Any:
    """A provider failure in a request (connect, disconnect, a sync): 503 with ``Retry-After``
    when the provider is down or rate-limits us (come back later), 502 when it refused us (our
    key, or the request): never a 500, and nothing written (the route's transaction rolls
    back)."""
    log = logging.getLogger("acctsync.provider")
    if isinstance(exc, ProviderUnavailable):
        retry = max(1, round(exc.retry_after or 30))
        log.warning("provider unavailable: %s", exc)
        return error_response(
            503,
            f"The accounting provider is unavailable; try again in {retry} s ({exc})",
            {"Retry-After": str(retry)},
        )
    if isinstance(exc, ProviderAuthError):
        message = (
            "The accounting provider refused our API key: set the partner's key with "
            "PATCH /v1/settings (accounting.token)"
        )
    elif isinstance(exc, ProviderRejected):
        message = f"The accounting provider refused the request: {exc.error or exc}"
    else:
        message = f"The accounting provider answered in a way we do not understand: {exc}"
    log.warning("provider refused: %s", exc)
    return error_response(502, message)


def create_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    extra_routes: list[Any] | None = None,
    lifespans: list[Callable[[Litestar], Any]] | None = None,
) -> Litestar:
    """Build the service's ASGI app.

    ``extra_routes`` lets the CLI mount the embedded sandbox; ``lifespans`` lets it start the
    job runner. State available to handlers: ``settings``, ``sessionmaker``, ``paginator``,
    ``jwt_auth``, ``secret_box``.
    """
    engine = engine or create_engine(settings.database_url)
    jwt_auth = build_jwt_auth(derive_key(settings.secret_key, "jwt").hex())
    state = State(
        {
            "settings": settings,
            "engine": engine,
            "sessionmaker": create_sessionmaker(engine),
            "paginator": Paginator(derive_key(settings.secret_key, "pagination")),
            "jwt_auth": jwt_auth,
            "secret_box": SecretBox(settings.secret_key),
        }
    )
    api = Router(
        path="/",
        route_handlers=[
            AuthController,
            PartnerSettingsController,
            EntityController,
            CounterpartController,
            ProductController,
            MeasureUnitController,
            PayableController,
            ReceivableController,
            ConnectionController,
            LedgerAccountController,
            TaxRateController,
            AccountingDocumentsController,
            SyncRulesController,
            SyncedRecordController,
            EventController,
            WebhookSubscriptionController,
            WebhookDeliveryController,
        ],
        dependencies={
            "principal": Provide(provide_principal, sync_to_thread=False),
            "entity": Provide(provide_entity),
            "run_push": Provide(_provide_run_push, sync_to_thread=False),
        },
    )

    @asynccontextmanager
    async def dispose_engine(app: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()

    prometheus = PrometheusConfig(app_name="acctsync", group_path=True)
    return Litestar(
        route_handlers=[
            api,
            receive_codat,
            receive_codat_for_partner,
            connect_page,
            connect_submit,
            event_stream,
            live,
            ready,
            MetricsController,
            console_router(settings),
            create_static_files_router(
                path=SWAGGER_ASSETS,
                directories=[swagger_ui_bundle.swagger_ui_path],
                include_in_schema=False,
            ),
            create_static_files_router(
                path=REDOC_ASSETS, directories=[REDOC_DIR], include_in_schema=False
            ),
            *(extra_routes or []),
        ],
        plugins=[SQLAlchemyPlugin(config=sqlalchemy_config(settings.database_url, engine))],
        exception_handlers={Exception: exception_handler, ProviderError: provider_error_handler},
        middleware=[request_id_middleware, prometheus.middleware, input_guard_middleware],
        on_app_init=[jwt_auth.on_app_init],
        lifespan=[*(lifespans or []), dispose_engine],
        # The support console's pages (Jinja2, autoescaped).
        template_config=TemplateConfig(directory=CONSOLE_TEMPLATES, engine=JinjaTemplateEngine),
        state=state,
        openapi_config=OpenAPIConfig(
            title="acctsync",
            version="0.1.0",
            path="/schema",
            render_plugins=[
                DescribedSwaggerRenderPlugin(
                    js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
                    css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
                    standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
                    favicon=(
                        f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}"
                        "/favicon-32x32.png'>"
                    ),
                ),
                DescribedRedocRenderPlugin(
                    js_url=f"{REDOC_ASSETS}/redoc.standalone.js",
                    google_fonts=False,
                    favicon=(
                        f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}"
                        "/favicon-32x32.png'>"
                    ),
                ),
                DescribedJsonRenderPlugin(),
            ],
        ),
        debug=False,
        # Logging is configured once, by the CLI (app.logs): Litestar's own configuration
        # would replace the root handler with a second format.
        logging_config=None,
    )
