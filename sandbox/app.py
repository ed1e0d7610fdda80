"""The sandbox app: ``create_sandbox_app(config) -> Litestar``.

One :class:`SandboxState`, one :class:`WebhookDispatcher` and one :class:`SandboxRuntime`
per app, reachable as ``app.state.sandbox``, ``app.state.sandbox_webhooks`` and
``app.state.sandbox_runtime``. The runtime's background task runs scheduled work (push
settlement, queued refreshes) without waiting for a request. It starts in the app's lifespan,
or on the first request when the app is mounted inside another Litestar app (mounted apps get
no lifespan events); a host app may also call ``await runtime.start()`` / ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.admin import admin_router
from sandbox.api import api_router
from sandbox.config import SandboxConfig
from sandbox.errors import CodatError, error_body, error_bytes
from sandbox.link import link_router
from sandbox.platforms import PLATFORMS
from sandbox.state import SandboxState, seed_example
from sandbox.web import api_key_from_header, encode
from sandbox.webhooks import WebhookDispatcher

logger = logging.getLogger("sandbox")
_COMPANY_IN_PATH = re.compile(r"/companies/([^/]+)")
_MAX_IDLE_S = 0.25
#: With ``state_path`` set, a changed state is saved at most this often (and on stop).
_SAVE_EVERY_S = 1.0


class SandboxRuntime:
    """Background work of one sandbox app: the scheduler loop and webhook deliveries."""

    def __init__(self, state: SandboxState, webhooks: WebhookDispatcher) -> None:
        self.state = state
        self.webhooks = webhooks
        self._task: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._saved_at = 0.0
        state.on_schedule = self._poke

    def _poke(self) -> None:
        """Wake the loop for newly scheduled work (thread-safe: a test client may call the
        app from another event loop than the one running the background task)."""
        if self._wake is None or self._event_loop is None or self._event_loop.is_closed():
            return
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is self._event_loop:
            self._wake.set()
        else:
            self._event_loop.call_soon_threadsafe(self._wake.set)

    def ensure_started(self) -> None:
        """Start the loop on the running event loop if it is not running."""
        if self._task is not None and not self._task.done():
            return
        self._wake = asyncio.Event()
        self._event_loop = asyncio.get_running_loop()
        self._task = self._event_loop.create_task(self._loop())
        self.webhooks.flush_backlog()

    async def start(self) -> None:
        """Start the background loop (idempotent)."""
        self.ensure_started()

    async def save(self, *, force: bool = False) -> None:
        """Write the state to ``config.state_path`` if it changed (``force``: even if not)
        and the last save is ``_SAVE_EVERY_S`` old (``force``: whatever its age)."""
        path = self.state.config.state_path
        if path is None or not (self.state.dirty or force):
            return
        if not force and time.monotonic() - self._saved_at < _SAVE_EVERY_S:
            return
        from sandbox.persist import encode_state, write_file

        self.state.dirty = False
        self._saved_at = time.monotonic()
        try:
            await asyncio.to_thread(write_file, path, encode_state(self.state))
        except (OSError, TypeError, NotImplementedError):
            self.state.dirty = True
            logger.exception("sandbox: could not save the state to %s", path)

    async def _loop(self) -> None:
        assert self._wake is not None
        while True:
            self.state.run_due()
            await self.save()
            due = self.state.next_due()
            self._wake.clear()
            # Never sleep long: a wake-up from a foreign loop may be late or missed.
            timeout = (
                _MAX_IDLE_S if due is None else min(_MAX_IDLE_S, max(0.0, due - time.monotonic()))
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def stop(self) -> None:
        """Stop the loop, run what is already due, close webhook deliveries."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self._event_loop = None
        self.state.run_due()
        await self.save(force=True)
        await self.webhooks.aclose()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Litestar) -> AsyncIterator[None]:
        """Litestar lifespan: start on startup, stop on shutdown."""
        await self.start()
        try:
            yield
        finally:
            await self.stop()


async def _send_error(send: Send, status: int, body: bytes, headers: list) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class CodatGatewayMiddleware(ASGIMiddleware):
    """Codat API gateway: Basic-auth API key (401), per-key rate limit with
    ``X-Rate-Limit-Limit/Remaining/Reset`` on every response (429 past the limit), then the
    injected faults for the path's company (else global): latency, 429 with ``Retry-After``,
    500/503."""

    def __init__(self, *, api: bool = True) -> None:
        self.api = api

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        app = scope["app"]
        runtime: SandboxRuntime = app.state.sandbox_runtime
        runtime.ensure_started()
        if scope.get("method", "GET") not in ("GET", "HEAD"):
            try:
                await self._handle(scope, receive, send, next_app)
            finally:
                app.state.sandbox.dirty = True  # to be saved (``state_path``)
            return
        await self._handle(scope, receive, send, next_app)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        app = scope["app"]
        if not self.api:
            await next_app(scope, receive, send)
            return
        state: SandboxState = app.state.sandbox
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        api_key = api_key_from_header(state, authorization)
        if api_key is None:
            await _send_error(
                send,
                401,
                error_bytes(401, "Unauthorized. Invalid or missing API key.", "False"),
                [],
            )
            return
        scope.setdefault("state", {})["sandbox_api_key"] = api_key
        limit, remaining, reset, allowed = state.rate_limiter.take(api_key)
        limit_headers = [
            (b"x-rate-limit-limit", str(limit).encode()),
            (b"x-rate-limit-remaining", str(max(0, remaining)).encode()),
            (b"x-rate-limit-reset", reset.strftime("%Y-%m-%dT%H:%M:%SZ").encode()),
        ]
        if not allowed:
            wait = max(1, int((reset.timestamp() - time.time()) + 0.999))
            await _send_error(
                send,
                429,
                error_bytes(429, "Rate limit exceeded. Too many requests.", "True"),
                [*limit_headers, (b"retry-after", str(wait).encode())],
            )
            return
        match = _COMPANY_IN_PATH.search(scope["path"])
        faults = state.faults_for(match.group(1) if match else None)
        config = faults.config
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        if faults.hit(config.rate_429):
            await _send_error(
                send,
                429,
                error_bytes(429, "Too many requests. Please retry after a while.", "True"),
                [*limit_headers, (b"retry-after", str(config.retry_after).encode())],
            )
            return
        if faults.hit(config.rate_5xx):
            status = 503 if faults.rng.random() < 0.5 else 500
            message = "Service unavailable." if status == 503 else "Internal server error."
            await _send_error(send, status, error_bytes(status, message, "True"), limit_headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *limit_headers]
            await send(message)

        await next_app(scope, receive, send_with_headers)


def _codat_error_handler(_request: Request, exc: CodatError) -> Response:
    return Response(
        content=encode(exc.body()),
        status_code=exc.status_code,
        media_type="application/json",
        headers=exc.headers,
    )


def _http_error_handler(_request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    detail: Any = exc.detail
    extra = getattr(exc, "extra", None)
    if extra:
        detail = f"{detail}: {extra}"
    return Response(
        content=encode(error_body(status, str(detail), None, "False")),
        status_code=status,
        media_type="application/json",
    )


def _internal_error_handler(_request: Request, exc: Exception) -> Response:
    logger.exception("sandbox: unhandled error", exc_info=exc)
    return Response(
        content=encode(error_body(500, "Internal server error.", None, "True")),
        status_code=500,
        media_type="application/json",
    )


def create_sandbox_app(config: SandboxConfig | None = None) -> Litestar:
    """A Codat-compatible provider as its own Litestar app (see ``sandbox/__init__``)."""
    config = config or SandboxConfig()
    state = SandboxState(config)
    webhooks = WebhookDispatcher(state)
    runtime = SandboxRuntime(state, webhooks)
    if config.state_path is not None:
        from sandbox.persist import load

        load(state, config.state_path)
    if config.seed_examples:
        for api_key in config.api_keys:
            for platform in PLATFORMS:
                seed_example(state, api_key, platform)
    api_middleware = [CodatGatewayMiddleware(api=True)]
    plain_middleware = [CodatGatewayMiddleware(api=False)]
    return Litestar(
        route_handlers=[
            api_router(api_middleware),
            admin_router(plain_middleware),
            link_router(plain_middleware),
        ],
        state=State({"sandbox": state, "sandbox_webhooks": webhooks, "sandbox_runtime": runtime}),
        lifespan=[runtime.lifespan],
        exception_handlers={
            CodatError: _codat_error_handler,
            HTTPException: _http_error_handler,
            Exception: _internal_error_handler,
        },
        openapi_config=None,
    )
