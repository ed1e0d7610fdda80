"""Push reliability: 1,000 payables and 1,000 receivables under faults, exactly once.

Run: ``.venv/bin/python -m bench.push_reliability [--payables N] [--receivables N] [--kill]
[--database-url URL]`` (prints figures; not a test).

The service and the sandbox run in one process (as the e2e ``world`` fixture: the service's
real Codat client talks to the sandbox through an ASGI transport, the sandbox's webhooks reach
the service's receiver the same way, the job runner is live). The sandbox injects, for the
company: 20% 5xx, 10% 429 (``Retry-After: 1``), 10% push timeouts (80% of which still write
the record), 20% duplicated webhooks and reordered webhooks. Then every synced record must be
``done`` and every document must exist exactly once in the sandbox (found by the
``acctsync:{synced record id}`` marker in its note) with the right amounts, lines, tax and
ledger/item refs; suppliers, customers and items must not be duplicated either.

``--kill``: halfway through creating the documents the job runner is stopped (running push
jobs are cancelled where they stand, queued jobs and retry schedules are lost) and a fresh one
is started in the same process, as a restarted worker would; only the tables say what is left.

``--database-url``: SQLite in a temporary folder by default; a PostgreSQL URL
(``postgresql+psycopg://...``) runs on PostgreSQL (its ``public`` and ``apscheduler`` schemas are
DROPPED first: use a throw-away database).

The engine's waits are shortened for a run of minutes (automatic retry backoff 0.5 s x 2^n capped
at 5 s instead of 30 s x 2^n capped at 1 h; polling an unsettled push after 2 s instead of
10 s); the provider client retries 5xx/429 itself with 10-50 ms backoffs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

from app.sync.push import common as push_common
from bench._database import fresh_database
from tests.e2e.test_push_reliability import FAULTS, one_loop_world, run_scenario


async def run(args: argparse.Namespace) -> None:
    push_common.RETRY_BASE, push_common.RETRY_CAP, push_common.POLL_AFTER = 0.5, 5.0, 2.0
    logging.disable(logging.WARNING)  # the faults make the client log every retry
    faults = {**FAULTS, "retry_after": 1}
    async with (
        fresh_database(args.database_url) as db,
        one_loop_world(db.url, db.sessionmaker, sweep_interval=1.0) as world,
    ):
        started = time.perf_counter()
        figures = await run_scenario(
            world,
            db.sessionmaker,
            payables=args.payables,
            receivables=args.receivables,
            faults=faults,
            restart_at=0.5 if args.kill else None,
            limit=args.limit,
        )
        wall = time.perf_counter() - started
    print(f"database={db.name} kill={'yes (in-process runner restart)' if args.kill else 'no'}")
    print(f"faults={faults}")
    print(figures.line())
    docs = figures.payables + figures.receivables
    print(
        f"exactly_once={figures.created == docs and figures.duplicates == 0 and not figures.wrong}"
        f" all_done={figures.done == docs} docs_per_s={docs / figures.seconds:.1f}"
        f" wall_with_setup={wall:.1f}s"
    )
    for problem in figures.wrong[:10]:
        print("WRONG", problem)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payables", type=int, default=1000)
    parser.add_argument("--receivables", type=int, default=1000)
    parser.add_argument("--kill", action="store_true", help="restart the job runner mid-run")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--limit", type=float, default=420.0, help="seconds to wait at most")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.ERROR)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
