"""A bounded schemathesis run over the service's own OpenAPI document.

The service runs as ``acctsync serve`` builds it (the embedded sandbox as the accounting
provider, the partner's provider key set; the job runner off, so nothing runs in the
background between requests) under uvicorn on a free local port against
the test database; schemathesis generates requests for every operation, the connection routes
included (a few examples each, a fixed seed) with a valid token and entity, and checks that no
answer is a server error and every answer is documented: its status code, content type, headers
and body schema.

Left out: NUL characters in strings (the input guard answers them 400 before routing on every
route, which the document lists only where there is a body; tested in ``test_input_edges.py``).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.config import Settings
from app.runtime import build_service_app, embedded_sandbox_config
from sandbox.app import create_sandbox_app
from tests.conftest import DATABASE_URL, TEST_SECRET

pytestmark = pytest.mark.asyncio

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "unsupported_method",
    ]
)


def _schemathesis() -> str:
    found = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    if not Path(found).exists():
        pytest.skip("schemathesis is not installed (pip install -e '.[test]')")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(clean_db, tmp_path: Path) -> Iterator[str]:
    """The service as ``acctsync serve`` builds it, on a local port (its own engine, in
    uvicorn's thread and loop; no job runner), with the embedded sandbox as its provider (state
    in ``tmp_path``), so the connection routes reach a provider."""
    port = _free_port()
    settings = Settings(
        database_url=DATABASE_URL,
        secret_key=TEST_SECRET,
        env="test",
        public_url=f"http://127.0.0.1:{port}",
    )
    sandbox = create_sandbox_app(
        embedded_sandbox_config(settings, state_path=str(tmp_path / "sandbox-state.json"))
    )
    app = build_service_app(settings, sandbox_app=sandbox, run_jobs=False)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


async def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    served: str, sessionmaker, tmp_path: Path
) -> None:
    from app.auth.service import create_partner

    async with sessionmaker() as session, session.begin():
        created = await create_partner(session, "Fuzzing partner")
    async with httpx.AsyncClient(base_url=served) as http:
        token = (
            await http.post(
                "/v1/auth/token",
                json={
                    "grant_type": "client_credentials",
                    "client_id": created.client_id,
                    "client_secret": created.client_secret,
                },
            )
        ).json()["access_token"]
        entity = await http.post(
            "/v1/entities",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "type": "organization",
                "email": "ops@example.com",
                "organization": {"legal_name": "Acme Ltd"},
                "address": {"country": "GB", "city": "London", "line1": "1 High St"},
                "currency": "GBP",
            },
        )
        assert entity.status_code == 201, entity.text
        # the embedded sandbox's key, as a partner sets its provider key
        key = await http.patch(
            "/v1/settings",
            headers={"Authorization": f"Bearer {token}"},
            json={"accounting": {"provider": "codat", "token": "sandbox"}},
        )
        assert key.status_code == 200, key.text
    command = [
        _schemathesis(),
        "run",
        f"{served}/schema/openapi.json",
        "-H",
        f"Authorization: Bearer {token}",
        "-H",
        f"x-monite-entity-id: {entity.json()['id']}",
        "--checks",
        CHECKS,
        "--max-examples",
        "3",
        "--seed",
        "14",
        "--generation-allow-x00",
        "false",
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--no-color",
    ]
    # the server runs in this process's thread: run the CLI beside it without blocking it
    process = await _run(command, tmp_path)
    failures = process.stdout.find("FAILURES")
    assert process.returncode == 0, process.stdout[max(failures, 0) :][:8000]
    assert "generated" in process.stdout


async def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in ``cwd`` (its caches and reports stay out of the working tree)."""
    return await asyncio.to_thread(
        subprocess.run,
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
