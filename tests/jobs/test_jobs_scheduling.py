"""Scheduling (issue 5): reconcile, jitter, interval changes, pull retries with backoff,
the webhook drain and the sweep. Runs on both databases (memory store on SQLite, the
PostgreSQL store and event broker on PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from app import tasks
from app.db.models import AccountingConnection, Entity, Partner, PullCursor, WebhookEvent
from app.jobs import Jobs
from app.jobs.runner import pull_start_time
from app.providers import CompanyInfo, ProviderError
from app.providers.base import ProviderRejected, ProviderUnavailable
from app.providers.factory import NoProviderKey
from app.sync.queries import lease

INTERVAL = 3600


class FakeProvider:
    """Empty pages for every data type; ``accounts`` fails while ``failures`` lasts."""

    def __init__(self, failures: int = 0, error: type[ProviderError] = ProviderUnavailable):
        self.failures = failures
        self.error = error
        self.account_calls = 0
        self.delay = 0.0
        self.running = 0
        self.max_running = 0

    async def get_company_info(self, company_id: str) -> CompanyInfo:
        return CompanyInfo(base_currency="GBP")

    async def get_page(self, company_id: str, data_type: str, **_: Any) -> Any:
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if data_type == "accounts":
                self.account_calls += 1
                if self.failures != 0:
                    self.failures -= 1
                    raise self.error("503 from the provider", status_code=503)
            return SimpleNamespace(records=[], raw=[], has_next=False)
        finally:
            self.running -= 1


@dataclasses.dataclass
class Harness:
    jobs: Jobs
    provider: FakeProvider
    sessionmaker: Any

    async def wait_for(
        self, check: Callable[[], Awaitable[Any]], limit: float = 10.0, what: str = "it"
    ) -> Any:
        deadline = time.monotonic() + limit
        while not (result := await check()):
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.02)
        return result

    async def schedules(self) -> dict[str, Any]:
        return {s.id: s for s in await self.jobs.scheduler.get_schedules()}

    async def pull_ids(self) -> set[str]:
        return {i for i in await self.schedules() if i.startswith("pull:")}


async def make_connection(
    sessionmaker: Any, status: str = "connected", last_pull: dt.datetime | None = None
) -> uuid.UUID:
    async with sessionmaker() as session, session.begin():
        partner = Partner(name="P")
        session.add(partner)
        await session.flush()
        entity = Entity(
            partner_id=partner.id, type="organization", legal_name="E", currency="GBP", address={}
        )
        session.add(entity)
        await session.flush()
        conn = AccountingConnection(
            entity_id=entity.id,
            platform="xero",
            status=status,
            provider_company_id=str(uuid.uuid4()),
            provider_connection_id=str(uuid.uuid4()),
            connection_url="http://link",
            last_pull=last_pull,
        )
        session.add(conn)
        await session.flush()
        return conn.id


async def last_pull_of(sessionmaker: Any, connection_id: uuid.UUID) -> dt.datetime | None:
    async with sessionmaker() as session:
        return (await session.get(AccountingConnection, connection_id)).last_pull


@pytest.fixture
async def harness(settings, clean_db, sessionmaker) -> AsyncIterator[Harness]:
    provider = FakeProvider()

    async def provider_for(_partner_id: uuid.UUID) -> FakeProvider:
        return provider

    jobs = Jobs(
        dataclasses.replace(settings, pull_interval_seconds=INTERVAL),
        clean_db,
        sessionmaker,
        provider_for,
        sweep_interval=3600,
    )
    await jobs.start()
    try:
        yield Harness(jobs, provider, sessionmaker)
    finally:
        await jobs.stop()


# --- reconcile -------------------------------------------------------------------------------


async def test_reconcile_makes_one_pull_schedule_per_connected_connection_and_drops_others(
    harness: Harness, sessionmaker
) -> None:
    recently = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    connected = {await make_connection(sessionmaker, last_pull=recently) for _ in range(3)}
    disconnected = await make_connection(sessionmaker, "disconnected", last_pull=recently)
    pending = await make_connection(sessionmaker, "pending_auth")
    deauthorized = await make_connection(sessionmaker, "deauthorized", last_pull=recently)
    # Leftovers in the scheduler's store: schedules of connections that are no longer
    # connected or no longer exist, and a pending pull retry of a disconnected one.
    for gone in (disconnected, deauthorized, uuid.uuid4()):
        await harness.jobs.ensure_pull_schedule(gone)
    await harness.jobs.retry_later(
        "pull_connection",
        600,
        schedule_id=f"retry:pull_connection:{disconnected}:all",
        connection_id=str(disconnected),
    )

    counts = await tasks.reconcile_schedules(harness.jobs.context)

    assert counts == {"added": 3, "removed": 4, "queued": 0}
    assert await harness.pull_ids() == {f"pull:{c}" for c in connected}
    schedules = await harness.schedules()
    assert "sweep" in schedules  # other schedules are left alone
    assert not any(str(disconnected) in i for i in schedules)
    assert f"pull:{pending}" not in schedules
    # Each is one interval after the connection's last pull: a restart keeps the phase.
    for c in connected:
        fire = schedules[f"pull:{c}"].next_fire_time
        assert abs((fire - (recently + dt.timedelta(seconds=INTERVAL))).total_seconds()) < 1

    # Reconciling again (another worker starting, a restart) changes nothing: no duplicate,
    # no schedule moved.
    before = {i: s.next_fire_time for i, s in (await harness.schedules()).items()}
    assert await tasks.reconcile_schedules(harness.jobs.context) == {
        "added": 0,
        "removed": 0,
        "queued": 0,
    }
    after = {i: s.next_fire_time for i, s in (await harness.schedules()).items()}
    assert {i: t for i, t in after.items() if i.startswith("pull:")} == {
        i: t for i, t in before.items() if i.startswith("pull:")
    }


async def test_reconcile_queues_a_first_pull_for_a_connection_never_pulled(
    harness: Harness, sessionmaker
) -> None:
    never = await make_connection(sessionmaker)
    counts = await tasks.reconcile_schedules(harness.jobs.context)
    assert counts["queued"] == 1
    assert await harness.pull_ids() == {f"pull:{never}"}
    assert await harness.wait_for(lambda: last_pull_of(sessionmaker, never), what="first pull")


async def test_a_changed_pull_interval_replaces_the_schedule_and_an_unchanged_one_keeps_it(
    harness: Harness, sessionmaker
) -> None:
    last_pull = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    connection = await make_connection(sessionmaker, last_pull=last_pull)
    jobs = harness.jobs
    assert await jobs.ensure_pull_schedule(connection, last_pull=last_pull) is True
    first = (await harness.schedules())[f"pull:{connection}"]
    assert first.next_fire_time == last_pull + dt.timedelta(seconds=INTERVAL)
    assert await jobs.ensure_pull_schedule(connection) is False
    assert (await harness.schedules())[f"pull:{connection}"].next_fire_time == (
        first.next_fire_time
    )

    jobs.settings = dataclasses.replace(jobs.settings, pull_interval_seconds=600)
    assert await jobs.ensure_pull_schedule(connection, last_pull=last_pull) is True
    changed = (await harness.schedules())[f"pull:{connection}"]
    assert changed.trigger.seconds == 600
    assert changed.max_jitter == dt.timedelta(seconds=60)
    assert changed.next_fire_time == last_pull + dt.timedelta(seconds=600)
    assert await harness.pull_ids() == {f"pull:{connection}"}


# --- jitter ----------------------------------------------------------------------------------


async def test_new_pull_schedules_spread_over_the_interval(harness: Harness) -> None:
    now = dt.datetime.now(dt.UTC)
    ids = [uuid.uuid4() for _ in range(200)]
    for connection_id in ids:
        await harness.jobs.ensure_pull_schedule(connection_id, existing=None)
    schedules = await harness.schedules()
    offsets = [
        (schedules[f"pull:{c}"].next_fire_time - now).total_seconds() / INTERVAL for c in ids
    ]
    assert all(-0.01 <= o <= 1.01 for o in offsets)
    # Ten equal slices of the hour each get some of them (a uniform spread puts 20 in each;
    # all at once would put 200 in one).
    buckets = [sum(1 for o in offsets if k / 10 <= o < (k + 1) / 10) for k in range(10)]
    assert min(buckets) >= 5 and max(buckets) <= 45, buckets
    # And each fire gets up to a minute of jitter of its own.
    assert {s.max_jitter for s in schedules.values() if s.id.startswith("pull:")} == {
        dt.timedelta(seconds=60)
    }


def test_start_time_keeps_the_phase_of_the_last_pull_and_spreads_overdue_ones() -> None:
    now = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    ten_min_ago = now - dt.timedelta(minutes=10)
    assert pull_start_time(3600, ten_min_ago, now) == ten_min_ago + dt.timedelta(hours=1)
    overdue = [pull_start_time(3600, now - dt.timedelta(hours=5), now) for _ in range(200)]
    assert all(now <= t <= now + dt.timedelta(seconds=300) for t in overdue)
    assert max(overdue) - min(overdue) > dt.timedelta(seconds=200)
    never = [pull_start_time(3600, None, now) for _ in range(200)]
    assert all(now <= t <= now + dt.timedelta(hours=1) for t in never)
    assert max(never) - min(never) > dt.timedelta(minutes=45)


# --- pull retries ----------------------------------------------------------------------------


def test_pull_retry_delay_doubles_up_to_the_cap_and_stops() -> None:
    for attempt, nominal in enumerate([30, 60, 120, 240, 480, 900]):
        delays = [tasks.pull_retry_delay(attempt, 3600) for _ in range(50)]
        assert all(nominal * 0.5 <= d <= nominal for d in delays), (attempt, delays)
    assert tasks.pull_retry_delay(tasks.PULL_MAX_RETRIES, 3600) is None
    # never later than the next scheduled pull: capped at the interval ...
    assert all(tasks.pull_retry_delay(5, 100) <= 100 for _ in range(50))
    # ... and no retry at all when the schedule itself comes back sooner than a retry would
    assert tasks.pull_retry_delay(0, 20) is None


def spy_retries(harness: Harness, monkeypatch) -> list[tuple[float, dict[str, Any]]]:
    calls: list[tuple[float, dict[str, Any]]] = []
    original = harness.jobs.retry_later

    async def spy(task: str, delay: float, **kwargs: Any) -> None:
        if task == "pull_connection":  # not the daily overdue run's next schedule
            calls.append((delay, kwargs))
        await original(task, delay, **kwargs)

    monkeypatch.setattr(harness.jobs, "retry_later", spy)
    return calls


async def test_a_pull_failing_on_a_provider_outage_is_retried_with_backoff_until_it_passes(
    harness: Harness, sessionmaker, monkeypatch
) -> None:
    monkeypatch.setattr(tasks, "PULL_RETRY_BASE", 0.1)
    retries = spy_retries(harness, monkeypatch)
    harness.provider.failures = 2
    connection = await make_connection(sessionmaker)

    await harness.jobs.enqueue("pull_connection", connection_id=str(connection))
    await harness.wait_for(lambda: last_pull_of(sessionmaker, connection), what="a pull")

    assert harness.provider.account_calls == 3
    assert [kw["attempt"] for _, kw in retries] == [1, 2]
    (d1, kw1), (d2, _) = retries
    assert 0.05 <= d1 <= 0.1 and 0.1 <= d2 <= 0.2  # doubling, with jitter
    assert kw1["schedule_id"] == f"retry:pull_connection:{connection}:all"
    async with sessionmaker() as session:
        cursor = await session.scalar(
            select(PullCursor).where(
                PullCursor.connection_id == connection, PullCursor.data_type == "accounts"
            )
        )
    assert cursor.last_error is None  # the last attempt passed


async def test_a_pull_that_keeps_failing_stops_retrying_after_the_cap(
    harness: Harness, sessionmaker, monkeypatch
) -> None:
    monkeypatch.setattr(tasks, "PULL_RETRY_BASE", 0.02)
    monkeypatch.setattr(tasks, "PULL_MAX_RETRIES", 3)
    retries = spy_retries(harness, monkeypatch)
    harness.provider.failures = -1  # for ever
    connection = await make_connection(sessionmaker)

    await harness.jobs.enqueue("pull_connection", connection_id=str(connection))
    await harness.wait_for(
        lambda: asyncio.sleep(0, harness.provider.account_calls >= 4), what="four attempts"
    )
    await asyncio.sleep(0.5)  # a fifth attempt would come within 0.16 s

    assert harness.provider.account_calls == 4
    assert [kw["attempt"] for _, kw in retries] == [1, 2, 3]
    assert await last_pull_of(sessionmaker, connection) is None
    async with sessionmaker() as session:
        errors = [
            c.last_error
            for c in await session.scalars(
                select(PullCursor).where(PullCursor.connection_id == connection)
            )
        ]
    assert any(e and e.startswith("ProviderUnavailable") for e in errors)


async def test_a_rejected_pull_or_a_missing_provider_key_is_not_retried(
    harness: Harness, sessionmaker, monkeypatch
) -> None:
    retries = spy_retries(harness, monkeypatch)
    harness.provider.failures, harness.provider.error = 1, ProviderRejected
    connection = await make_connection(sessionmaker)
    result = await tasks.pull_connection(str(connection))
    assert result["accounts"].startswith("ProviderRejected")
    assert retries == []

    async def no_key(_partner_id: uuid.UUID) -> Any:
        raise NoProviderKey("p")

    harness.jobs.context.provider_for = no_key
    assert await tasks.pull_connection(str(connection)) == {}
    assert retries == []


async def test_pulls_of_many_connections_run_at_the_same_time(
    harness: Harness, sessionmaker
) -> None:
    harness.provider.delay = 0.1
    connections = [await make_connection(sessionmaker) for _ in range(8)]
    for c in connections:
        await harness.jobs.enqueue("pull_connection", connection_id=str(c))

    async def all_pulled() -> bool:
        return all([await last_pull_of(sessionmaker, c) for c in connections])

    await harness.wait_for(all_pulled, what="eight pulls")
    # No scheduler-level cap of a handful: the eight pulls overlapped.
    assert harness.provider.max_running >= 6


# --- webhook drain and sweep -----------------------------------------------------------------


async def store_connected_event(sessionmaker: Any, connection_id: uuid.UUID) -> str:
    async with sessionmaker() as session:
        conn = await session.get(AccountingConnection, connection_id)
        company, provider_connection = conn.provider_company_id, conn.provider_connection_id
    message_id = f"msg_{uuid.uuid4().hex}"
    body = {
        "id": message_id,
        "eventType": "connection.connected",
        "generatedDate": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "payload": {
            "referenceCompany": {"id": company, "name": "Acme"},
            "connection": {
                "id": provider_connection,
                "integrationKey": "gbol",
                "sourceType": "Accounting",
                "status": "Linked",
            },
        },
    }
    async with sessionmaker() as session, session.begin():
        session.add(
            WebhookEvent(
                message_id=message_id,
                event_type="connection.connected",
                company_id=company,
                body=json.dumps(body).encode(),
                received_at=dt.datetime.now(dt.UTC),
            )
        )
    return message_id


async def status_of(sessionmaker: Any, connection_id: uuid.UUID) -> str:
    async with sessionmaker() as session:
        return (await session.get(AccountingConnection, connection_id)).status


async def test_a_drain_requested_while_another_runs_is_run_after_it_not_dropped(
    harness: Harness, sessionmaker, clean_db
) -> None:
    connection = await make_connection(sessionmaker, "pending_auth")
    await store_connected_event(sessionmaker, connection)
    async with contextlib.AsyncExitStack() as other_drain:
        # "another drain is running" (once the start-up one, if any, is over)
        while not await other_drain.enter_async_context(lease(clean_db, tasks.DRAIN_LEASE)):
            await other_drain.aclose()
            await asyncio.sleep(0.02)
        await harness.jobs.request_webhook_drain()
        await asyncio.sleep(0.6)  # the requested drain ran, found the lease, and backed off
        assert await status_of(sessionmaker, connection) == "pending_auth"
    # the other drain ends; the requested one comes back and applies the event
    await harness.wait_for(
        lambda: _is(status_of(sessionmaker, connection), "connected"), what="the drain"
    )
    await harness.wait_for(
        lambda: _has(harness.pull_ids(), f"pull:{connection}"), what="the pull schedule"
    )
    # (and the first pull it queued runs)
    await harness.wait_for(lambda: last_pull_of(sessionmaker, connection), what="first pull")


async def _is(value: Awaitable[Any], expected: Any) -> bool:
    return await value == expected


async def _has(values: Awaitable[Any], expected: Any) -> bool:
    return expected in await values


async def test_the_sweep_applies_stored_events_nobody_asked_to_drain(
    settings, clean_db, sessionmaker
) -> None:
    connection = await make_connection(sessionmaker, "pending_auth")
    # stored by a receiver that died before it asked for a drain
    await store_connected_event(sessionmaker, connection)

    async def no_key(_partner_id: uuid.UUID) -> Any:
        raise NoProviderKey("p")

    jobs = Jobs(settings, clean_db, sessionmaker, no_key, sweep_interval=0.2)
    harness = Harness(jobs, FakeProvider(), sessionmaker)
    async with lease(clean_db, tasks.SWEEP_LEASE):  # another worker's sweep is running
        await jobs.start()
        try:
            await asyncio.sleep(0.7)  # several sweeps fired here and stepped aside
            assert await status_of(sessionmaker, connection) == "pending_auth"
        except BaseException:
            await jobs.stop()
            raise
    try:
        await harness.wait_for(
            lambda: _is(status_of(sessionmaker, connection), "connected"), what="a sweep"
        )
    finally:
        await jobs.stop()
