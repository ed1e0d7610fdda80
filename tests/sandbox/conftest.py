"""Fixtures for the sandbox tests: an app with a webhook receiver captured in memory."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from sandbox import SandboxConfig, create_sandbox_app

PUBLIC_URL = "http://provider.test/sandbox"
WEBHOOK_URL = "http://receiver.test/v1/webhooks/codat"


def basic(key: str = "sandbox") -> dict[str, str]:
    """Codat's auth header for an API key."""
    return {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}


@dataclass
class Receiver:
    """Captures webhook requests; ``statuses`` (popped per request) fakes failures."""

    requests: list[httpx.Request] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def events(self) -> list[str]:
        return [b.get("eventType") or b.get("RuleType") for b in self.bodies()]


@dataclass
class Sandbox:
    """A running sandbox app, its client and the captured webhooks."""

    app: Litestar
    client: AsyncTestClient
    receiver: Receiver

    @property
    def state(self):
        return self.app.state.sandbox

    async def settle(self) -> None:
        """Let scheduled work and the webhook deliveries it starts finish (up to 10 s each: a
        loaded machine, such as CI running beside other work, can take more than a second).

        ``state.busy()`` stays true while a scheduled action runs (the app may run on the
        test client's own loop and thread), so its deliveries are in the dispatcher before
        ``idle`` looks."""
        for _ in range(1000):
            if not self.state.busy():
                break
            await asyncio.sleep(0.01)
        await self.app.state.sandbox_webhooks.idle(limit_s=10.0)

    async def company_with_connection(self, platform_key: str = "gbol", key: str = "sandbox"):
        """Create a company and a PendingAuth connection; returns (company, connection)."""
        company = (
            await self.client.post("/companies", json={"name": "Acme"}, headers=basic(key))
        ).json()
        connection = (
            await self.client.post(
                f"/companies/{company['id']}/connections",
                json={"platformKey": platform_key},
                headers=basic(key),
            )
        ).json()
        return company, connection

    async def linked_company(self, platform_key: str = "gbol"):
        """A company whose connection the user authorised on the link page."""
        company, connection = await self.company_with_connection(platform_key)
        path = connection["linkUrl"].removeprefix(PUBLIC_URL)
        response = await self.client.post(path.replace("/start", "/authorize"))
        assert response.status_code == 200
        return company, connection


SandboxFactory = Callable[..., Any]


@pytest.fixture
def sandbox_factory() -> SandboxFactory:
    """``async with sandbox_factory(**config_overrides) as sb:`` -> :class:`Sandbox`."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Sandbox]:
        receiver = Receiver()
        config = SandboxConfig(
            public_url=PUBLIC_URL,
            webhook_url=WEBHOOK_URL,
            webhook_transport=httpx.MockTransport(receiver.handle),
            webhook_retry_delays=(0.01, 0.01),
            webhook_reorder_window_s=0.05,
            push_delay_s=0.02,
            sync_delay_s=0.01,
        )
        for name, value in overrides.items():
            setattr(config, name, value)
        app = create_sandbox_app(config)
        async with AsyncTestClient(app, base_url="http://provider.test") as client:
            yield Sandbox(app, client, receiver)

    return make


@pytest.fixture
async def sb(sandbox_factory: SandboxFactory) -> AsyncIterator[Sandbox]:
    """A sandbox with default test settings."""
    async with sandbox_factory() as sandbox:
        yield sandbox
