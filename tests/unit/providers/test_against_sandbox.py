"""CodatClient against the sandbox provider, twice: in process (httpx.ASGITransport, no
sockets) and over real HTTP (the sandbox served by uvicorn on a local port).

The sandbox speaks only Codat's HTTP API, so this checks that the client and the sandbox
agree on the wire: auth, paging, the modifiedDate cursor, pushes, errors, injected faults.
"""

from __future__ import annotations

import asyncio
import base64
import random
import socket
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
import uvicorn

from app.providers import (
    ProviderAuthError,
    ProviderNotFound,
    ProviderRejected,
    ProviderUnavailable,
    PushOperationStatus,
)
from app.providers.codat import CodatClient, Customer
from sandbox import SandboxConfig, create_sandbox_app

BASE = "http://sandbox.test"
KEY = "provider-test-key"


class Sandbox:
    def __init__(self, base: str = BASE, over_http: bool = False) -> None:
        self.base = base
        self.app = create_sandbox_app(
            SandboxConfig(public_url=base, api_keys=(KEY,), push_delay_s=0, sync_delay_s=0)
        )
        self.transport = None if over_http else httpx.ASGITransport(app=self.app)
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def client(self, api_key: str = KEY, **kwargs: object) -> CodatClient:
        return CodatClient(
            self.base,
            api_key,
            transport=self.transport,
            sleep=self.sleep,
            rng=random.Random(3),
            **kwargs,
        )

    async def admin(self, method: str, path: str, body: object = None) -> httpx.Response:
        """The sandbox's own admin API (not Codat's): seeding, faults, authorising."""
        auth = "Basic " + base64.b64encode(KEY.encode()).decode()
        async with httpx.AsyncClient(transport=self.transport, base_url=self.base) as http:
            response = await http.request(method, path, json=body, headers={"Authorization": auth})
        response.raise_for_status()
        return response


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["asgi", "http"])
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    if request.param == "asgi":
        box = Sandbox()
        yield box
        await box.app.state.sandbox_runtime.stop()
        return
    port = _free_port()
    box = Sandbox(f"http://127.0.0.1:{port}", over_http=True)
    server = uvicorn.Server(
        uvicorn.Config(box.app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the sandbox did not start"
        await asyncio.sleep(0.02)
    yield box
    server.should_exit = True
    await task


async def test_connect_flow_company_connection_authorise_unlink(sandbox: Sandbox) -> None:
    client = sandbox.client()

    company = await client.create_company("Acme Ltd", idempotency_key="entity-1")
    again = await client.create_company("Acme Ltd", idempotency_key="entity-1")
    connection = await client.create_connection(company.id, "mqjo")

    assert again.id == company.id  # the idempotency key made the repeat a no-op
    assert connection.status == "PendingAuth"
    assert connection.link_url
    await sandbox.admin(
        "POST", f"/_admin/companies/{company.id}/connections/{connection.id}/authorize"
    )
    assert (await client.get_connection(company.id, connection.id)).status == "Linked"
    assert [c.id for c in await client.list_connections(company.id)] == [connection.id]
    unlinked = await client.unlink_connection(company.id, connection.id)
    assert unlinked.status == "Unlinked"
    assert (await client.get_company(company.id)).data_connections[0].status == "Unlinked"


async def test_paging_reads_every_record_once_and_the_cursor_filters(sandbox: Sandbox) -> None:
    generated = (
        await sandbox.admin(
            "POST",
            "/_admin/companies/generate",
            {"customers": 23, "suppliers": 3, "items": 2, "invoices": 5, "bills": 5, "seed": 4},
        )
    ).json()
    client = sandbox.client()

    pages = [
        page
        async for page in client.iter_pages(
            generated["id"], "customers", page_size=5, order_by="modifiedDate"
        )
    ]

    customers = [c for page in pages for c in page.records]
    assert len(pages) == 5
    assert len(customers) == len({c.id for c in customers}) == 23
    assert all(isinstance(c, Customer) and c.modified_date.tzinfo for c in customers)
    assert all(page.invalid == [] for page in pages)

    # An edit "in the platform" bumps modifiedDate; a cursor read returns just that record.
    cursor: datetime = max(c.modified_date for c in customers)
    edited = {"id": customers[0].id, "customerName": "Renamed Ltd"}
    await sandbox.admin("PUT", f"/_admin/companies/{generated['id']}/data/customers", edited)
    changed = [
        c
        async for page in client.iter_pages(generated["id"], "customers", modified_since=cursor)
        for c in page.records
        if c.modified_date > cursor
    ]
    assert [c.customer_name for c in changed] == ["Renamed Ltd"]


async def test_example_data_of_every_platform_decodes(sandbox: Sandbox) -> None:
    client = sandbox.client()
    platforms = (await sandbox.admin("GET", "/_admin/platforms")).json()

    decoded: dict[str, int] = {}
    for platform in platforms:
        seeded = await sandbox.admin(
            "POST", "/_admin/companies/seed", {"platform": platform["key"]}
        )
        for data_type in ("accounts", "taxRates", "customers", "suppliers", "invoices", "bills"):
            async for page in client.iter_pages(seeded.json()["id"], data_type, page_size=50):
                assert page.invalid == [], (platform["name"], data_type)
                decoded[data_type] = decoded.get(data_type, 0) + len(page.records)
    assert all(decoded.values()) and len(decoded) == 6


async def test_push_settles_and_the_record_can_be_read(sandbox: Sandbox) -> None:
    generated = (
        await sandbox.admin(
            "POST",
            "/_admin/companies/generate",
            {"customers": 1, "suppliers": 1, "items": 1, "invoices": 0, "bills": 0, "seed": 2},
        )
    ).json()
    client = sandbox.client()
    connection = generated["dataConnections"][0]["id"]

    operation = await client.push_create(
        generated["id"],
        connection,
        "customers",
        {"customerName": "Pushed Customer GmbH", "status": "Active", "defaultCurrency": "EUR"},
        idempotency_key="synced-record-1-attempt-1",
    )
    if not operation.is_final:
        operation = await client.get_push_operation(generated["id"], operation.push_operation_key)

    assert operation.status == PushOperationStatus.SUCCESS
    assert operation.record_id
    customer = await client.get_record(generated["id"], "customers", operation.record_id)
    assert customer.customer_name == "Pushed Customer GmbH"


async def test_errors_map_to_the_client_error_types(sandbox: Sandbox) -> None:
    client = sandbox.client()

    with pytest.raises(ProviderNotFound):
        await client.get_company("00000000-0000-0000-0000-000000000000")
    with pytest.raises(ProviderAuthError):
        await sandbox.client(api_key="wrong-key").get_company("x")
    with pytest.raises(ProviderRejected) as caught:
        await client.create_company("")
    assert caught.value.status_code == 400
    assert caught.value.error


async def test_injected_5xx_is_retried_until_unavailable(sandbox: Sandbox) -> None:
    company = await sandbox.client().create_company("Flaky Ltd")
    await sandbox.admin("PUT", f"/_admin/companies/{company.id}/faults", {"rate_5xx": 1.0})
    client = sandbox.client(max_attempts=3)

    with pytest.raises(ProviderUnavailable) as caught:
        await client.get_company(company.id)

    assert caught.value.status_code in (500, 503)
    assert caught.value.attempts == 3
    assert len(sandbox.sleeps) == 2


async def test_injected_429_waits_retry_after(sandbox: Sandbox) -> None:
    company = await sandbox.client().create_company("Busy Ltd")
    await sandbox.admin(
        "PUT", f"/_admin/companies/{company.id}/faults", {"rate_429": 1.0, "retry_after": 2}
    )
    client = sandbox.client(max_attempts=2)

    with pytest.raises(ProviderUnavailable) as caught:
        await client.get_company(company.id)

    assert caught.value.status_code == 429
    assert sandbox.sleeps == [2.0]
