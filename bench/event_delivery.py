"""Event delivery under faults: every event reaches the partner's webhook receiver, in order.

Run: ``.venv/bin/python -m bench.event_delivery [--payables N] [--receivables N] [--no-kill]
[--retry-after S] [--database-url URL]`` (prints figures; not a test).

The push reliability scenario (``bench.push_reliability``: the service and the Codat
sandbox in one process, 1,000 documents pushed under the sandbox's faults, the job runner
killed and restarted halfway) runs with three webhook subscriptions (``payable``,
``receivable``, ``accounting_synced_record``) pointing at a receiver on loopback
(``bench/event_receiver.py``) that verifies each signature with the ``standardwebhooks``
library and answers 30% of the requests with a 503, 10% with a 429 (``Retry-After``, 1 s by
default) and 10% too late (it processes them, the sender times out after 0.25 s). Printed:
events expected (every event of those types written after the subscriptions), delivered
(processed at least once), duplicated (processed again), missing, whether each
subscription's successes arrived in sequence order, and the p50/p99 delay from an event's
commit to its first processing.

Delivery knobs are shortened for a run of minutes: retries after 0.05 s x 2^n capped at 1 s
(instead of 5 s x 2^n capped at 1 h). ``--database-url``: as ``bench.push_reliability`` (a
PostgreSQL URL's ``public`` and ``apscheduler`` schemas are DROPPED first).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

from sqlalchemy import select

from app.db.models import Event
from app.sync.push import common as push_common
from bench._database import fresh_database
from bench.event_receiver import Faults, Receiver
from tests.e2e.test_push_reliability import FAULTS, one_loop_world, run_scenario

OBJECT_TYPES = ("payable", "receivable", "accounting_synced_record")
KNOBS = {"webhook_timeout": 0.25, "webhook_retry_base": 0.05, "webhook_retry_cap": 1.0}


async def run(args: argparse.Namespace) -> None:
    push_common.RETRY_BASE, push_common.RETRY_CAP, push_common.POLL_AFTER = 0.5, 5.0, 2.0
    logging.disable(logging.WARNING)
    faults = Faults(0.3, 0.1, 0.1, retry_after=args.retry_after, timeout_sleep=0.5)
    receiver = Receiver(faults=faults)
    await receiver.start_in_thread()
    async with (
        fresh_database(args.database_url) as db,
        one_loop_world(db.url, db.sessionmaker, sweep_interval=1.0) as world,
    ):
        world.service.state.jobs.context.extras.update(KNOBS)
        secrets = {}
        for object_type in OBJECT_TYPES:
            r = await world.client.post(
                "/v1/webhook_subscriptions",
                headers=world.partner.headers,
                json={"object_type": object_type, "url": receiver.url},
            )
            assert r.status_code == 201, r.text
            secrets[r.json()["id"]] = r.json()["secret"]
        receiver.secrets = secrets
        started = time.monotonic()
        push = await run_scenario(
            world,
            db.sessionmaker,
            payables=args.payables,
            receivables=args.receivables,
            faults={**FAULTS, "retry_after": 1},
            restart_at=None if args.no_kill else 0.5,
            limit=args.limit,
        )
        async with db.sessionmaker() as session:
            rows = (
                await session.scalars(select(Event).where(Event.object_type.in_(OBJECT_TYPES)))
            ).all()
        expected = {str(e.id): (e.sequence, e.created_at.timestamp()) for e in rows}
        deadline = time.monotonic() + args.limit
        while time.monotonic() < deadline:
            if len({p[1] for p in receiver.processed} & set(expected)) >= len(expected):
                break
            await asyncio.sleep(0.5)
        seconds = time.monotonic() - started
    await receiver.stop()
    figures = receiver.figures(expected)
    print(
        f"database={db.name} documents={args.payables + args.receivables} "
        f"kill={'no' if args.no_kill else 'yes (job runner restarted halfway)'} "
        f"receiver=30% 503, 10% 429 (Retry-After {args.retry_after}), 10% timeouts"
    )
    print(f"push: {push.line()}")
    print(
        f"events: expected={figures['expected']} delivered={figures['delivered']} "
        f"duplicated={figures['duplicated']} missing={figures['missing']} "
        f"order_kept={figures['order_kept']} bad_signatures={figures['bad_signatures']}"
    )
    print(
        f"delay from commit to first processing: p50={figures['p50_s']:.2f}s "
        f"p99={figures['p99_s']:.2f}s; requests={figures['requests']} "
        f"answers={figures['answers']} late_answers={receiver.slow} wall={seconds:.0f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payables", type=int, default=500)
    parser.add_argument("--receivables", type=int, default=500)
    parser.add_argument("--no-kill", action="store_true", help="do not restart the runner")
    parser.add_argument("--retry-after", default="1", help="the receiver's Retry-After (s)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--limit", type=float, default=900.0, help="seconds to wait at most")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
