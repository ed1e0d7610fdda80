"""PostgreSQL ends the service's connections (a server restart, a failover, an operator's
``pg_terminate_backend``): requests go on being answered. A connection that sat idle in the
pool is pinged before use (``app.db.engine.PING_AFTER_IDLE_S``); one found dead by a
statement discards the pool's older connections; a one-row read retries on a new connection;
any other request that met a dead connection is a 503 to retry, never a 500."""

from __future__ import annotations

import asyncio

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import PING_AFTER_IDLE_S, create_engine
from app.server import create_app
from tests.conftest import DATABASE_URL, IS_POSTGRES, make_partner

pytestmark = pytest.mark.skipif(
    not IS_POSTGRES, reason="PostgreSQL only: a SQLite file has no server to end connections"
)

APP_NAME = "acctsync-reconnect-test"


async def _terminate(admin: AsyncEngine) -> int:
    """End every server backend of the app under test; returns how many."""
    async with admin.connect() as conn:
        ended = await conn.scalars(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": APP_NAME},
        )
        count = sum(1 for ok in ended if ok)
    # pg_terminate_backend signals; wait until the backends are gone
    for _ in range(100):
        async with admin.connect() as conn:
            left = await conn.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": APP_NAME},
            )
        if not left:
            break
        await asyncio.sleep(0.02)
    return count


async def test_requests_are_answered_after_the_server_ends_the_pool_s_connections(
    settings, clean_db, sessionmaker
) -> None:
    engine = create_engine(DATABASE_URL, connect_args={"application_name": APP_NAME})
    app = create_app(settings, engine=engine)
    try:
        async with AsyncTestClient(app=app) as client:
            partner = await make_partner(client, sessionmaker, "Reconnecting partner")
            entity_id = await partner.create_entity()
            one = f"/v1/entities/{entity_id}"
            # several pooled connections, all used a moment ago
            answers = await asyncio.gather(
                *(client.get(one, headers=partner.headers) for _ in range(8))
            )
            assert {r.status_code for r in answers} == {200}

            # 1. Connections used a moment ago (not pinged) end: the one-row read retries.
            assert await _terminate(clean_db) >= 1
            response = await client.get(one, headers=partner.headers)
            assert response.status_code == 200, response.text
            assert response.json()["id"] == entity_id
            # ... and its failure discarded the pool's older connections: a write succeeds.
            await partner.create_entity("Written after the restart")

            # 2. Connections idle past the threshold are pinged before use.
            assert await _terminate(clean_db) >= 1
            await asyncio.sleep(PING_AFTER_IDLE_S + 0.3)
            response = await client.get("/v1/entities", headers=partner.headers)
            assert response.status_code == 200, response.text
            assert {e["id"] for e in response.json()["data"]} >= {entity_id}

            # 3. A session's statement on a connection that died a moment ago: a 503 to
            # retry (or a 200 if the pool handed out a pinged one), never a 500.
            assert await _terminate(clean_db) >= 1
            response = await client.get("/v1/entities", headers=partner.headers)
            assert response.status_code in (200, 503), response.text
            if response.status_code == 503:
                assert response.headers["retry-after"] == "1"
            again = await client.get("/v1/entities", headers=partner.headers)
            assert again.status_code == 200, again.text
    finally:
        await engine.dispose()
