"""Synced-records list speed: 1,000,000 records for one entity, the real endpoint, p50/p99.

Run: ``.venv/bin/python -m bench.synced_records`` (both databases) or
``.venv/bin/python -m bench.synced_records --db sqlite --rows 200000``. Prints figures; not a
test. PostgreSQL: ``--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres`` (the
default); the bench creates and finally drops its own database ``acctsync_bench_sr`` there.

What it does, per database:

1. migrates a fresh database (the real migrations, so the real indexes);
2. creates a partner, an entity (through the API) and a connection, then inserts ``--rows``
   synced records for that entity in one transaction (SQLite: ``executemany``; PostgreSQL:
   ``COPY``): object types bill 35 %, receivable 30 %, customer 15 %, vendor 10 %, product 10 %;
   status done 90 %, error 7 %, pending 3 %; ``created_at`` spread over two years;
3. ANALYZEs, then times ``GET /v1/accounting_synced_records`` in-process through Litestar's
   ``AsyncTestClient`` (ASGI, no socket; JWT auth, revoked-token check, entity lookup, list
   query, serialisation) for each scenario: first page; a page deep in the cursor (a token
   positioned at 90 % of the list, made with the service's own paginator exactly as the
   endpoint makes it, and checked against one got by following real tokens); with a
   ``sync_status`` filter; with a ``created_at`` range; ``sort=updated_at``; ``order=desc``;
4. prints p50/p99 over ``--requests`` requests per scenario (after warm-up), the SQL
   statements a request runs (with their share of the time), and the query plan of each
   list query (``EXPLAIN QUERY PLAN`` / ``EXPLAIN``);
5. compares the keyset condition as the paginator writes it (``a > x OR (a = x AND id > y)``)
   with a row-value comparison ``(a, id) > (x, y)`` on the raw deep-page query.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import random
import re
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from app.config import Settings
from app.db.config import upgrade_database
from app.db.engine import create_engine
from app.db.models import AccountingConnection
from app.pagination import Cursor, _encode_value
from app.server import create_app
from app.synced_records import service

SECRET = "bench-secret-key-0123456789abcdef-0123456789"
PG_DB = "acctsync_bench_sr"
TYPES = [("bill", 35), ("receivable", 30), ("customer", 15), ("vendor", 10), ("product", 10)]
STATUSES = [("done", 90), ("error", 7), ("pending", 3)]
BASE = dt.datetime(2024, 11, 1, tzinfo=dt.UTC)
SPAN_S = 2 * 365 * 86400
COLUMNS = [
    "id",
    "entity_id",
    "connection_id",
    "object_type",
    "object_id",
    "sync_status",
    "provider",
    "platform",
    "provider_object_id",
    "platform_object_id",
    "provider_updated_at",
    "platform_updated_at",
    "object_updated_at",
    "last_pulled_at",
    "errors",
    "push_operation_key",
    "push_phase",
    "pushed_version",
    "attempts",
    "next_attempt_at",
    "created_at",
    "updated_at",
]
ERROR = {
    "message": "The bill cannot be pushed: 1 problem(s) to fix",
    "details": ["line 1: no account"],
}


def _weighted(pairs: list[tuple[str, int]], n: int, rng: random.Random) -> list[str]:
    names = [p[0] for p in pairs]
    weights = [p[1] for p in pairs]
    return rng.choices(names, weights=weights, k=n)


def generate_rows(n: int, entity_id: uuid.UUID, connection_id: uuid.UUID) -> list[tuple]:
    """``n`` rows as tuples in ``COLUMNS`` order, Python values (UUID, aware datetime, dict)."""
    rng = random.Random(8)
    types = _weighted(TYPES, n, rng)
    statuses = _weighted(STATUSES, n, rng)
    step = SPAN_S / n
    rows = []
    for i in range(n):
        created = BASE + dt.timedelta(seconds=i * step + rng.random() * step)
        updated = created + dt.timedelta(seconds=rng.randint(1, 30 * 86400))
        status = statuses[i]
        kind = types[i]
        pushed = kind in ("bill", "receivable")
        rows.append(
            (
                uuid.uuid4(),
                entity_id,
                connection_id,
                kind,
                uuid.uuid4(),
                status,
                "codat",
                "xero",
                None if status != "done" else f"p{i}",
                None if status != "done" else f"p{i}",
                updated if status == "done" else None,
                updated if status == "done" else None,
                created,
                None if pushed else updated,
                ERROR if status == "error" else None,
                None,
                None,
                created if status == "done" and pushed else None,
                rng.randint(1, 5) if status == "error" else (1 if pushed else 0),
                None,
                created,
                updated,
            )
        )
    return rows


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, uuid.UUID):
        return v.bytes
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, dict):
        return json.dumps(v)
    return v


def load_sqlite(path: str, rows: list[tuple]) -> None:
    """One transaction, ``executemany`` (stdlib sqlite3 on the same file)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA cache_size=-400000")
    con.execute("PRAGMA synchronous=OFF")
    sql = (
        f"INSERT INTO synced_records ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in COLUMNS)})"
    )
    with con:
        con.executemany(sql, ([_sqlite_value(v) for v in row] for row in rows))
    con.execute("ANALYZE")
    con.close()


async def load_postgres(engine: Any, rows: list[tuple]) -> None:
    """``COPY ... FROM STDIN`` in one transaction, then ``VACUUM ANALYZE``."""
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        async with raw.cursor() as cur:
            async with cur.copy(f"COPY synced_records ({', '.join(COLUMNS)}) FROM STDIN") as cp:
                for row in rows:
                    await cp.write_row([json.dumps(v) if isinstance(v, dict) else v for v in row])
        await raw.commit()
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE synced_records"))


class SqlLog:
    """Every statement the engine runs, with its time (for the per-request breakdown)."""

    def __init__(self, engine: Any) -> None:
        self.entries: list[tuple[str, Any, float]] = []
        self.on = False
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._before)
        event.listen(sync, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.on:
            self.entries.append((statement, parameters, time.perf_counter() - conn.info["t0"]))


def _label(sql: str) -> str:
    s = " ".join(sql.split())
    if "revoked_tokens" in s:
        return "revoked-token check (jti)"
    if "FROM partners" in s:
        return "partner exists"
    if "FROM entities" in s:
        return "entity of x-monite-entity-id"
    if "FROM synced_records" in s:
        return "list query"
    return s[:60]


@contextlib.contextmanager
def _no_seek_bound() -> Any:
    """The endpoint as it was before ``list_stmt`` took a seek bound (for the comparison)."""
    saved = service.seek_bound
    service.seek_bound = lambda *a, **k: None
    try:
        yield
    finally:
        service.seek_bound = saved


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[k]


async def explain(engine: Any, statement: str, params: Any) -> list[str]:
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        if engine.dialect.name == "sqlite":
            cur = await raw.execute("EXPLAIN QUERY PLAN " + statement, params)
            return [r[3] for r in await cur.fetchall()]
        async with raw.cursor() as cur:
            await cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            return [r[0] for r in await cur.fetchall()]


async def timed_raw(engine: Any, statement: str, params: Any, n: int) -> list[float]:
    out = []
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        for _ in range(n):
            t0 = time.perf_counter()
            if engine.dialect.name == "sqlite":
                cur = await raw.execute(statement, params)
                await cur.fetchall()
            else:
                async with raw.cursor() as cur:
                    await cur.execute(statement, params)
                    await cur.fetchall()
            out.append((time.perf_counter() - t0) * 1000)
    return out


def row_value_form(statement: str, params: Any) -> tuple[str, Any] | None:
    """The deep-page SQL and parameters with the paginator's OR/AND keyset rewritten as a row
    value comparison ``(sort, id) > (x, y)``."""
    pattern = re.compile(
        r"\((synced_records\.(\w+)) ([<>]) (\S+(?: WITH TIME ZONE)?) OR synced_records\.\2 = "
        r"(\S+(?: WITH TIME ZONE)?) AND (synced_records\.id) \3 (\S+)\)"
    )
    flat = " ".join(statement.split())
    m = pattern.search(flat)
    if not m:
        return None
    col, op, p1, idcol, p3 = m.group(1), m.group(3), m.group(4), m.group(6), m.group(7)
    if isinstance(params, (tuple, list)):  # qmark: drop the repeated sort value
        i = flat[: m.start(5)].count("?")
        params = tuple(params[:i]) + tuple(params[i + 1 :])
    return flat[: m.start()] + f"(({col}, {idcol}) {op} ({p1}, {p3}))" + flat[m.end() :], params


async def run(db: str, url: str, n_rows: int, n_requests: int) -> None:
    print(f"\n=== {db}: {n_rows:,} synced records for one entity ===")
    await asyncio.to_thread(upgrade_database, url)
    engine = create_engine(url)
    app = create_app(Settings(database_url=url, secret_key=SECRET, env="test"), engine=engine)
    log = SqlLog(engine)
    from app.auth.service import create_partner

    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        sm = app.state.sessionmaker
        async with sm() as session, session.begin():
            made = await create_partner(session, "Bench partner")
        token = (
            await client.post(
                "/v1/auth/token",
                json={
                    "grant_type": "client_credentials",
                    "client_id": made.client_id,
                    "client_secret": made.client_secret,
                },
            )
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        entity_id = (
            await client.post(
                "/v1/entities",
                headers=auth,
                json={
                    "type": "organization",
                    "organization": {"legal_name": "Bench Ltd"},
                    "address": {"country": "GB", "city": "London", "line1": "1 High St"},
                    "currency": "GBP",
                },
            )
        ).json()["id"]
        h = {**auth, "x-monite-entity-id": entity_id}
        async with sm() as session, session.begin():
            conn = AccountingConnection(
                entity_id=uuid.UUID(entity_id),
                platform="xero",
                status="connected",
                provider_company_id="bench",
                provider_connection_id="bench",
                connection_url="http://link",
            )
            session.add(conn)
        t0 = time.perf_counter()
        rows = generate_rows(n_rows, uuid.UUID(entity_id), conn.id)
        t1 = time.perf_counter()
        if db == "sqlite":
            await asyncio.to_thread(load_sqlite, make_url(url).database, rows)
        else:
            await load_postgres(engine, rows)
        t2 = time.perf_counter()
        print(
            f"generate {t1 - t0:.1f} s; insert + analyze {t2 - t1:.1f} s "
            f"({n_rows / (t2 - t1):,.0f} rows/s, {'executemany' if db == 'sqlite' else 'COPY'})"
        )

        bills = sorted((r[20], r[0]) for r in rows if r[3] == "bill")
        bills_by_updated = sorted((r[21], r[0]) for r in rows if r[3] == "bill")
        errors = sorted((r[20], r[0]) for r in rows if r[3] == "bill" and r[5] == "error")
        del rows
        window_lo = BASE + dt.timedelta(days=300)
        window_hi = BASE + dt.timedelta(days=420)
        in_window = [b for b in bills if window_lo <= b[0] < window_hi]
        paginator = app.state.paginator

        def at90(positions: list[Any]) -> int:
            return max(0, min(int(len(positions) * 0.9), len(positions) - 101))

        def query(**extra: Any) -> dict[str, Any]:
            return {"object_type": "bill", "order": "asc", "sort": "created_at", **extra}

        def deep_token(q: dict[str, Any], position: tuple[dt.datetime, uuid.UUID]) -> str:
            return paginator.encode(
                Cursor(
                    "synced_records",
                    entity_id,
                    q,
                    "next",
                    _encode_value(position[0]),
                    str(position[1]),
                )
            )

        bare = "/v1/accounting_synced_records?object_type=bill"
        base = bare + "&limit=100"
        lo, hi = window_lo.isoformat(), window_hi.isoformat()
        range_q = query(created_at__gte=lo, created_at__lt=hi)
        desc_pos = bills[int(len(bills) * 0.1)]
        scenarios = [
            ("first page", base),
            ("deep page (90 %)", base + "&pagination_token="
             + deep_token(query(), bills[at90(bills)])),
            ("sync_status=error, first page", base + "&sync_status=error"),
            ("sync_status=error, deep page (90 %)", base + "&pagination_token="
             + deep_token(query(sync_status="error"), errors[at90(errors)])),
            ("created_at range (4 months), first page",
             base + f"&created_at__gte={lo}&created_at__lt={hi}".replace("+", "%2B")),
            ("created_at range, deep page (90 % of range)", base + "&pagination_token="
             + deep_token(range_q, in_window[at90(in_window)])),
            ("sort=updated_at, deep page (90 %)", base + "&pagination_token="
             + deep_token(query(sort="updated_at"),
                          bills_by_updated[at90(bills_by_updated)])),
            ("order=desc, deep page (90 % from the newest)", base + "&pagination_token="
             + deep_token(query(order="desc"), desc_pos)),
        ]  # fmt: skip

        # The crafted deep token continues exactly where following real tokens arrives.
        follow = (await client.get(bare + "&limit=250", headers=h)).json()
        for _ in range(4):  # pages 2..5: the fifth page starts at bill 1000
            follow = (
                await client.get(
                    f"{bare}&limit=250&pagination_token={follow['next_pagination_token']}",
                    headers=h,
                )
            ).json()
        crafted = (
            await client.get(
                base + "&pagination_token=" + deep_token(query(), bills[999]), headers=h
            )
        ).json()
        assert crafted["data"][0]["id"] == follow["data"][0]["id"], "crafted token mismatch"
        assert follow["data"][0]["id"] == str(bills[1000][1])
        print(
            f"bills: {len(bills):,}; bill errors: {len(errors):,}; bills in the range: "
            f"{len(in_window):,}; requests per scenario: {n_requests} (+20 warm-up)"
        )
        print(f"{'scenario':48} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'rows':>5}")
        plans: list[tuple[str, str, Any]] = []
        unbounded: dict[str, tuple[str, Any]] = {}
        breakdown_printed = False
        for label, path in scenarios:
            for _ in range(20):
                r = await client.get(path, headers=h)
                assert r.status_code == 200, r.text
            times = []
            log.entries.clear()
            log.on = True
            for _ in range(n_requests):
                t0 = time.perf_counter()
                r = await client.get(path, headers=h)
                times.append((time.perf_counter() - t0) * 1000)
            log.on = False
            assert r.status_code == 200 and len(r.json()["data"]) == 100, (label, r.text[:300])
            print(
                f"{label:48} {statistics.median(times):8.2f} {pct(times, 99):8.2f} "
                f"{max(times):8.2f} {len(r.json()['data']):5}"
            )
            list_sql = [e for e in log.entries if "FROM synced_records" in e[0]]
            plans.append((label, list_sql[-1][0], list_sql[-1][1]))
            if "pagination_token" in path:  # the SQL without the seek bound (before it)
                log.entries.clear()
                log.on = True
                with _no_seek_bound():
                    await client.get(path, headers=h)
                log.on = False
                old = [e for e in log.entries if "FROM synced_records" in e[0]][-1]
                unbounded[label] = (old[0], old[1])
            if not breakdown_printed:
                breakdown_printed = True
                per: dict[str, list[float]] = {}
                for sql, _params, secs in log.entries:
                    per.setdefault(_label(sql), []).append(secs * 1000)
                total = statistics.median(times)
                print(f"  statements per request ({label}): {len(log.entries) / n_requests:.1f}")
                for name, vals in per.items():
                    print(
                        f"    {name:34} x{len(vals) / n_requests:.0f}  "
                        f"p50 {statistics.median(vals):6.3f} ms "
                        f"({100 * statistics.median(vals) / total:4.1f} % of the request p50)"
                    )

        print("\nquery plans of the list queries (the SQL the endpoint ran):")
        for label, sql, params in plans:
            plan = await explain(engine, sql, params)
            print(f"- {label}:")
            shown = plan if db == "sqlite" else [p for p in plan if "Planning" not in p]
            for line in shown[:8]:
                print(f"    {line}")

        print(
            "\nkeyset forms, raw deep-page list query (no HTTP; median/p99 ms): as the endpoint "
            "runs it (paginator OR/AND + seek bound, 200 runs) | OR/AND alone, as before the "
            "bound (20 runs) | row value (a, id) > (x, y) alone (200 runs)"
        )
        for label, sql, params in plans:
            if label not in unbounded:
                continue
            a = await timed_raw(engine, sql, params, 200)
            old_sql, old_params = unbounded[label]
            b = await timed_raw(engine, old_sql, old_params, 20)
            line = (
                f"  {label:44} {statistics.median(a):6.2f}/{pct(a, 99):6.2f} | "
                f"{statistics.median(b):7.2f}/{pct(b, 99):7.2f}"
            )
            alt = row_value_form(old_sql, old_params)
            if alt:
                c = await timed_raw(engine, *alt, 200)
                line += f" | {statistics.median(c):6.2f}/{pct(c, 99):6.2f}"
            print(line)
        for label in ("deep page (90 %)", "sync_status=error, deep page (90 %)"):
            old_sql, old_params = unbounded[label]
            print(f"  plan of OR/AND alone ({label}):")
            for p in (await explain(engine, old_sql, old_params))[:6]:
                print(f"    {p}")
            alt = row_value_form(old_sql, old_params)
            if alt:
                print(f"  plan of the row value alone ({label}):")
                for p in (await explain(engine, *alt))[:6]:
                    print(f"    {p}")
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print("machine: shared 2-core box (other work may run at the same time); in-process ASGI")
    if args.db in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp(prefix="acctsync-bench-"))
        await run("sqlite", f"sqlite+aiosqlite:///{folder / 'bench.db'}", args.rows, args.requests)
        await asyncio.to_thread(shutil.rmtree, folder)
    if args.db in ("postgres", "both"):
        admin = create_engine(args.pg_url)
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
            await conn.execute(text(f"CREATE DATABASE {PG_DB}"))
        url = make_url(args.pg_url).set(database=PG_DB).render_as_string(hide_password=False)
        try:
            await run("postgres", url, args.rows, args.requests)
        finally:
            async with admin.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"))
            await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
