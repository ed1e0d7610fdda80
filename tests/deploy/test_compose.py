"""``docker-compose.yml`` and the ``Dockerfile`` read against the code (issue 16): Docker
does not run on the development machine, so this test keeps them true to the CLI's real
commands (``app/cli.py``), its variables (``app/config.py``) and its ports: one image built
once, a non-root user, healthchecks on what serves or works, ``depends_on`` conditions that
wait for them, volumes for what keeps state."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from app.cli import build_parser
from app.config import PREFIX, load_settings
from app.health.routes import ready

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ACCTSYNC = {name: s for name, s in SERVICES.items() if (s.get("command") or [""])[0] == "acctsync"}


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def parse(command: list[str]) -> argparse.Namespace:
    """``command`` as the real CLI parses it (a typo or a removed flag fails here)."""
    assert command[0] == "acctsync", command
    try:
        return build_parser().parse_args(command[1:])
    except SystemExit as exc:
        raise AssertionError(f"acctsync does not accept {command}") from exc


#: What an operator sets for the variables compose requires (``${VAR:?message}``).
OPERATOR_SETS = {"ACCTSYNC_SECRET_KEY": "Zq3v8Lk1Xw0Pn7Tr2Sy5Ub9Mc4Hd6Fa1Je8Gi3Ko0Q"}


def environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment with ``${VAR:-default}`` resolved to its default and
    ``${VAR:?message}`` (required) to what an operator sets (`OPERATOR_SETS`)."""
    out = {}
    for key, value in service.get("environment", {}).items():
        text = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))
        text = re.sub(r"\$\{([A-Z_]+):\?[^}]*\}", lambda m: OPERATOR_SETS[m.group(1)], text)
        out[key] = text
    return out


def test_the_secret_key_is_required_not_defaulted() -> None:
    for name, service in ACCTSYNC.items():
        raw = str(service["environment"]["ACCTSYNC_SECRET_KEY"])
        assert raw.startswith("${ACCTSYNC_SECRET_KEY:?"), (name, raw)


def config_variables() -> set[str]:
    """Every ACCTSYNC_* variable ``app/config.py`` reads."""
    source = (ROOT / "app" / "config.py").read_text()
    return {PREFIX + name for name in re.findall(r'\bget\("([A-Z_]+)"\)', source)}


def published(service: dict[str, Any]) -> set[int]:
    """Container ports a service publishes."""
    return {int(str(p).rsplit(":", 1)[-1]) for p in service.get("ports", [])}


def healthcheck_source(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], test
    return test[3]


def test_one_image_built_once() -> None:
    built = [name for name, s in SERVICES.items() if "build" in s]
    assert built == ["migrate"], built  # the first acctsync container to start
    assert SERVICES["migrate"]["build"] == "."
    images = {s.get("image") for s in ACCTSYNC.values()}
    assert images == {"acctsync:local"}, images
    assert set(ACCTSYNC) == {"migrate", "api", "worker", "sandbox"}


def test_every_command_is_one_the_cli_accepts() -> None:
    commands = {name: parse(s["command"]) for name, s in ACCTSYNC.items()}
    assert (commands["migrate"].command, commands["migrate"].db_command) == ("db", "upgrade")
    assert commands["api"].command == "serve"
    assert commands["worker"].command == "worker"
    assert commands["sandbox"].command == "sandbox"
    cmd = next(args for key, args in dockerfile() if key == "CMD")
    assert parse(json.loads(cmd)).command == "serve"


def test_variables_are_the_services_own_and_load() -> None:
    known = config_variables()
    assert "ACCTSYNC_DATABASE_URL" in known and "ACCTSYNC_ROLE" in known
    for name, service in ACCTSYNC.items():
        env = environment(service)
        unknown = {k for k in env if k.startswith(PREFIX)} - known
        assert not unknown, (name, unknown)
        settings = load_settings(env)  # raises ConfigError on a malformed value
        assert not settings.is_sqlite, name
        assert settings.env == "production"
    assert environment(SERVICES["api"])["ACCTSYNC_ROLE"] == "api"  # workers run the jobs


def test_database_url_points_at_the_postgres_service() -> None:
    pg = SERVICES["postgres"]["environment"]
    for name, service in ACCTSYNC.items():
        url = urlsplit(environment(service)["ACCTSYNC_DATABASE_URL"])
        assert (url.hostname, url.port) == ("postgres", 5432), name
        assert (url.username, url.password) == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"])
        assert url.path == f"/{pg['POSTGRES_DB']}"


def test_ports_urls_and_secrets_agree() -> None:
    api = parse(SERVICES["api"]["command"])
    sandbox = parse(SERVICES["sandbox"]["command"])
    assert api.host == "0.0.0.0" and sandbox.host == "0.0.0.0"
    assert published(SERVICES["api"]) == {api.port}
    assert published(SERVICES["sandbox"]) == {sandbox.port}
    settings = load_settings(environment(SERVICES["api"]))
    assert settings.public_url == f"http://api:{api.port}"
    assert settings.codat_base_url == f"http://sandbox:{sandbox.port}"
    assert sandbox.webhook_url == f"{settings.public_url}/v1/webhooks/codat"
    assert sandbox.webhook_secret in settings.codat_webhook_secret
    exposed = {int(p) for key, args in dockerfile() if key == "EXPOSE" for p in args.split()}
    assert api.port in exposed


def test_healthchecks_probe_what_the_services_serve() -> None:
    for name in ("postgres", "api", "worker", "sandbox"):
        assert "healthcheck" in SERVICES[name], name
    api = parse(SERVICES["api"]["command"])
    assert "/health/ready" in ready.paths
    assert f"'http://127.0.0.1:{api.port}/health/ready'" in healthcheck_source(SERVICES["api"])
    sandbox = parse(SERVICES["sandbox"]["command"])
    assert f"'http://127.0.0.1:{sandbox.port}/_admin/platforms'" in healthcheck_source(
        SERVICES["sandbox"]
    )
    worker = parse(SERVICES["worker"]["command"])
    assert worker.heartbeat_file and f"'{worker.heartbeat_file}'" in healthcheck_source(
        SERVICES["worker"]
    )
    for name in ("api", "worker", "sandbox"):
        compile(healthcheck_source(SERVICES[name]), name, "exec")


def test_the_worker_healthcheck_reads_the_heartbeat_age(tmp_path: Path) -> None:
    worker = parse(SERVICES["worker"]["command"])
    beat = tmp_path / "alive"
    source = healthcheck_source(SERVICES["worker"]).replace(worker.heartbeat_file, str(beat))

    def check() -> int:
        return subprocess.run([sys.executable, "-c", source], capture_output=True).returncode

    assert check() != 0  # no heartbeat yet
    beat.touch()
    assert check() == 0
    os.utime(beat, (time.time() - 120, time.time() - 120))
    assert check() != 0  # the worker stopped beating


async def test_the_worker_heartbeat_beats_while_the_jobs_run(tmp_path: Path) -> None:
    from app.runtime import _heartbeat

    class Jobs:
        running = True

    beat, stop = tmp_path / "alive", asyncio.Event()
    task = asyncio.create_task(_heartbeat(beat, Jobs(), stop))  # type: ignore[arg-type]
    for _ in range(100):
        if beat.exists():
            break
        await asyncio.sleep(0.01)
    assert beat.exists()
    stop.set()
    await asyncio.wait_for(task, 5)


def test_depends_on_waits_for_health_and_the_migration() -> None:
    for name in ("api", "worker"):
        needs = SERVICES[name]["depends_on"]
        assert needs["migrate"] == {"condition": "service_completed_successfully"}, name
        assert needs["postgres"] == {"condition": "service_healthy"}, name
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert SERVICES["migrate"]["restart"] == "no"
    for name, service in SERVICES.items():
        for target, condition in service.get("depends_on", {}).items():
            assert condition["condition"] in ("service_healthy", "service_completed_successfully")
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[target], (name, target)


def test_state_lives_in_volumes() -> None:
    declared = set(COMPOSE["volumes"])

    def mounts(service: dict[str, Any]) -> dict[str, str]:
        pairs = [str(v).split(":")[:2] for v in service.get("volumes", [])]
        assert all(src in declared for src, _ in pairs), pairs
        return {dst: src for src, dst in pairs}

    assert "/var/lib/postgresql/data" in mounts(SERVICES["postgres"])
    state = Path(parse(SERVICES["sandbox"]["command"]).state_path)
    assert any(state.is_relative_to(dst) for dst in mounts(SERVICES["sandbox"]))
    # The image's default command keeps SQLite in ./var under WORKDIR: a volume.
    workdir = next(args for key, args in dockerfile() if key == "WORKDIR")
    volumes = [args for key, args in dockerfile() if key == "VOLUME"]
    assert volumes and f"{workdir}/var" in " ".join(volumes)


def test_the_image_runs_as_a_user_and_holds_every_package() -> None:
    users = [args for key, args in dockerfile() if key == "USER"]
    assert users, "the image runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), user
    copied = {shlex.split(args)[0] for key, args in dockerfile() if key == "COPY"}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["setuptools"]["packages"]["find"]["include"]
    for pattern in packages:
        assert pattern.rstrip("*") in copied, pattern
    assert {"pyproject.toml", "README.md"} <= {
        part for key, args in dockerfile() if key == "COPY" for part in shlex.split(args)
    }


@pytest.mark.parametrize("name", ["api", "worker", "sandbox"])
def test_long_running_services_restart(name: str) -> None:
    assert SERVICES[name]["restart"] == "unless-stopped"
