"""``acctsync serve`` as a real process: it starts, stops on SIGINT/SIGTERM within a bound
every time (also while pulls run), and on a busy port exits at once with a clear message and
a non-zero status (issue 15: shutdown hung in asyncio's final task cancellation)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Seconds a stop may take (a hang is for ever; a clean stop takes about one).
STOP_BOUND = 20.0
START_BOUND = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "ACCTSYNC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'acctsync.db'}",
        "ACCTSYNC_ENV": "development",
        "ACCTSYNC_LOG_LEVEL": "INFO",
    }
    env.pop("ACCTSYNC_CODAT_BASE_URL", None)
    # No ACCTSYNC_PUBLIC_URL: `serve --port P` alone must point the embedded sandbox (its
    # link page, the pulls) at port P, not at the default 8000.
    env.pop("ACCTSYNC_PUBLIC_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_live(proc: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + START_BOUND
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early ({proc.returncode}):\n{proc.stdout.read()}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"{base}/health/live", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("serve did not come up")


def _stop(proc: subprocess.Popen[str], sig: int) -> str:
    started = time.monotonic()
    proc.send_signal(sig)
    try:
        out, _ = proc.communicate(timeout=STOP_BOUND)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(
            f"serve outlived {STOP_BOUND}s after {signal.Signals(sig).name}:\n{out[-3000:]}"
        ) from None
    assert proc.returncode == 0, out[-3000:]
    assert time.monotonic() - started < STOP_BOUND
    return out


def http_sync(base: str, h: dict[str, str], conn_id: str) -> int:
    return httpx.post(f"{base}/v1/accounting_connections/{conn_id}/sync", headers=h).status_code


def _busy_connection(base: str, tmp_path: Path) -> tuple[dict[str, str], str]:
    """A partner, an entity connected to Xero's example company, and pulls running."""
    env = {**os.environ, "ACCTSYNC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'acctsync.db'}"}
    made = subprocess.run(
        [sys.executable, "-m", "app.cli", "partner", "create", "--name", "Lifecycle"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    creds = dict(line.split("=", 1) for line in made.splitlines() if "=" in line)
    with httpx.Client(base_url=base, timeout=10.0) as http:
        token = http.post(
            "/v1/auth/token",
            json={
                "grant_type": "client_credentials",
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
            },
        ).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        assert (
            http.patch(
                "/v1/settings",
                headers=h,
                json={"accounting": {"provider": "codat", "token": "sandbox"}},
            ).status_code
            == 200
        )
        entity = http.post(
            "/v1/entities",
            headers=h,
            json={
                "type": "organization",
                "organization": {"legal_name": "Acme Ltd"},
                "currency": "GBP",
                "address": {"country": "GB", "city": "London", "line1": "1 High St"},
            },
        ).json()["id"]
        h["x-monite-entity-id"] = entity
        conn = http.post("/v1/accounting_connections", headers=h, json={"platform": "xero"})
        assert conn.status_code == 201, conn.text
        page = http.get(conn.json()["connection_url"])
        action = re.search(r"action='([^']*/authorize)'", page.text)
        assert action, page.text
        http.post(action.group(1))  # authorised: the first pull starts right away
        return h, conn.json()["id"]


def _healthy_after_a_pull(base: str, h: dict[str, str], conn_id: str) -> None:
    """The restarted service's sandbox kept the company (``./var/sandbox-state.json``)."""
    with httpx.Client(base_url=base, timeout=10.0) as http:
        url = f"/v1/accounting_connections/{conn_id}"
        deadline = time.monotonic() + 30
        while http.get(url, headers=h).json()["last_pull"] is None:  # the first pull, if cut
            assert time.monotonic() < deadline, "no first pull"
            time.sleep(0.2)
        before = http.get(f"{url}/sync_status", headers=h).json()["data"][0]["last_attempt_at"]
        assert http.post(f"{url}/sync", headers=h).status_code == 202
        while True:
            status = http.get(f"{url}/sync_status", headers=h).json()
            if all(d["last_attempt_at"] > before for d in status["data"]):
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        assert status["healthy"] is True, status
        assert http.get(url, headers=h).json()["errors"] is None


def test_serve_stops_cleanly_every_time_and_refuses_a_busy_port(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    for run, sig in enumerate((signal.SIGINT, signal.SIGTERM, signal.SIGINT, signal.SIGTERM)):
        proc = _start(tmp_path, port)
        _wait_live(proc, base)
        if run == 0:
            h, conn_id = _busy_connection(base, tmp_path)  # stopped while its first pull runs
        elif run == 1:
            _healthy_after_a_pull(base, h, conn_id)
        elif run == 2:
            assert http_sync(base, h, conn_id) == 202
            time.sleep(0.2)  # stopped while that pull runs
        out = _stop(proc, sig)
        assert "Traceback" not in out, out[-3000:]

    # a busy port: a clear message and a non-zero exit, at once
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", port))
        taken.listen()
        proc = _start(tmp_path, port)
        try:
            out, _ = proc.communicate(timeout=STOP_BOUND)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"serve on a busy port did not exit within {STOP_BOUND}s")
    assert proc.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in out and "in use" in out, out[-2000:]
    assert "Traceback" not in out


def test_demo_exits_within_a_bound_every_time(tmp_path: Path) -> None:
    """The demo serves the embedded service in its own event loop, pulls and pushes, and
    must then exit (it once hung after its summary)."""
    for _ in range(2):
        started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "app.cli", "demo"],
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                capture_output=True,
                text=True,
                timeout=120,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"the demo outlived 120 s:\n{str(exc.stdout)[-3000:]}") from None
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        assert time.monotonic() - started < 120
