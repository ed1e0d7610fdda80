"""Webhook receiver throughput: the real service vs a bare Litestar insert route, over HTTP.

Run: ``.venv/bin/python -m bench.webhooks [--db sqlite|postgres|both] [--requests N]
[--concurrency C] [--repeats R]`` (prints figures; not a test).

For each database the bench starts ``uvicorn`` in a subprocess serving either the service
(``app.runtime.build_service_app``, no sandbox mounted, a fixed webhook secret; job runner
live on SQLite, ``ACCTSYNC_ROLE=api`` on PostgreSQL) or the anchor: a minimal Litestar app
whose one route reads the body and does the same single ``INSERT ... ON CONFLICT DO NOTHING
RETURNING`` into ``webhook_events`` on ONE driver connection (aiosqlite / psycopg), committing
every request (``bench._webhooks_apps.anchor_app``). ``--extra`` adds the older pooled bare
route (its connections queue on SQLite's write lock, so beating it says little), the service
without its middleware and the bare route through the receiver's group commit. A client in
another process (``bench._webhooks_client``) sends signed ``bills.write.successful`` events
with unique ids over C keep-alive connections and reports accepted requests/s and p50/p99
latency and the server's CPU per request. Each pair is run R times (service, anchor,
service, anchor, ...: A B A B) with the load average before each; the best run of each is
reported with the spread and the ratio per round. Everything is on 127.0.0.1; servers are
stopped at the end of each run.

Targets (issue 17): >= 0.90 of the anchor's accepted/s with p99 <= 1.5x the anchor's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SECRET = "whsec_" + "YmVuY2gtd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg=="
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DEFAULT_DB = "acctsync_bench"
ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
WARMUP = 300  # requests the client sends before measuring (bench._webhooks_client.WARMUP)


@dataclass
class Run:
    target: str
    accepted: int
    sent: int
    elapsed_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    load: float
    cpu_us: float  # server process CPU (user + system) per request, warm-up included

    @property
    def rate(self) -> float:
        return self.accepted / self.elapsed_s if self.elapsed_s else 0.0


def machine() -> str:
    model = "unknown cpu"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({model}), Python {sys.version.split()[0]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError("server did not start listening")


@contextlib.contextmanager
def server(
    factory: str, env: dict[str, str], log_path: Path, access_log: bool
) -> Iterator[tuple[int, int]]:
    """A uvicorn subprocess serving ``factory`` on a free port, as (port, pid); stopped
    (SIGINT, then kill) on exit."""
    port = free_port()
    cmd = [
        PYTHON, "-m", "uvicorn", "--factory", factory,
        "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--log-level", "warning",
    ]  # fmt: skip
    if not access_log:
        cmd.append("--no-access-log")
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=log)
        try:
            wait_listening(port, proc)
            yield port, proc.pid
        except Exception:
            sys.stderr.write(log_path.read_text()[-3000:])
            raise
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def drive(url: str, args: argparse.Namespace, run_id: str) -> dict[str, object]:
    cmd = [
        PYTHON, "-m", "bench._webhooks_client", url, str(args.requests),
        str(args.concurrency), str(args.time_cap), SECRET, run_id, "--client", args.client,
    ]  # fmt: skip
    out = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, check=True, timeout=args.time_cap + 120
    )
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def prepare_sqlite(workdir: Path) -> str:
    """A migrated SQLite file (copied fresh for every server start); returns its path."""
    from app.db.config import upgrade_database

    template = workdir / "template.db"
    upgrade_database(f"sqlite+aiosqlite:///{template}")
    with contextlib.closing(sqlite3.connect(template)) as conn:  # WAL -> main file, to copy it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return str(template)


def prepare_postgres(pg_url: str) -> None:
    """Create the bench database if missing and migrate it."""
    import psycopg
    from sqlalchemy.engine import make_url

    from app.db.config import upgrade_database

    name = make_url(pg_url).database
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    upgrade_database(pg_url)


def reset_postgres(pg_url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(pg_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute("TRUNCATE webhook_events")
        conn.execute("DELETE FROM apscheduler.jobs")
        conn.execute("VACUUM ANALYZE webhook_events")


def bench_database(db: str, args: argparse.Namespace, workdir: Path) -> list[Run]:
    runs: list[Run] = []
    if db == "sqlite":
        template = prepare_sqlite(workdir)
    else:
        prepare_postgres(args.pg_url)
    for rep in range(args.repeats):
        for target in args.targets:
            if db == "sqlite":
                path = workdir / f"{target}-{rep}.db"
                shutil.copy(template, path)
                url = f"sqlite+aiosqlite:///{path}"
                role = args.sqlite_role
            else:
                reset_postgres(args.pg_url)
                url = args.pg_url
                role = "api"
            env = {
                **os.environ,
                "ACCTSYNC_DATABASE_URL": url,
                "ACCTSYNC_CODAT_BASE_URL": "http://127.0.0.1:9",
                "ACCTSYNC_CODAT_WEBHOOK_SECRET": SECRET,
                "ACCTSYNC_ROLE": role,
                "ACCTSYNC_LOG_LEVEL": args.log_level,
                "PYTHONPATH": str(ROOT),
            }
            factory = f"bench._webhooks_apps:{target.replace('-', '_')}_app"
            path_ = "/v1/webhooks/codat" if target.startswith("service") else "/bare"
            log_path = workdir / f"{db}-{target}-{rep}.log"
            load = os.getloadavg()[0]
            with server(factory, env, log_path, args.access_log) as (port, pid):
                cpu = cpu_seconds(pid)
                result = drive(f"http://127.0.0.1:{port}{path_}", args, f"{db}{target}{rep}")
                cpu = cpu_seconds(pid) - cpu
            cpu_us = cpu / (int(result["sent"]) + WARMUP) * 1e6  # type: ignore[call-overload]
            run = Run(target=target, load=load, cpu_us=cpu_us, **result)  # type: ignore[arg-type]
            runs.append(run)
            print(
                f"  {db:8} {target:12} run {rep + 1}: {run.rate:7.0f} accepted/s  "
                f"p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms  max {run.max_ms:6.1f} ms  "
                f"server CPU {run.cpu_us:5.0f} us/req  "
                f"({run.accepted}/{run.sent} accepted, statuses {run.statuses}, "
                f"load avg before {load:.2f})",
                flush=True,
            )
    return runs


def summarise(db: str, runs: list[Run], targets: list[str]) -> None:
    best: dict[str, Run] = {}
    for target in targets:
        mine = [r for r in runs if r.target == target]
        top = max(mine, key=lambda r: r.rate)
        best[target] = top
        rates = sorted(r.rate for r in mine)
        print(
            f"{db:8} {target:12}: {top.rate:7.0f} accepted/s  p50 {top.p50_ms:5.1f} ms  "
            f"p99 {top.p99_ms:5.1f} ms  server CPU {min(r.cpu_us for r in mine):4.0f} us/req  "
            f"(best of {len(mine)}; accepted/s spread {rates[0]:.0f}..{rates[-1]:.0f})"
        )
    cpu = {t: min(r.cpu_us for r in runs if r.target == t) for t in targets}
    anchor = best["anchor"]
    a_ratio = best["service"].rate / anchor.rate if anchor.rate else 0.0
    a_ratios = [
        s.rate / a.rate
        for s, a in zip(
            [r for r in runs if r.target == "service"],
            [r for r in runs if r.target == "anchor"],
            strict=True,
        )
        if a.rate
    ]
    p99 = best["service"].p99_ms / anchor.p99_ms if anchor.p99_ms else 0.0
    print(
        f"{db:8} ratio service/anchor (one connection, commit per request): {a_ratio:.2f} "
        f"accepted/s best/best (per round {', '.join(f'{x:.2f}' for x in a_ratios)}; target "
        f">= 0.90); p99 {best['service'].p99_ms:.1f} vs {anchor.p99_ms:.1f} ms = {p99:.2f}x "
        f"(target <= 1.5x); server CPU per request {cpu['service']:.0f} vs "
        f"{cpu['anchor']:.0f} us"
    )
    if "bare" not in best:
        return
    ratio = best["service"].rate / best["bare"].rate if best["bare"].rate else 0.0
    ratios = [
        s.rate / b.rate
        for s, b in zip(
            [r for r in runs if r.target == "service"],
            [r for r in runs if r.target == "bare"],
            strict=True,
        )
        if b.rate
    ]
    print(
        f"{db:8} ratio service/bare (pooled, waits on the write lock): {ratio:.0%} accepted/s "
        f"(best/best; per pair {', '.join(f'{x:.0%}' for x in ratios)}); by server CPU per "
        f"request {cpu['bare'] / cpu['service']:.0%}"
    )
    if "bare-batched" in best:
        print(
            f"{db:8} ratio service/bare-batched: "
            f"{best['service'].rate / best['bare-batched'].rate:.0%} accepted/s; "
            f"by server CPU per request {cpu['bare-batched'] / cpu['service']:.0%}"
        )
    if "service-nomw" in cpu:
        print(
            f"{db:8} request-id + Prometheus middleware: "
            f"{cpu['service'] - cpu['service-nomw']:.0f} us of server CPU per request"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--requests", type=int, default=10_000, help="per run (after warm-up)")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--repeats", type=int, default=2, help="service/bare pairs per database")
    parser.add_argument("--time-cap", type=float, default=60.0, help="seconds per client run")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument(
        "--pg-url", default=f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DEFAULT_DB}"
    )
    parser.add_argument("--access-log", action="store_true", help="keep uvicorn's access log")
    parser.add_argument("--log-level", default="INFO", help="ACCTSYNC_LOG_LEVEL of the service")
    parser.add_argument(
        "--sqlite-role",
        choices=("all", "api"),
        default="all",
        help="ACCTSYNC_ROLE of the SQLite service (api: no job runner applying events)",
    )
    parser.add_argument(
        "--extra",
        action="store_true",
        help="also run the pooled bare route (bare), the service without its request-id and "
        "Prometheus middleware (service-nomw) and the bare route through the receiver's group "
        "commit (bare-batched)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server logs)")
    args = parser.parse_args()
    args.targets = ["service", "anchor"] + (
        ["bare", "service-nomw", "bare-batched"] if args.extra else []
    )

    load = os.getloadavg()
    print(f"machine: {machine()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if load[0] > 1.0:
        print("  (load average > 1: the machine is shared; figures are lower bounds)")
    print(
        f"{args.requests} requests per run after {WARMUP} warm-up, {args.concurrency} connections, "
        f"client '{args.client}' in its own process, uvicorn uvloop+httptools, access log "
        f"{'on' if args.access_log else 'off'}"
    )
    workdir = Path(tempfile.mkdtemp(prefix="acctsync-bench-webhooks-"))
    all_runs: dict[str, list[Run]] = {}
    try:
        for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
            all_runs[db] = bench_database(db, args, workdir)
    finally:
        if args.keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    for db, runs in all_runs.items():
        summarise(db, runs, args.targets)
    if any(r.load > 1.0 for runs in all_runs.values() for r in runs):
        print("note: load average was > 1 before some runs: the machine was shared")


if __name__ == "__main__":
    main()
