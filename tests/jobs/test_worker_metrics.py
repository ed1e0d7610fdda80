"""``acctsync worker --metrics-port``: a worker serves the figures of the jobs it runs
(issue 20). A worker needs PostgreSQL, so this runs on the PostgreSQL pass."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.jobs.runner import init_scheduler_store
from tests.conftest import DATABASE_URL, IS_POSTGRES, TEST_SECRET

pytestmark = pytest.mark.skipif(
    not IS_POSTGRES, reason="acctsync worker needs PostgreSQL (runs on the PostgreSQL pass)"
)
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_worker_serves_the_figures_of_its_jobs(clean_db, tmp_path: Path) -> None:
    await init_scheduler_store(clean_db)
    await asyncio.to_thread(_worker_and_scrape, tmp_path)


def _worker_and_scrape(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "ACCTSYNC_DATABASE_URL": DATABASE_URL,
        "ACCTSYNC_SECRET_KEY": TEST_SECRET,
        "ACCTSYNC_ENV": "test",
        "PYTHONPATH": str(ROOT),
    }
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "worker",
                "--metrics-port",
                str(port),
                "--metrics-host",
                "127.0.0.1",
            ],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        sweep = 'acctsync_jobs_finished_total{outcome="success",task="sweep"}'
        text = ""
        while sweep not in text:
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"no sweep counted:\n{text[-2000:]}"
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert "# TYPE acctsync_pull_runs_total counter" in text
        assert "# TYPE acctsync_provider_calls_total counter" in text
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
