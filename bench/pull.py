"""Pull benchmark (issue 5): a generated company pulled end to end over HTTP.

Run: ``.venv/bin/python -m bench.pull [--small] [--runs N] [--pg URL|--no-pg]`` (prints
figures; not a test). Needs PostgreSQL at ``ACCTSYNC_BENCH_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/acctsync_bench_pull``, recreated each run)
for the PostgreSQL figures; without it only SQLite runs. Peak RSS is the pull process's own
(``ru_maxrss`` of `bench._pull_run`): the sandbox serves from a process of its own.

1. Starts the sandbox as a separate process (``python -m sandbox --port <random>``) and
   generates a company with ``POST /_admin/companies/generate``: 50,000 customers + 50,000
   suppliers, 10,000 items, 25,000 invoices + 25,000 bills (``--small``: a tenth).
2. Picks 1,000 of its contacts as the entity's counterparts, the way real books differ
   (upper case, legal form added or dropped, some without an address, some moved city).
3. For each database, in a fresh subprocess each (`bench._pull_run`, so ``ru_maxrss`` is the
   run's own peak): the real ``app.sync.pull.pull`` (ledger accounts, tax rates, contacts with
   matching, items with product matching and creation, invoices, bills), then an unchanged
   pull counting provider requests; and two floors: (a) on SQLite, the issue-17 floor: the
   same pages, fetched before the clock starts, decoded with the service's decoder and
   upserted with the stdlib ``sqlite3`` ``executemany`` into a WAL database, one transaction
   per page (no HTTP); (b) the same pages fetched, decoded with msgspec and bulk-inserted,
   nothing else (HTTP included, a weaker floor). Each figure ``--runs`` times (default 2),
   interleaved A B A B: best and spread, the ratio per round, the load average before each.

Targets (issue 17): on SQLite >= 0.40 of floor (a) in records/s and peak RSS < 300 MB.
Targets (issue 5): >= 5,000 records/s on SQLite, peak RSS < 500 MB, within 2x of floor (b);
the hourly pull of an unchanged company makes at most one provider request per data type.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "ACCTSYNC_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/acctsync_bench_pull"
)
HEADERS = {"Authorization": "Basic " + base64.b64encode(b"sandbox").decode()}
FULL = {"customers": 50_000, "suppliers": 50_000, "items": 10_000, "invoices": 25_000,
        "bills": 25_000}  # fmt: skip
COUNTERPARTS = 1_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_sandbox() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--public-url", base],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/_admin/platforms", headers=HEADERS, timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the sandbox did not start")


def _legal(name: str, rng: random.Random) -> str:
    words = name.split()
    if words and words[-1].rstrip(".").lower() in {"ltd", "limited", "llc", "inc", "plc", "gmbh"}:
        return " ".join(words[:-1])
    return f"{name} {rng.choice(['Ltd', 'Limited', 'LLC'])}"


def _counterparts(base: str, company: str, total: int) -> list[dict[str, Any]]:
    """``total`` counterparts resembling contacts of the company (half customers, half
    suppliers, from their first pages): case and legal form changed, a tenth without an
    address, a twentieth moved to another city."""
    rng = random.Random(7)
    out: list[dict[str, Any]] = []
    for data_type, key in (("customers", "customerName"), ("suppliers", "supplierName")):
        page = httpx.get(
            f"{base}/companies/{company}/data/{data_type}",
            params={"page": 1, "pageSize": 5000},
            headers=HEADERS,
            timeout=60,
        ).json()["results"]
        for contact in rng.sample(page, total // 2):
            name = _legal(contact[key], rng)
            name = name.upper() if rng.random() < 0.5 else name
            row: dict[str, Any] = {"name": name, "customer": data_type == "customers"}
            address = (contact.get("addresses") or [{}])[0]
            roll = rng.random()
            if roll > 0.1 and len(address.get("country") or "") == 2:
                row.update(
                    country=address["country"].upper(),
                    city="Elsewhere" if roll > 0.95 else address.get("city"),
                    line1=address.get("line1"),
                    postal_code=address.get("postalCode"),
                )
            out.append(row)
    return out


def _warm(base: str, company: str) -> None:
    """Read every page once, unmeasured, so that no measured run pays the sandbox's first
    encoding of a page (it caches encoded records)."""
    for data_type in ("accounts", "taxRates", "customers", "suppliers", "items", "invoices",
                      "bills"):  # fmt: skip
        page = 1
        while True:
            body = httpx.get(
                f"{base}/companies/{company}/data/{data_type}",
                params={"page": page, "pageSize": 5000},
                headers=HEADERS,
                timeout=120,
            ).json()
            if page * 5000 >= body["totalResults"]:
                break
            page += 1


def _run(mode: str, db: str, base: str, company: str, names: str | None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench._pull_run", mode, "--db", db, "--base", base,
           "--company", company]  # fmt: skip
    if names:
        cmd += ["--names", names]
    load = os.getloadavg()[0]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{mode} on {db} failed")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "load": load}


def _pg_reachable(url: str) -> bool:
    try:
        import psycopg

        admin = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
        with psycopg.connect(f"{admin}/postgres", connect_timeout=3):
            return True
    except Exception:
        return False


def _spread(values: list[float]) -> str:
    return f"best {max(values):,.0f}, spread {min(values):,.0f}-{max(values):,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="a tenth of the company")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    spec = {k: v // 10 for k, v in FULL.items()} if args.small else FULL

    proc, base = _start_sandbox()
    try:
        started = time.perf_counter()
        company = httpx.post(
            f"{base}/_admin/companies/generate",
            json={**spec, "seed": 1, "name": "Bench"},
            headers=HEADERS,
            timeout=600,
        ).json()["id"]
        print(f"sandbox pid {proc.pid} at {base}; company {spec} generated in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        _warm(base, company)
        names = _counterparts(base, company, min(COUNTERPARTS, spec["customers"]))
        names_file = Path(tempfile.mkdtemp(prefix="acctsync-bench-")) / "counterparts.json"
        names_file.write_text(json.dumps(names))
        print(f"entity counterparts: {len(names)}")

        dbs = ["sqlite"]
        if not args.no_pg and _pg_reachable(PG_URL):
            dbs.append(PG_URL)
        elif not args.no_pg:
            print(f"PostgreSQL not reachable at {PG_URL}: SQLite only")
        for db in dbs:
            label = "SQLite" if db == "sqlite" else "PostgreSQL"
            pulls, floors, locals_ = [], [], []
            for _ in range(args.runs):  # interleaved, so that load from elsewhere hits both
                pulls.append(_run("pull", db, base, company, str(names_file)))
                if db == "sqlite":
                    locals_.append(_run("floor-local", db, base, company, None))
                floors.append(_run("floor", db, base, company, None))
                print(
                    f"  {label} round {len(pulls)}: pull {pulls[-1]['records_per_s']:,} rec/s "
                    f"(load avg before {pulls[-1]['load']:.2f}, peak RSS "
                    f"{pulls[-1]['peak_rss_mb']:.0f} MB, RSS after the pull "
                    f"{pulls[-1].get('rss_after_mb', 0):.0f} MB, before it "
                    f"{pulls[-1].get('rss_start_mb', 0):.0f} MB)"
                    + (
                        f"; decode+executemany floor {locals_[-1]['records_per_s']:,} rec/s "
                        f"(load {locals_[-1]['load']:.2f}): ratio "
                        f"{pulls[-1]['records_per_s'] / locals_[-1]['records_per_s']:.2f}"
                        if locals_
                        else ""
                    )
                    + f"; HTTP floor {floors[-1]['records_per_s']:,} rec/s",
                    flush=True,
                )
            best, floor = (
                min(pulls, key=lambda r: r["wall_s"]),
                min(floors, key=lambda r: r["wall_s"]),
            )
            print(f"\n== {label} ==")
            print(f"pull : {best['records']:,} records in {best['wall_s']:.1f} s wall "
                  f"(runs: {', '.join(str(r['wall_s']) for r in pulls)} s); "
                  f"records/s {_spread([r['records_per_s'] for r in pulls])}; "
                  f"peak RSS {max(r['peak_rss_mb'] for r in pulls):.0f} MB")  # fmt: skip
            print(f"floor: {floor['records']:,} records in {floor['wall_s']:.1f} s wall "
                  f"(runs: {', '.join(str(r['wall_s']) for r in floors)} s); "
                  f"records/s {_spread([r['records_per_s'] for r in floors])}; "
                  f"peak RSS {max(r['peak_rss_mb'] for r in floors):.0f} MB")  # fmt: skip
            print(f"pull / floor wall time: {best['wall_s'] / floor['wall_s']:.2f}x "
                  "(target <= 2x)")  # fmt: skip
            if locals_:
                local = max(locals_, key=lambda r: r["records_per_s"])
                print(f"decode + stdlib sqlite3 executemany floor (no HTTP): "
                      f"{local['records']:,} records, "
                      f"records/s {_spread([r['records_per_s'] for r in locals_])}")  # fmt: skip
                ratios = [
                    p["records_per_s"] / f["records_per_s"]
                    for p, f in zip(pulls, locals_, strict=True)
                ]
                print(f"pull / decode+executemany floor, records/s: "
                      f"{best['records_per_s'] / local['records_per_s']:.2f} best/best; per "
                      f"round {', '.join(f'{r:.2f}' for r in ratios)} (target >= 0.40); "
                      f"peak RSS {max(r['peak_rss_mb'] for r in pulls):.0f} MB "
                      "(target < 300)")  # fmt: skip
            print(f"first pull per data type: {best['first_pull']}")
            print(f"first pull provider requests: {best['first_requests']}")
            print(f"synced records: {best['synced_records']}")
            print(f"unchanged pull: {best['unchanged_pull']} in {best['unchanged_wall_s']} s")
            print(f"unchanged pull provider requests per data type: "
                  f"{best['unchanged_requests']} (target <= 1 each)")  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
