"""One measured run of `bench.pull` in its own process (so ``ru_maxrss`` is this run's peak).

``python -m bench._pull_run pull|floor --db URL --base URL --company ID [--names FILE]``
prints one JSON line of figures. ``pull``: a fresh database, an entity with the counterparts in
``--names`` (1,000 by default, resembling some of the company's contacts), then the real
``app.sync.pull.pull`` over HTTP, then a second, unchanged pull counting provider requests.
``floor``: the same pages fetched, decoded with msgspec and bulk-inserted, nothing else.
``floor-local`` (SQLite): the pages fetched first, then only decoding + stdlib ``sqlite3``
``executemany`` upserts timed, one transaction per page (no HTTP, no SQLAlchemy).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from app.config import Settings
from app.db.config import upgrade_database
from app.db.engine import create_engine, create_sessionmaker
from app.db.models import (
    AccountingConnection,
    Counterpart,
    Entity,
    Partner,
    PulledRecord,
    SyncedRecord,
)
from app.jobs import JobContext
from app.providers.codat import CodatClient, make_http_client
from app.sync import pull as pull_module

DATA_TYPES = pull_module.DATA_TYPES
SECRET = "bench-secret-key-0123456789abcdef-0123456789"


def _rss_mb() -> float:
    """The process's resident set now (MB), from /proc (0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def _fresh_database(url: str) -> str:
    """A migrated, empty database: a new SQLite file, or the PostgreSQL database recreated."""
    if url == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="acctsync-bench-pull-"))
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    else:
        import psycopg

        name = url.rsplit("/", 1)[1]
        admin = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
        with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    await asyncio.to_thread(upgrade_database, url)
    return url


class _Jobs:
    """What `pull` needs from the job runner: the engine (leases) and retry_later."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    async def retry_later(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the bench runs one pull at a time")


async def _world(url: str, company: str, names: list[dict[str, Any]]) -> tuple[Any, uuid.UUID]:
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    now = dt.datetime.now(dt.UTC)
    async with sessionmaker() as session:
        partner = Partner(name="bench")
        session.add(partner)
        await session.flush()
        entity = Entity(
            partner_id=partner.id, type="organization", currency="GBP", legal_name="Bench Ltd"
        )
        session.add(entity)
        await session.flush()
        session.add_all(
            Counterpart(
                entity_id=entity.id,
                type="organization",
                name=n["name"],
                legal_name=n["name"],
                is_customer=n["customer"],
                is_vendor=not n["customer"],
                country=n.get("country"),
                city=n.get("city"),
                line1=n.get("line1"),
                postal_code=n.get("postal_code"),
            )
            for n in names
        )
        connection = AccountingConnection(
            entity_id=entity.id,
            platform="sandbox",
            status="connected",
            provider_company_id=company,
            connection_url="http://bench",
            connected_at=now,
        )
        session.add(connection)
        await session.commit()
        return SimpleNamespace(engine=engine, sessionmaker=sessionmaker), connection.id


async def run_pull(args: argparse.Namespace) -> dict[str, Any]:
    rss_start = _rss_mb()  # the modules imported, nothing pulled yet
    url = await _fresh_database(args.db)
    names = json.loads(Path(args.names).read_bytes()) if args.names else []  # noqa: ASYNC240
    world, connection_id = await _world(url, args.company, names)
    requests: Counter[str] = Counter()

    async def count(request: httpx.Request) -> None:
        requests[request.url.path.rsplit("/", 1)[1]] += 1

    http = make_http_client()
    http.event_hooks["request"].append(count)
    provider = CodatClient(args.base, "sandbox", client=http, page_size=5000)

    async def provider_for(partner_id: uuid.UUID) -> CodatClient:
        return provider

    settings = Settings(database_url=url, secret_key=SECRET, env="test")
    ctx = JobContext(settings, world.sessionmaker, provider_for, _Jobs(world.engine))  # type: ignore[arg-type]
    started = time.perf_counter()
    first = await pull_module.pull(ctx, connection_id)
    wall = time.perf_counter() - started
    rss_after = _rss_mb()  # what the process keeps once the pull is over
    first_requests = dict(requests)
    requests.clear()
    started = time.perf_counter()
    second = await pull_module.pull(ctx, connection_id)
    second_wall = time.perf_counter() - started
    async with world.sessionmaker() as session:
        rows = (
            await session.execute(
                select(SyncedRecord.object_type, SyncedRecord.sync_status, func.count()).group_by(
                    SyncedRecord.object_type, SyncedRecord.sync_status
                )
            )
        ).all()
        synced = {f"{t}:{s}": n for t, s, n in rows}
    await http.aclose()
    await world.engine.dispose()
    records = sum(v for v in first.values() if isinstance(v, int))
    return {
        "mode": "pull",
        "db": url.split(":", 1)[0],
        "records": records,
        "wall_s": round(wall, 2),
        "records_per_s": round(records / wall),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "rss_after_mb": round(rss_after, 1),
        "rss_start_mb": round(rss_start, 1),
        "first_pull": first,
        "first_requests": first_requests,
        "unchanged_pull": second,
        "unchanged_requests": dict(requests),
        "unchanged_wall_s": round(second_wall, 3),
        "synced_records": synced,
    }


async def run_floor(args: argparse.Namespace) -> dict[str, Any]:
    """Fetch the same pages, decode them with the same msgspec decoder, bulk-insert them."""
    url = await _fresh_database(args.db)
    world, connection_id = await _world(url, args.company, [])
    http = make_http_client()
    provider = CodatClient(args.base, "sandbox", client=http, page_size=5000)
    table = PulledRecord.__table__
    started = time.perf_counter()
    records = 0
    for data_type in DATA_TYPES:
        page_no = 1
        while True:
            page = await provider.get_page(args.company, data_type, page=page_no, page_size=5000)
            now = dt.datetime.now(dt.UTC)
            rows = [
                {
                    "id": uuid.uuid4(),
                    "created_at": now,
                    "updated_at": now,
                    "connection_id": connection_id,
                    "data_type": data_type,
                    "provider_id": r.id,
                    "raw": bytes(raw),
                    "is_deleted": r.is_deleted,
                    "provider_modified_at": r.modified_date,
                }
                for r, raw in zip(page.records, page.raw, strict=True)
            ]
            if rows:
                async with world.sessionmaker() as session:
                    await session.execute(insert(table), rows)
                    await session.commit()
            records += len(rows)
            if not page.has_next or not rows:
                break
            page_no += 1
    wall = time.perf_counter() - started
    await http.aclose()
    await world.engine.dispose()
    return {
        "mode": "floor",
        "db": url.split(":", 1)[0],
        "records": records,
        "wall_s": round(wall, 2),
        "records_per_s": round(records / wall),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


async def run_floor_local(args: argparse.Namespace) -> dict[str, Any]:
    """The issue-17 floor, no HTTP in the clock: every page is fetched first (untimed, kept as
    bytes), then timed: decoded with the service's own decoder
    (``app.providers.codat.records.decode_page``) and upserted into ``pulled_records`` of a
    fresh, migrated WAL database with the stdlib ``sqlite3`` ``executemany``, one transaction
    per page. SQLite only."""
    import sqlite3

    from app.providers.codat.records import decode_page

    url = await _fresh_database("sqlite")
    world, connection_id = await _world(url, args.company, [])
    await world.engine.dispose()
    bodies: list[tuple[str, bytes]] = []
    async with make_http_client() as http:
        for data_type in DATA_TYPES:
            page_no = 1
            while True:
                response = await http.get(
                    f"{args.base}/companies/{args.company}/data/{data_type}",
                    params={"page": page_no, "pageSize": 5000},
                    headers={"Authorization": "Basic c2FuZGJveA=="},
                )
                response.raise_for_status()
                bodies.append((data_type, response.content))
                total = response.json()["totalResults"]
                if page_no * 5000 >= total:
                    break
                page_no += 1
    path = url.split("///", 1)[1]
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    sql = (
        "INSERT INTO pulled_records (id, created_at, updated_at, connection_id, data_type, "
        "provider_id, name, raw, is_deleted, provider_modified_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (connection_id, data_type, provider_id) DO UPDATE SET "
        "name = excluded.name, raw = excluded.raw, is_deleted = excluded.is_deleted, "
        "provider_modified_at = excluded.provider_modified_at, updated_at = excluded.updated_at"
    )
    connection = connection_id.bytes

    def stamp(value: dt.datetime | None) -> str | None:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if value else None

    started = time.perf_counter()
    records = 0
    for data_type, body in bodies:
        page = decode_page(data_type, body)
        now = stamp(dt.datetime.now(dt.UTC))
        rows = [
            (
                uuid.uuid4().bytes,
                now,
                now,
                connection,
                data_type,
                r.id,
                pull_module._record_name(data_type, r),
                bytes(raw),
                pull_module._is_deleted(r),
                stamp(r.modified_date),
            )
            for r, raw in zip(page.records, page.raw, strict=True)
        ]
        with con:
            con.executemany(sql, rows)
        records += len(rows)
    wall = time.perf_counter() - started
    con.close()
    return {
        "mode": "floor-local",
        "db": "sqlite",
        "records": records,
        "wall_s": round(wall, 2),
        "records_per_s": round(records / wall),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("pull", "floor", "floor-local"))
    parser.add_argument("--db", required=True, help="'sqlite' or a postgresql+psycopg:// URL")
    parser.add_argument("--base", required=True)
    parser.add_argument("--company", required=True)
    parser.add_argument("--names")
    args = parser.parse_args()
    run = {"pull": run_pull, "floor": run_floor, "floor-local": run_floor_local}[args.mode]
    print(json.dumps(asyncio.run(run(args)), default=str))


if __name__ == "__main__":
    main()
