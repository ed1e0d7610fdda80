"""Process assembly: the service app with its job runner, provider clients and, on the
embedded default, the Codat-compatible sandbox mounted at ``/sandbox``.

``acctsync serve`` -> :func:`build_service_app`; ``acctsync worker`` -> :func:`run_worker`;
``acctsync sandbox`` -> :func:`build_standalone_sandbox`. The sandbox is reached over real
HTTP at ``{ACCTSYNC_PUBLIC_URL}/sandbox`` exactly as real Codat would be.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar, asgi
from litestar.types import Receive, Scope, Send

from app.config import Settings
from app.connections.service import mark_deauthorized
from app.crypto import SecretBox
from app.db.engine import create_engine, create_sessionmaker
from app.jobs import Jobs
from app.providers.factory import ProviderFactory
from app.server import create_app
from app.sync import ingest_memory
from app.webhook_receiver.secrets import embedded_webhook_secret

log = logging.getLogger("acctsync")
#: How long shutdown waits for stray tasks (database connections closing) before cancelling.
STRAY_TASK_WAIT = 5.0


def _is_connection_close(task: asyncio.Task[Any]) -> bool:
    """A task SQLAlchemy leaves behind when a job is cancelled mid-query: the shielded
    graceful close of an aiosqlite connection (``_terminate_graceful_close``)."""
    name = getattr(task.get_coro(), "__qualname__", "")
    return "_terminate_graceful_close" in name


async def settle_tasks(
    wanted: Any = _is_connection_close, wait_s: float = STRAY_TASK_WAIT
) -> list[str]:
    """Wait up to ``wait_s`` seconds for the running loop's tasks that ``wanted(task)``
    selects (not the caller's), then cancel those still running and wait for them once more
    (as long again, at most). Returns the names of tasks still not done (normally none).

    Left alone, a connection's close that never completes keeps ``asyncio.run`` waiting in
    its final task cancellation for ever.
    """
    current = asyncio.current_task()
    strays = {t for t in asyncio.all_tasks() if t is not current and not t.done() and wanted(t)}
    if not strays:
        return []
    _, pending = await asyncio.wait(strays, timeout=wait_s)
    for task in pending:
        task.cancel()
    if pending:
        _, pending = await asyncio.wait(pending, timeout=wait_s)
    left = [getattr(t.get_coro(), "__qualname__", repr(t)) for t in pending]
    if left:
        log.warning("shutdown: %d task(s) still running: %s", len(left), ", ".join(left))
    return left


def embedded_sandbox_state_path(settings: Settings) -> str:
    """Where the embedded sandbox keeps its state: ``sandbox-state.json`` beside the SQLite
    database file (``./var/`` by default), else in ``./var/``."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    folder = Path("var")
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        folder = Path(url.database).parent
    return str(folder / "sandbox-state.json")


def embedded_sandbox_config(settings: Settings, **overrides: Any) -> Any:
    """The sandbox's config on the embedded default: same key, webhooks to this service,
    state kept on disk beside the database (a restarted service finds its companies)."""
    from sandbox.config import SandboxConfig

    values: dict[str, Any] = {
        "state_path": embedded_sandbox_state_path(settings),
        "public_url": f"{settings.public_url}/sandbox",
        "api_keys": (settings.sandbox_api_key,),
        "webhook_url": f"{settings.public_url}/v1/webhooks/codat",
        "webhook_secret": embedded_webhook_secret(settings),
        "webhook_retry_delays": (1.0, 5.0, 30.0, 120.0, 600.0),
    }
    values.update(overrides)
    return SandboxConfig(**values)


def mount_sandbox(sandbox_app: Litestar) -> Any:
    """An ASGI mount of the sandbox app at ``/sandbox``."""

    @asgi("/sandbox", is_mount=True, copy_scope=True)
    async def sandbox_mount(scope: Scope, receive: Receive, send: Send) -> None:
        await sandbox_app(scope, receive, send)

    return sandbox_mount


def create_embedded_smarty(settings: Settings) -> Litestar:
    """The Smarty Accounting emulator with its example organisations (``smarty_sandbox``),
    its state kept in ``smarty-state.json`` beside the Codat sandbox's (a restarted service
    finds its organisations, documents and tokens)."""
    from smarty_sandbox import SmartyConfig, create_smarty_app

    folder = Path(embedded_sandbox_state_path(settings)).parent
    return create_smarty_app(
        SmartyConfig(
            state_path=str(folder / "smarty-state.json"),
            client_id=settings.smarty_client_id,
            client_secret=settings.smarty_client_secret,
        )
    )


def mount_smarty(smarty_app: Litestar) -> Any:
    """An ASGI mount of the Smarty emulator at ``/smarty`` (public: it checks its own
    tokens)."""

    @asgi("/smarty", is_mount=True, copy_scope=True, exclude_from_auth=True)
    async def smarty_mount(scope: Scope, receive: Receive, send: Send) -> None:
        await smarty_app(scope, receive, send)

    return smarty_mount


def build_service_app(
    settings: Settings,
    *,
    provider_transport: httpx.AsyncBaseTransport | None = None,
    sandbox_app: Litestar | None = None,
    run_jobs: bool | None = None,
    sweep_interval: float = 15.0,
    provider_options: dict[str, Any] | None = None,
    freeze_after_start: bool = False,
) -> Litestar:
    """The service's ASGI app with jobs (unless ``ACCTSYNC_ROLE=api`` on PostgreSQL) and, on
    the embedded default, the sandbox mounted at ``/sandbox``. ``freeze_after_start``: the
    serving process's long-lived objects are frozen once started
    (``ingest_memory.freeze_long_lived``; ``acctsync serve`` sets it: a process that builds
    and drops many apps, as a test run does, would keep the first one's garbage)."""
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    box = SecretBox(settings.secret_key)
    providers = ProviderFactory(
        settings,
        box,
        sessionmaker,
        on_smarty_refused=mark_deauthorized,
        transport=provider_transport,
        client_options=provider_options,
    )
    extra_routes: list[Any] = []
    if sandbox_app is None and settings.embedded_sandbox and provider_transport is None:
        from sandbox.app import create_sandbox_app

        sandbox_app = create_sandbox_app(embedded_sandbox_config(settings))
    if sandbox_app is not None and settings.embedded_sandbox:
        extra_routes.append(mount_sandbox(sandbox_app))
    if settings.embedded_smarty and provider_transport is None:
        extra_routes.append(mount_smarty(create_embedded_smarty(settings)))
    if run_jobs is None:
        run_jobs = settings.role != "api"
    jobs = Jobs(
        settings,
        engine,
        sessionmaker,
        providers.for_partner,
        run_worker=run_jobs,
        sweep_interval=sweep_interval,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if sandbox_app is not None and settings.embedded_sandbox:
            await sandbox_app.state.sandbox_runtime.start()
        await jobs.start()
        if freeze_after_start:
            ingest_memory.freeze_long_lived()
        try:
            yield
        finally:
            # Jobs first (they use the provider client and the engine), then what they used;
            # the engine last, after the connections of cancelled jobs have closed.
            try:
                # the runner the app holds now: whoever replaced the first one (a test's
                # simulated restart) stopped it
                await app.state.jobs.stop()
                await settle_tasks()
            finally:
                if sandbox_app is not None and settings.embedded_sandbox:
                    await sandbox_app.state.sandbox_runtime.stop()
                await providers.aclose()
                await engine.dispose()

    app = create_app(settings, engine=engine, extra_routes=extra_routes, lifespans=[lifespan])
    app.state.providers = providers
    app.state.jobs = jobs
    return app


#: Seconds between a worker's heartbeats (``acctsync worker --heartbeat-file``).
HEARTBEAT_INTERVAL = 10.0


async def _heartbeat(path: Path, jobs: Jobs, stop: asyncio.Event) -> None:
    """Touch ``path`` every :data:`HEARTBEAT_INTERVAL` seconds while the job runner runs (a
    container healthcheck reads its age)."""
    while not stop.is_set():
        if jobs.running:
            await asyncio.to_thread(path.touch)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), HEARTBEAT_INTERVAL)


async def run_worker(settings: Settings, heartbeat_file: str | None = None) -> None:
    """``acctsync worker``: the scheduler and job worker until SIGINT/SIGTERM; with
    ``heartbeat_file``, that file is touched every few seconds while the jobs run."""
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    providers = ProviderFactory(
        settings, SecretBox(settings.secret_key), sessionmaker, on_smarty_refused=mark_deauthorized
    )
    jobs = Jobs(settings, engine, sessionmaker, providers.for_partner, run_worker=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await jobs.start()
    ingest_memory.freeze_long_lived()
    log.info("worker started")
    beat = (
        asyncio.create_task(_heartbeat(Path(heartbeat_file), jobs, stop))
        if heartbeat_file
        else None
    )
    try:
        await stop.wait()
    finally:
        if beat is not None:
            await beat
        try:
            await jobs.stop()
            await settle_tasks()
        finally:
            await providers.aclose()
            await engine.dispose()


def build_standalone_sandbox(settings: Settings, args: argparse.Namespace) -> Litestar:
    """``acctsync sandbox``: the sandbox alone, configured by its flags."""
    from sandbox.app import create_sandbox_app
    from sandbox.cli import config_from_args

    return create_sandbox_app(config_from_args(args))
