"""Test fixtures: a migrated database (SQLite by default, PostgreSQL when
``ACCTSYNC_TEST_DATABASE_URL`` is set), the app, and authenticated clients."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db.config import upgrade_database
from app.db.engine import create_engine, create_sessionmaker
from app.db.models import Base
from app.jobs.interface import started_contexts
from app.server import create_app

TEST_SECRET = "test-secret-key-0123456789abcdef-0123456789"
_EXIT_STATUS = pytest.StashKey[int]()


def _database_url() -> str:
    url = os.environ.get("ACCTSYNC_TEST_DATABASE_URL")
    if url:
        return url
    folder = Path(tempfile.mkdtemp(prefix="acctsync-test-"))
    return f"sqlite+aiosqlite:///{folder / 'test.db'}"


DATABASE_URL = _database_url()
IS_POSTGRES = DATABASE_URL.startswith("postgresql")


def pytest_report_header() -> str:
    return f"acctsync database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'} ({DATABASE_URL})"


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS apscheduler CASCADE"))
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(autouse=True)
def _job_runners_stopped():
    """A test stops every job runner it starts: one left running in the session's loop goes
    on sweeping the shared test database with that test's provider, under later tests."""
    before = {id(c) for c in started_contexts()}
    yield
    left = [c for c in started_contexts() if id(c) not in before]
    assert not left, f"job runners started by this test and never stopped: {len(left)}"


@pytest.fixture(scope="session")
async def engine() -> AsyncIterator[AsyncEngine]:
    """The migrated test database (migrations run once per session, as in production)."""
    if IS_POSTGRES:
        await _reset_postgres(DATABASE_URL)
    await asyncio.to_thread(upgrade_database, DATABASE_URL)
    engine = create_engine(DATABASE_URL)
    yield engine
    await engine.dispose()


@pytest.fixture
async def clean_db(engine: AsyncEngine) -> AsyncEngine:
    """Empty every table before the test."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if IS_POSTGRES:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
            # The scheduler's store too: a job leased by the previous test's stopped scheduler
            # would block its task until the lease expires.
            await conn.execute(text("DROP SCHEMA IF EXISTS apscheduler CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))
    return engine


@pytest.fixture
def sessionmaker(clean_db: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(clean_db)


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url=DATABASE_URL, secret_key=TEST_SECRET, env="test")


@pytest.fixture
def app(settings: Settings, clean_db: AsyncEngine) -> Litestar:
    return create_app(settings, engine=clean_db)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as client:
        yield client


@dataclass
class PartnerCtx:
    """A partner with a bearer token, and helpers to call the API as it."""

    client: AsyncTestClient[Litestar]
    partner_id: uuid.UUID
    client_id: str
    client_secret: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def entity_headers(self, entity_id: str | uuid.UUID) -> dict[str, str]:
        return {**self.headers, "x-monite-entity-id": str(entity_id)}

    async def create_entity(self, name: str = "Acme Ltd", currency: str = "GBP") -> str:
        response = await self.client.post(
            "/v1/entities",
            headers=self.headers,
            json={
                "type": "organization",
                "email": "ops@example.com",
                "organization": {"legal_name": name},
                "address": {"country": "GB", "city": "London", "line1": "1 High St"},
                "currency": currency,
            },
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]


async def make_partner(
    client: AsyncTestClient[Litestar], sessionmaker: async_sessionmaker[AsyncSession], name: str
) -> PartnerCtx:
    from app.auth.service import create_partner

    async with sessionmaker() as session, session.begin():
        created = await create_partner(session, name)
    response = await client.post(
        "/v1/auth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": created.client_id,
            "client_secret": created.client_secret,
        },
    )
    assert response.status_code == 200, response.text
    return PartnerCtx(
        client,
        created.partner_id,
        created.client_id,
        created.client_secret,
        response.json()["access_token"],
    )


@pytest.fixture
async def partner(client: AsyncTestClient[Litestar], sessionmaker) -> PartnerCtx:
    return await make_partner(client, sessionmaker, "Partner A")


@pytest.fixture
async def other_partner(client: AsyncTestClient[Litestar], sessionmaker) -> PartnerCtx:
    return await make_partner(client, sessionmaker, "Partner B")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Exit even if a job cancelled at shutdown left an aiosqlite connection unclosed: its
    worker thread is not a daemon and would keep the finished test process alive."""
    import os
    import threading

    stuck = [
        t
        for t in threading.enumerate()
        if t is not threading.main_thread() and t.is_alive() and not t.daemon
    ]
    if stuck and _EXIT_STATUS in config.stash:
        print(f"\nacctsync tests: exiting past {len(stuck)} non-daemon thread(s) left open")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(config.stash[_EXIT_STATUS])
