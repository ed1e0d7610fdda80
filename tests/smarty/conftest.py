"""The service with the Smarty Accounting emulator, in one event loop (as tests/e2e does for
Codat): the service's real Smarty provider talks to the emulator through
``httpx.ASGITransport``, with the job runner running."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar

from app.config import Settings
from app.runtime import build_service_app
from smarty_sandbox import EXAMPLE_USERS, SmartyConfig, create_smarty_app
from tests._held import held
from tests.conftest import DATABASE_URL, TEST_SECRET, PartnerCtx, make_partner

SMARTY_URL = "http://smarty.test"
SERVICE_URL = "http://service.test"
DEMO_USER, DEMO_PASSWORD = EXAMPLE_USERS[0]
OWNER_USER, OWNER_PASSWORD = EXAMPLE_USERS[1]


@dataclass
class SmartyWorld:
    client: httpx.AsyncClient
    service: Litestar
    smarty: Litestar
    smarty_http: httpx.AsyncClient
    partner: PartnerCtx

    @property
    def emulator(self) -> Any:
        return self.smarty.state.smarty

    async def wait_for(
        self, check: Callable[[], Awaitable[Any]], limit: float = 60.0, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + limit
        while True:
            result = await check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    async def connect(
        self,
        entity_id: str,
        *,
        username: str = OWNER_USER,
        password: str = OWNER_PASSWORD,
        organisation_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a Smarty connection, give the user's credentials at its URL, wait for the
        first pull."""
        h = self.partner.entity_headers(entity_id)
        created = await self.client.post(
            "/v1/accounting_connections", headers=h, json={"platform": "smarty_accounting"}
        )
        assert created.status_code == 201, created.text
        conn = created.json()
        assert conn["status"] == "pending_auth"
        body = {"username": username, "password": password}
        if organisation_id:
            body["organisation_id"] = organisation_id
        done = await self.client.post(conn["connection_url"], json=body)
        assert done.status_code == 200, done.text

        async def pulled() -> dict[str, Any] | None:
            r = await self.client.get(f"/v1/accounting_connections/{conn['id']}", headers=h)
            out = r.json()
            return out if out["status"] == "connected" and out["last_pull"] else None

        return await self.wait_for(pulled, what="first pull")


def smarty_settings(database_url: str = DATABASE_URL) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        env="test",
        public_url=SERVICE_URL,
        codat_base_url="http://codat.invalid",
        smarty_api_url=f"{SMARTY_URL}/api/v1",
        smarty_oauth_url=f"{SMARTY_URL}/oauth",
        pull_interval_seconds=3600,
    )


SMARTY_OPTIONS = {"backoff_base": 0.01, "backoff_cap": 0.05, "max_wait": 2.0}


@contextlib.asynccontextmanager
async def smarty_world_cm(
    sessionmaker: Any,
    *,
    config: SmartyConfig | None = None,
    smarty_app: Litestar | None = None,
    database_url: str = DATABASE_URL,
    sweep_interval: float = 0.5,
) -> AsyncIterator[SmartyWorld]:
    smarty = smarty_app or create_smarty_app(config or SmartyConfig())
    service = build_service_app(
        smarty_settings(database_url),
        provider_transport=httpx.ASGITransport(app=smarty),
        sweep_interval=sweep_interval,
        provider_options={"smarty": SMARTY_OPTIONS},
    )
    async with (
        service.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=smarty), base_url=SMARTY_URL
        ) as smarty_http,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=service), base_url=SERVICE_URL
        ) as client,
    ):
        partner = await make_partner(client, sessionmaker, "Smarty partner")  # type: ignore[arg-type]
        yield SmartyWorld(client, service, smarty, smarty_http, partner)


@pytest.fixture
async def smarty_world(clean_db, sessionmaker) -> AsyncIterator[SmartyWorld]:
    # the lifespans hold anyio cancel scopes: one task enters and leaves them
    async with held(smarty_world_cm(sessionmaker)) as w:
        yield w
