"""End-to-end harness: the service and the Codat-compatible sandbox, in one event loop.

The service's real provider client talks to the sandbox app and the sandbox's webhooks reach
the service's receiver through ``httpx.ASGITransport`` (no sockets), with the job runner
running, so every flow is the production flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.config import Settings
from app.runtime import build_service_app
from sandbox.app import create_sandbox_app
from sandbox.config import SandboxConfig
from tests._held import held
from tests.conftest import DATABASE_URL, TEST_SECRET, PartnerCtx, make_partner

SANDBOX_URL = "http://sandbox.test"
SERVICE_URL = "http://service.test"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class LateASGITransport(httpx.AsyncBaseTransport):
    """An ASGI transport whose app is set after construction (the two apps call each other)."""

    def __init__(self) -> None:
        self.app: Any = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await httpx.ASGITransport(app=self.app).handle_async_request(request)


@dataclass
class World:
    """The running pair, a partner with the sandbox key set, and helpers."""

    client: AsyncTestClient[Litestar]
    service: Litestar
    sandbox: Litestar
    sandbox_http: httpx.AsyncClient
    partner: PartnerCtx

    async def wait_for(
        self, check: Callable[[], Awaitable[Any]], limit: float = 20.0, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + limit
        while True:
            result = await check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    async def authorize(self, connection_url: str) -> None:
        """Click through the sandbox's link page like a user: (pick platform,) Authorize."""
        page = await self.sandbox_http.get(connection_url)
        assert page.status_code == 200, page.text
        action = re.search(r"action='([^']*/authorize)'", page.text)
        assert action, page.text
        done = await self.sandbox_http.post(action.group(1))
        assert done.status_code in (200, 303), done.text

    async def connect(self, entity_id: str, platform: str = "xero") -> dict[str, Any]:
        """Connect, authorise, and wait for the first pull to complete."""
        h = self.partner.entity_headers(entity_id)
        created = await self.client.post(
            "/v1/accounting_connections", headers=h, json={"platform": platform}
        )
        assert created.status_code == 201, created.text
        conn = created.json()
        assert conn["status"] == "pending_auth"
        await self.authorize(conn["connection_url"])

        async def pulled() -> dict[str, Any] | None:
            r = await self.client.get(f"/v1/accounting_connections/{conn['id']}", headers=h)
            body = r.json()
            return body if body["status"] == "connected" and body["last_pull"] else None

        return await self.wait_for(pulled, what="first pull")


def rate_of(rates: list[dict[str, Any]], value: int, n: int = 0) -> dict[str, Any]:
    """The ``n``-th usable pulled tax rate (``GET /v1/accounting_tax_rates`` items) whose
    value is ``value`` (percent x 100): a line's ``tax`` must agree with the rate it is coded
    to (``tax_rate_mismatch``)."""
    return [r for r in rates if r["effective_tax_rate"] == value and r["is_usable"] is not False][n]


async def approved_payable(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    counterpart_id: str,
    account_id: str,
    rate_id: str,
    *,
    line: dict[str, Any] | None = None,
    approve: bool = True,
    **fields: Any,
) -> str:
    """A GBP payable for ``counterpart_id`` with one line coded to ``account_id`` at
    ``rate_id`` (2 x 10.00 at 20% unless ``line`` says otherwise), submitted and approved
    (which queues its push; only submitted with ``approve=False``); returns its id.
    ``fields`` go into the payable."""
    body = {"currency": "GBP", "counterpart_id": counterpart_id, "issued_at": "2026-11-01"}
    r = await client.post("/v1/payables", headers=headers, json=body | fields)
    assert r.status_code == 201, r.text
    payable = r.json()["id"]
    item = {"name": "Paper", "quantity": 2, "unit_price": 1000, "tax": 2000} | (line or {})
    r = await client.post(
        f"/v1/payables/{payable}/line_items",
        headers=headers,
        json=item | {"ledger_account_id": account_id, "accounting_tax_rate_id": rate_id},
    )
    assert r.status_code == 201, r.text
    actions = ("submit_for_approval", "approve_payment_operation")
    for action in actions if approve else actions[:1]:
        r = await client.post(f"/v1/payables/{payable}/{action}", headers=headers)
        assert r.status_code == 200, r.text
    return payable


async def new_vendor(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, **address: str
) -> str:
    """A vendor counterpart (an organisation) named ``name`` at ``address``; returns its id."""
    r = await client.post(
        "/v1/counterparts",
        headers=headers,
        json={
            "type": "organization",
            "organization": {
                "legal_name": name,
                "is_vendor": True,
                "is_customer": False,
                "address": address,
            },
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def sandbox_config(**overrides: Any) -> SandboxConfig:
    values: dict[str, Any] = {
        "public_url": SANDBOX_URL,
        "api_keys": ("sandbox",),
        "webhook_url": f"{SERVICE_URL}/v1/webhooks/codat",
        "webhook_secret": WEBHOOK_SECRET,
        "webhook_retry_delays": (0.05, 0.1, 0.2, 0.5, 1.0),
        "push_delay_s": 0.05,
        "sync_delay_s": 0.01,
    }
    values.update(overrides)
    return SandboxConfig(**values)


@pytest.fixture
def sandbox_overrides() -> dict[str, Any]:
    return {}


@contextlib.asynccontextmanager
async def _world(
    sessionmaker: Any,
    sandbox_overrides: dict[str, Any],
    *,
    database_url: str = DATABASE_URL,
    sweep_interval: float = 0.5,
    partner_name: str = "E2E partner",
) -> AsyncIterator[World]:
    """Both apps' lifespans and clients in this event loop (test clients would run each app
    in a thread and loop of its own, and webhooks would then run the service on the
    sandbox's loop, sharing its connection pool across loops: that can stall).

    ``sandbox_overrides`` go to the sandbox's config; ``sweep_interval`` is the job runner's;
    the partner (``partner_name``) has the sandbox's key set."""
    to_service = LateASGITransport()
    sandbox_app = create_sandbox_app(
        sandbox_config(webhook_transport=to_service, **sandbox_overrides)
    )
    settings = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        env="test",
        public_url=SERVICE_URL,
        codat_base_url=SANDBOX_URL,
        codat_webhook_secret=(WEBHOOK_SECRET,),
        pull_interval_seconds=3600,
    )
    service = build_service_app(
        settings,
        provider_transport=httpx.ASGITransport(app=sandbox_app),
        sweep_interval=sweep_interval,
        provider_options={"backoff_base": 0.01, "backoff_cap": 0.05, "max_wait": 2.0},
    )
    to_service.app = service
    async with (
        sandbox_app.lifespan(),
        service.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sandbox_app), base_url=SANDBOX_URL
        ) as sandbox_http,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=service), base_url=SERVICE_URL
        ) as client,
    ):
        partner = await make_partner(client, sessionmaker, partner_name)  # type: ignore[arg-type]
        r = await client.patch(
            "/v1/settings",
            headers=partner.headers,
            json={"accounting": {"provider": "codat", "token": "sandbox"}},
        )
        assert r.status_code == 200, r.text
        yield World(client, service, sandbox_app, sandbox_http, partner)  # type: ignore[arg-type]


@pytest.fixture
async def world(clean_db, sessionmaker, sandbox_overrides) -> AsyncIterator[World]:
    # The lifespans hold anyio cancel scopes, which must be left by the task that entered
    # them: one task of its own enters and leaves the world.
    async with held(_world(sessionmaker, sandbox_overrides)) as w:
        yield w
