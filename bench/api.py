"""Partner API per-request cost against a floor, same run (issue 17).

Run: ``.venv/bin/python -m bench.api [--db sqlite|postgres|both] [--seconds S] [--rounds R]
[--connections C]`` (prints figures; not a test).

Per database: a migrated database with a partner, an entity, a connection and 1,000 synced
records (``bill`` first, as ``bench.synced_records`` generates them). Two uvicorn processes
(uvloop + httptools, no access log) serve it: the service (``ACCTSYNC_ROLE=api``, no job
runner) and the anchor (``bench._api_apps.anchor_app``: a minimal Litestar app reading the same
rows straight from the driver: no auth, no ORM, no middleware). The same load generator drives
both, one after the other, A B A B for ``--rounds`` rounds:

- ``GET /v1/entities/{id}`` with a bearer token (JWT check, revocation, tenancy, one row)
  against the anchor's ``GET /one/{id}`` (one ``entities`` row by primary key);
- ``GET /v1/accounting_synced_records?object_type=bill&limit=100`` with the token and
  ``x-monite-entity-id`` against the anchor's ``GET /list/{entity_id}`` (100 rows).

Load generator: ``wrk`` (Debian package ``wrk``: ``apt-get install -y wrk``) with
``-t1 -c{C}``; when ``wrk`` is missing the bench says so and uses ``bench._api_client`` (a
Python client in its own process, heavier, so both figures are lower). Prints req/s, p50/p99
and the server's CPU per request for every run, the load average before each, and the ratio
service/anchor per round and best/best. PostgreSQL uses its own database ``acctsync_bench_api``
(created if missing, rebuilt every run) on ``--pg-url``.

Targets: the GET >= 0.35 of the one-row anchor; the 100-row list >= 0.35 of its anchor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bench.webhooks import cpu_seconds, machine, server

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-0123456789abcdef-0123456789"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/acctsync_bench_api"
ROWS = 1_000


async def prepare(url: str) -> dict[str, str]:
    """Migrate ``url``, create the partner, entity, connection and records; returns the token,
    entity id."""
    import httpx
    from sqlalchemy.engine import make_url

    from app.auth.service import create_partner
    from app.config import Settings
    from app.db.config import upgrade_database
    from app.db.engine import create_engine
    from app.db.models import AccountingConnection
    from app.server import create_app
    from bench.synced_records import generate_rows, load_postgres, load_sqlite

    await asyncio.to_thread(upgrade_database, url)
    engine = create_engine(url)
    app = create_app(Settings(database_url=url, secret_key=SECRET, env="test"), engine=engine)
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
        entity = (
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
        async with sm() as session, session.begin():
            conn = AccountingConnection(
                entity_id=uuid.UUID(entity),
                platform="xero",
                status="connected",
                provider_company_id="bench",
                provider_connection_id="bench",
                connection_url="http://link",
            )
            session.add(conn)
        rows = generate_rows(ROWS, uuid.UUID(entity), conn.id)
        rows.sort(key=lambda r: r[3] != "bill")  # 350 bills whatever the mix
        if make_url(url).get_backend_name() == "sqlite":
            await asyncio.to_thread(load_sqlite, make_url(url).database, rows)
        else:
            await load_postgres(engine, rows)
    await engine.dispose()
    return {"token": token, "entity": entity}


def reset_postgres(pg_url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(pg_url).database
    admin = make_url(pg_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def load(
    url: str, seconds: float, connections: int, headers: list[str], pid: int
) -> dict[str, Any]:
    """Drive ``url``; req/s, p50/p99 ms, non-2xx count and the server's CPU us per request."""
    cpu = cpu_seconds(pid)
    if shutil.which("wrk"):
        args = ["wrk", "-t1", f"-c{connections}", "--latency"]
        for h in headers:
            args += ["-H", h]
        subprocess.run([*args, "-d2s", url], capture_output=True, check=True)  # warm-up
        cpu = cpu_seconds(pid)
        out = subprocess.run(
            [*args, f"-d{seconds:g}s", url], capture_output=True, text=True, check=True
        ).stdout
        total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

        def ms(label: str) -> float:
            m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", out)
            value, unit = float(m.group(1)), m.group(2)  # type: ignore[union-attr]
            return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

        result = {
            "requests": total,
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50_ms": ms("50"),
            "p99_ms": ms("99"),
            "non_2xx": int(bad.group(1)) if bad else 0,
        }
    else:
        out = subprocess.run(
            [sys.executable, "-m", "bench._api_client", url, str(seconds), str(connections),
             *headers],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        result = json.loads(out.strip().splitlines()[-1])
        cpu = cpu_seconds(pid) - cpu  # includes the client's 2 s warm-up: per-request figure
        result["cpu_us"] = cpu / max(1, result["requests"]) * 1e6 * seconds / (seconds + 2)
        return result
    result["cpu_us"] = (cpu_seconds(pid) - cpu) / max(1, result["requests"]) * 1e6
    return result


def bench_database(db: str, args: argparse.Namespace, workdir: Path) -> None:
    if db == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'api.db'}"
    else:
        reset_postgres(args.pg_url)
        url = args.pg_url
    ids = asyncio.run(prepare(url))
    env = {
        **os.environ,
        "ACCTSYNC_DATABASE_URL": url,
        "ACCTSYNC_SECRET_KEY": SECRET,
        "ACCTSYNC_ROLE": "api",
        "ACCTSYNC_LOG_LEVEL": "WARNING",
        "ACCTSYNC_CODAT_BASE_URL": "http://127.0.0.1:9",
        "PYTHONPATH": str(ROOT),
    }
    auth = f"Authorization: Bearer {ids['token']}"
    scenarios = [
        ("GET one", f"/v1/entities/{ids['entity']}", [auth], f"/one/{ids['entity']}"),
        (
            "list 100",
            "/v1/accounting_synced_records?object_type=bill&limit=100",
            [auth, f"x-monite-entity-id: {ids['entity']}"],
            f"/list/{ids['entity']}",
        ),
    ]
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with (
        server("bench._api_apps:service_app", env, workdir / f"{db}-service.log", False) as svc,
        server("bench._api_apps:anchor_app", env, workdir / f"{db}-anchor.log", False) as anc,
    ):
        for name, path, headers, anchor_path in scenarios:  # the routes answer as expected
            import httpx

            h = dict(x.split(": ", 1) for x in headers)
            a = httpx.get(f"http://127.0.0.1:{svc[0]}{path}", headers=h, timeout=30)
            b = httpx.get(f"http://127.0.0.1:{anc[0]}{anchor_path}", timeout=30)
            assert a.status_code == 200 and b.status_code == 200, (name, a.text, b.text)
            if name == "list 100":
                assert len(a.json()["data"]) == 100 == len(b.json()["data"]), name
        for rnd in range(args.rounds):
            for name, path, headers, anchor_path in scenarios:
                for target, (port, pid), p, hs in (
                    ("service", svc, path, headers),
                    ("anchor", anc, anchor_path, []),
                ):
                    load_avg = os.getloadavg()[0]
                    r = load(f"http://127.0.0.1:{port}{p}", args.seconds, args.connections, hs, pid)
                    r["load"] = load_avg
                    results.setdefault((name, target), []).append(r)
                    print(
                        f"  {db:8} round {rnd + 1} {name:8} {target:7}: {r['rps']:7.0f} req/s  "
                        f"p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  "
                        f"server CPU {r['cpu_us']:6.0f} us/req  non-2xx {r['non_2xx']}  "
                        f"(load avg before {load_avg:.2f})",
                        flush=True,
                    )
    for name, *_ in scenarios:
        svc_runs, anc_runs = results[(name, "service")], results[(name, "anchor")]
        best_s = max(svc_runs, key=lambda r: r["rps"])
        best_a = max(anc_runs, key=lambda r: r["rps"])
        per_round = [s["rps"] / a["rps"] for s, a in zip(svc_runs, anc_runs, strict=True)]
        print(
            f"{db:8} {name:8}: service {best_s['rps']:,.0f} req/s (p99 {best_s['p99_ms']:.1f} ms, "
            f"{min(r['cpu_us'] for r in svc_runs):.0f} us CPU/req) vs anchor "
            f"{best_a['rps']:,.0f} req/s (p99 {best_a['p99_ms']:.1f} ms, "
            f"{min(r['cpu_us'] for r in anc_runs):.0f} us CPU/req): ratio "
            f"{best_s['rps'] / best_a['rps']:.3f} best/best; per round "
            f"{', '.join(f'{x:.3f}' for x in per_round)} (target >= 0.35)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=8.0, help="per measured run")
    parser.add_argument("--rounds", type=int, default=2, help="A B A B rounds (>= 2)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server logs)")
    args = parser.parse_args()
    load_avg = os.getloadavg()
    generator = (
        "wrk -t1"
        if shutil.which("wrk")
        else "bench._api_client (wrk not installed: "
        "`apt-get install -y wrk` for the lighter client; figures are lower)"
    )
    print(
        f"machine: {machine()}; load average {load_avg[0]:.2f} {load_avg[1]:.2f} "
        f"{load_avg[2]:.2f}; load generator {generator}, {args.connections} connections, "
        f"{args.seconds:g} s per run after 2 s warm-up, {args.rounds} rounds A B A B"
    )
    workdir = Path(tempfile.mkdtemp(prefix="acctsync-bench-api-"))
    try:
        for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
            bench_database(db, args, workdir)
    finally:
        if args.keep:
            print(f"logs kept in {workdir}")
        else:
            with contextlib.suppress(OSError):
                shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
