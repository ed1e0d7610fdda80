"""Smarty Accounting push reliability: 200 documents under faults, exactly once.

Run: ``.venv/bin/python -m bench.smarty_reliability [--documents N] [--no-kill]
[--database-url URL]`` (prints figures; not a test).

The service and the Smarty emulator run in one process (the service's real Smarty provider
talks to the emulator through an ASGI transport; the job runner is live). The emulator
answers 20% of API calls 500/503, 10% 429 (``Retry-After: 0``) and applies 10% of writes
then answers 504 (the write landed, the answer was lost). Halfway through creating the
documents the job runner is killed and a fresh one started (unless ``--no-kill``). Then every
synced record must be ``done`` and every document must exist exactly once in the books (by the
``acctsync:{synced record id}`` marker in its reference), marked sent, with its totals; no
supplier, customer or item twice.

``--database-url``: SQLite in a temporary folder by default; a PostgreSQL URL drops its
``public`` and ``apscheduler`` schemas first (use a throw-away database). The engine's waits
are shortened (retry backoff 0.5 s x 2^n capped at 5 s, polling after 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

from app.sync.push import common as push_common
from bench._database import fresh_database
from tests.smarty.conftest import smarty_world_cm
from tests.smarty.test_reliability import FAULTS, run_smarty_scenario


async def run(args: argparse.Namespace) -> None:
    push_common.RETRY_BASE, push_common.RETRY_CAP, push_common.POLL_AFTER = 0.5, 5.0, 2.0
    logging.disable(logging.WARNING)
    async with fresh_database(args.database_url) as db:
        started = time.perf_counter()
        async with smarty_world_cm(
            db.sessionmaker, database_url=db.url, sweep_interval=1.0
        ) as world:
            figures = await run_smarty_scenario(
                world,
                db.sessionmaker,
                documents=args.documents,
                restart_at=None if args.no_kill else 0.5,
                limit=args.limit,
                concurrency=args.concurrency,
            )
        wall = time.perf_counter() - started
    print(f"database={db.name} kill={'no' if args.no_kill else 'yes (in-process runner restart)'}")
    print(f"faults={FAULTS}")
    print(figures.line())
    docs = figures.documents
    ok = figures.created == docs and figures.duplicates == 0 and not figures.wrong
    print(f"exactly_once={ok} all_done={figures.done == docs} wall_with_setup={wall:.1f}s")
    for problem in figures.wrong[:10]:
        print("WRONG", problem)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--no-kill", action="store_true", help="do not restart the job runner")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--limit", type=float, default=300.0, help="seconds to wait at most")
    parser.add_argument("--concurrency", type=int, default=8, help="partner requests at once")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
