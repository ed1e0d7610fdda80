"""Smarty pull: what a first pull and an unchanged pull of a large organisation cost.

Run: ``.venv/bin/python -m bench.smarty_pull [--contacts N] [--items N] [--invoices N]
[--bills N] [--database-url URL]`` (prints figures; not a test).

Smarty has no modified-since filter and no webhooks: every hourly pull reads every page (200
records a page). The figures: requests and seconds of the first pull, then of a pull of the
unchanged organisation, and how many stored rows that second pull rewrote (0 expected: each
record is compared with what is stored).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from app.db.config import upgrade_database
from app.db.engine import create_engine, create_sessionmaker
from app.db.models import PulledRecord
from tests.smarty.conftest import smarty_world_cm


async def run(args: argparse.Namespace) -> None:
    url = args.database_url
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="acctsync-bench-"))
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await asyncio.to_thread(upgrade_database, url)
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    logging.disable(logging.WARNING)
    async with smarty_world_cm(sessionmaker, database_url=url, sweep_interval=5.0) as world:
        made = await world.smarty_http.post("/_admin/organisations", json={
            "name": "Big Books Ltd", "contacts": args.contacts, "items": args.items,
            "invoices": args.invoices, "bills": args.bills, "seed": 3,
            "email": "big@books.example", "password": "big-books"})  # fmt: skip
        assert made.status_code == 201, made.text
        records = args.contacts + args.items + args.invoices + args.bills
        entity = await world.partner.create_entity("Big Books Ltd")
        stats = world.emulator.stats
        before = stats["read"]
        started = time.perf_counter()
        conn = await world.connect(entity, username="big@books.example", password="big-books")
        first_s, first_reads = time.perf_counter() - started, stats["read"] - before
        async with sessionmaker() as session:
            stamps = dict((await session.execute(
                select(PulledRecord.id, PulledRecord.updated_at))).all())  # fmt: skip
        h = world.partner.entity_headers(entity)
        before = stats["read"]
        started = time.perf_counter()
        r = await world.client.post(f"/v1/accounting_connections/{conn['id']}/sync", headers=h)
        assert r.status_code == 202, r.text

        async def again() -> bool:
            got = await world.client.get(f"/v1/accounting_connections/{conn['id']}", headers=h)
            return got.json()["last_pull"] != conn["last_pull"]

        await world.wait_for(again, limit=600.0, what="second pull")
        second_s, second_reads = time.perf_counter() - started, stats["read"] - before
        async with sessionmaker() as session:
            after = dict((await session.execute(
                select(PulledRecord.id, PulledRecord.updated_at))).all())  # fmt: skip
            stored = await session.scalar(select(func.count()).select_from(PulledRecord))
        rewritten = sum(1 for k, v in after.items() if stamps.get(k) != v)
    await engine.dispose()
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"database={database} records={records} stored={stored}")
    print(f"first pull: {first_s:.1f}s requests={first_reads} ({records / first_s:.0f} records/s)")
    print(f"unchanged pull: {second_s:.1f}s requests={second_reads} rows rewritten={rewritten}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=1_000)
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--bills", type=int, default=5_000)
    parser.add_argument("--database-url", default=None, help="a throw-away database")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
