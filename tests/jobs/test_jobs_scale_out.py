"""Scale-out on PostgreSQL (issue 5): two ``acctsync worker`` processes and the sandbox
provider as real subprocesses, 20 connected connections, a 5-second pull interval.

What is counted: every pull job logs ``pull start`` and then ``pull done`` (or ``skipped``:
another pull of the connection was running, so it was put after it) with its connection, the
schedule that fired it and that fire's scheduled time (``app.tasks.pull_connection``);
the test reads the workers' logs. "Exactly once per period" means: each fire of a
connection's schedule is run by exactly one worker, and consecutive fires of a connection are
one interval apart (a missed period would show two, a doubled one zero).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest
from sqlalchemy import text

from app.crypto import SecretBox
from app.db.models import AccountingConnection, Entity, Partner, PartnerSettings
from app.jobs.runner import init_scheduler_store
from tests.conftest import DATABASE_URL, IS_POSTGRES, TEST_SECRET

pytestmark = pytest.mark.skipif(
    not IS_POSTGRES,
    reason="scale-out needs PostgreSQL: on SQLite the service runs one process with an "
    "in-memory scheduler store, so there is nothing to share between workers",
)

ROOT = Path(__file__).parents[2]
INTERVAL = 5.0  # ACCTSYNC_PULL_INTERVAL_SECONDS (well above a pull's time on a busy machine)
JITTER = INTERVAL / 10  # max_jitter of each fire (runner.ensure_pull_schedule)
LEASE = 4  # ACCTSYNC_JOB_LEASE_SECONDS: a killed worker's jobs go to the other after this
CONNECTIONS = 20
SANDBOX_KEY = "sandbox"

LINE = re.compile(
    r"pull (?P<what>start|done|skipped|failed) connection=(?P<conn>\S+) "
    r"schedule=(?P<schedule>\S+) fire=(?P<fire>\S+) attempt=\d+ pid=(?P<pid>\d+)"
)


@dataclass(frozen=True)
class Event:
    what: str
    conn: str
    schedule: str
    fire: str
    pid: int
    at: float  # when it was logged (epoch seconds)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    """A subprocess with its output in a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.log_path = folder / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(wait)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._log.close()


def _logged(line: str) -> tuple[str, float] | None:
    """``(message, epoch seconds)`` of one log line: the workers log JSON lines (``ts``,
    ``message``; ``app.logs`` off a terminal)."""
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
        ts = dt.datetime.fromisoformat(record["ts"].replace("Z", "+00:00")).timestamp()
        return str(record["message"]), ts
    except (ValueError, KeyError, TypeError):
        return None


def events(*procs: Proc) -> list[Event]:
    found = []
    for proc in procs:
        for line in proc.text().splitlines():
            logged = _logged(line)
            m = LINE.search(logged[0]) if logged else None
            if logged and m:
                found.append(
                    Event(m["what"], m["conn"], m["schedule"], m["fire"], int(m["pid"]), logged[1])
                )
    return found


def scheduled_fires(evs: list[Event], since: float = 0.0) -> dict[str, list[Event]]:
    """Per connection, the first run of each fire of its interval schedule, by fire time."""
    first: dict[tuple[str, str], Event] = {}
    for e in evs:
        if e.what == "start" and e.schedule == f"pull:{e.conn}" and e.at >= since:
            first.setdefault((e.conn, e.fire), e)
    per: dict[str, list[Event]] = defaultdict(list)
    for e in first.values():
        per[e.conn].append(e)
    for lst in per.values():
        lst.sort(key=lambda e: e.fire)
    return per


def fire_gaps(fired: list[Event]) -> list[float]:
    fires = [dt.datetime.fromisoformat(e.fire) for e in fired]
    return [(b - a).total_seconds() for a, b in itertools.pairwise(fires)]


def assert_once_per_period(per: dict[str, list[Event]], conns: set[str], what: str) -> None:
    for conn in conns:
        gaps = fire_gaps(per.get(conn, []))
        assert gaps, f"{what}: connection {conn} pulled fewer than twice"
        # one interval apart, give or take the jitter: no period missed, none doubled
        assert all(INTERVAL - JITTER - 0.01 <= g <= INTERVAL + JITTER + 0.01 for g in gaps), (
            what,
            conn,
            gaps,
        )


def fire_time(e: Event) -> float:
    """The scheduled fire time (epoch seconds); 0 for a job added without a schedule."""
    return 0.0 if e.fire == "-" else dt.datetime.fromisoformat(e.fire).timestamp()


def fired_at_least(per: dict[str, list[Event]], conns: set[str], n: int) -> bool:
    return all(len(per.get(c, [])) >= n for c in conns)


def pulled(evs: list[Event], since: float, pids: set[int]) -> set[str]:
    """Connections with a pull completed by one of ``pids`` since ``since``."""
    return {e.conn for e in evs if e.what == "done" and e.at >= since and e.pid in pids}


async def wait_until(check, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def worker_command() -> list[str]:
    script = Path(sys.executable).parent / "acctsync"
    if script.exists():
        return [str(script), "worker"]
    found = shutil.which("acctsync")
    return [found, "worker"] if found else [sys.executable, "-m", "app.cli", "worker"]


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[dict[str, Proc]]:
    """Started subprocesses by name; every one is stopped at the end, whatever happens."""
    started: dict[str, Proc] = {}
    yield started
    for proc in reversed(started.values()):  # the workers, then the provider
        proc.stop()


async def seed_connections(sessionmaker, companies: list[str]) -> tuple[object, list[str]]:
    now = dt.datetime.now(dt.UTC)
    ids = []
    async with sessionmaker() as session, session.begin():
        partner = Partner(name="Scale-out partner")
        session.add(partner)
        await session.flush()
        session.add(
            PartnerSettings(
                partner_id=partner.id,
                provider="codat",
                provider_token_encrypted=SecretBox(TEST_SECRET).encrypt(SANDBOX_KEY),
            )
        )
        for i in range(CONNECTIONS):
            entity = Entity(
                partner_id=partner.id,
                type="organization",
                legal_name=f"Entity {i}",
                currency="GBP",
                address={},
            )
            session.add(entity)
            await session.flush()
            conn = AccountingConnection(
                entity_id=entity.id,
                platform="xero",
                status="connected",
                provider_company_id=companies[i % len(companies)],
                connection_url="http://link",
                # pulled some time in the last interval: the schedules keep these phases
                last_pull=now - dt.timedelta(seconds=random.uniform(0, INTERVAL)),
            )
            session.add(conn)
            await session.flush()
            ids.append(str(conn.id))
    return partner.id, ids


async def scheduler_pull_schedules(engine) -> list[str]:
    """The interval pull schedules in the scheduler's store, sorted."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT id FROM apscheduler.schedules WHERE id LIKE 'pull:%' ORDER BY id")
        )
        return [r[0] for r in rows]


async def test_two_workers_pull_each_connection_once_per_period_survive_a_kill_and_reconcile(
    clean_db, sessionmaker, procs: dict[str, Proc], tmp_path: Path
) -> None:
    # --- the provider: the sandbox alone, every API answer 50 ms late (a pull is > 0.35 s) ---
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCTSYNC_")}
    sandbox_args = ["--port", str(port), "--seed-examples", "--latency-ms", "50"]
    procs["sandbox"] = Proc(
        "sandbox", [sys.executable, "-m", "sandbox", *sandbox_args], env, tmp_path
    )
    auth = {"Authorization": "Basic " + base64.b64encode(SANDBOX_KEY.encode()).decode()}
    async with httpx.AsyncClient(base_url=base_url, headers=auth, timeout=5) as http:
        deadline = time.monotonic() + 20
        while True:
            try:
                r = await http.get("/companies", params={"pageSize": 100})
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert procs["sandbox"].popen.poll() is None, procs["sandbox"].text()[-2000:]
            assert time.monotonic() < deadline, "sandbox did not start"
            await asyncio.sleep(0.1)
    companies = [c["id"] for c in r.json()["results"]]
    assert len(companies) >= 10

    partner_id, connections = await seed_connections(sessionmaker, companies)
    await init_scheduler_store(clean_db)  # what `acctsync db upgrade` does, before any worker

    worker_env = {
        **env,
        "ACCTSYNC_DATABASE_URL": DATABASE_URL,
        "ACCTSYNC_SECRET_KEY": TEST_SECRET,
        "ACCTSYNC_ENV": "test",
        "ACCTSYNC_CODAT_BASE_URL": base_url,
        "ACCTSYNC_PULL_INTERVAL_SECONDS": str(int(INTERVAL)),
        "ACCTSYNC_JOB_LEASE_SECONDS": str(LEASE),
        "ACCTSYNC_LOG_LEVEL": "INFO",
    }
    procs["w1"] = Proc("w1", worker_command(), worker_env, tmp_path)
    procs["w2"] = Proc("w2", worker_command(), worker_env, tmp_path)
    w1, w2 = procs["w1"], procs["w2"]
    for w in (w1, w2):
        await wait_until(
            lambda w=w: "worker started" in w.text() or w.popen.poll() is not None,
            30,
            f"{w.name} to start",
        )
        assert w.popen.poll() is None, w.text()[-3000:]
    all_conns = set(connections)

    # --- 1. both workers: every connection pulled once per period, the work shared -------
    t0 = time.time()
    await wait_until(
        lambda: fired_at_least(scheduled_fires(events(w1, w2), since=t0), all_conns, 3),
        4 * INTERVAL + 15,
        "three fires of every schedule",
    )
    evs = events(w1, w2)
    phase1 = scheduled_fires(evs, since=t0)
    assert_once_per_period(phase1, all_conns, "two workers")
    assert {e.pid for lst in phase1.values() for e in lst} == {w1.pid, w2.pid}, "work shared"
    assert pulled(evs, t0, {w1.pid, w2.pid}) == all_conns

    # --- 2. SIGKILL one worker while it is in the middle of pulls ------------------------
    def in_flight(proc: Proc) -> set[tuple[str, str]]:
        evs = [e for e in events(proc) if e.pid == proc.pid]
        started = {(e.conn, e.fire) for e in evs if e.what == "start"}
        return started - {(e.conn, e.fire) for e in evs if e.what != "start"}

    await wait_until(lambda: len(in_flight(w1)) >= 2, 10, "w1 to have pulls in flight")
    w1.popen.send_signal(signal.SIGKILL)
    w1.popen.wait(5)
    t_kill = time.time()
    lost = in_flight(w1)  # read after the kill: what w1 really left unfinished
    assert lost

    def survivor_took_over() -> bool:
        evs = events(w1, w2)
        rerun = {(e.conn, e.fire) for e in evs if e.pid == w2.pid and e.what != "start"}
        later = {
            e.conn
            for e in evs
            if e.pid == w2.pid and e.what == "start" and fire_time(e) > t_kill + LEASE
        }
        return lost <= rerun and later == all_conns and pulled(evs, t_kill, {w2.pid}) == all_conns

    await wait_until(survivor_took_over, LEASE + 3 * INTERVAL + 15, "the survivor to take over")
    evs = events(w1, w2)
    rerun = {(e.conn, e.fire): e for e in evs if e.pid == w2.pid and e.what != "start"}
    # every pull job the killed worker had in hand is run again by the other one (once its
    # lease ran out): finished, or put after a pull of the same connection running there
    assert lost <= set(rerun), (lost, "not run again")
    assert {rerun[k].what for k in lost} <= {"done", "skipped"}
    # and every connection keeps being pulled, by the survivor alone
    after_kill = scheduled_fires(evs, since=t_kill + 0.1)
    assert {e.pid for lst in after_kill.values() for e in lst} == {w2.pid}
    assert pulled(evs, t_kill, {w2.pid}) == all_conns

    # --- 3. the truth changes while one worker runs; a restarted worker reconciles -------
    gone, lost_schedule = connections[:2], connections[2]
    async with clean_db.begin() as conn:
        await conn.execute(
            text("UPDATE accounting_connections SET status = 'disconnected' WHERE id IN (:a, :b)"),
            {"a": gone[0], "b": gone[1]},
        )
        # a schedule lost from the scheduler's store (the tables are the truth)
        await conn.execute(
            text("DELETE FROM apscheduler.schedules WHERE id = :id"),
            {"id": f"pull:{lost_schedule}"},
        )
    async with sessionmaker() as session, session.begin():
        entity = Entity(
            partner_id=partner_id,
            type="organization",
            legal_name="Entity new",
            currency="GBP",
            address={},
        )
        session.add(entity)
        await session.flush()
        new = AccountingConnection(
            entity_id=entity.id,
            platform="xero",
            status="connected",
            provider_company_id=companies[0],
            connection_url="http://link",
        )
        session.add(new)
        await session.flush()
        new_id = str(new.id)
    connected = (all_conns - set(gone)) | {new_id}

    procs["w1b"] = Proc("w1b", worker_command(), worker_env, tmp_path)
    w1b = procs["w1b"]
    await wait_until(
        lambda: "worker started" in w1b.text() or w1b.popen.poll() is not None,
        30,
        "the restarted worker",
    )
    assert w1b.popen.poll() is None, w1b.text()[-3000:]
    t_restart = time.time()
    # one schedule per connected connection: the lost one back, the new one added, the
    # disconnected ones gone, none twice
    assert await scheduler_pull_schedules(clean_db) == sorted(f"pull:{c}" for c in connected)

    def settled() -> bool:
        evs = events(w1, w2, w1b)
        return fired_at_least(
            scheduled_fires(evs, since=t_restart), connected, 2
        ) and connected <= pulled(evs, t_restart, {w2.pid, w1b.pid})

    await wait_until(settled, 3 * INTERVAL + 15, "two fires of every schedule after restart")
    evs = events(w1, w2, w1b)
    final = scheduled_fires(evs, since=t_restart)
    assert_once_per_period(final, connected - {new_id}, "after the restart")
    assert {e.pid for lst in final.values() for e in lst} == {w2.pid, w1b.pid}
    assert connected <= pulled(evs, t_restart, {w2.pid, w1b.pid})
    assert final.get(new_id), "the new connection is pulled on its schedule"
    # the disconnected ones: no pull started once the restart reconciled
    assert not [e for e in evs if e.conn in gone and fire_time(e) > t_restart]

    # --- throughout: no fire ran twice, except the jobs the killed worker had in hand (in
    # flight, or finished in the instant before its death, before their release: run again
    # by design, at least once, and a pull is an idempotent upsert) -------------------------
    runs: dict[tuple[str, str, str], list[Event]] = defaultdict(list)
    for e in evs:
        if e.what == "start":
            runs[(e.conn, e.schedule, e.fire)].append(e)
    for (conn, _schedule, fire), started in runs.items():
        if len(started) > 1:
            assert len(started) == 2, started
            first = min(started, key=lambda e: e.at)
            assert first.pid == w1.pid and t_kill - first.at < 2 * INTERVAL, started
            w1_done = [
                e.at
                for e in evs
                if e.pid == w1.pid and e.what == "done" and (e.conn, e.fire) == (conn, fire)
            ]
            assert (conn, fire) in lost or (w1_done and t_kill - max(w1_done) < 0.5), started
    assert await scheduler_pull_schedules(clean_db) == sorted(f"pull:{c}" for c in connected)
