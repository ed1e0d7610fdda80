"""The README's curl tour, run as written (issue 16): its ``sh`` block under "A short tour
with curl" is run by bash against ``acctsync serve``, in a folder of its own. The test changes
only what the tour tells a reader to change: the service's address (a free port here) and the
browser step (open the link, press Authorize). Any answer other than 2xx, or a missing id,
fails the run; at the end the bill must have reached the sandbox's Xero."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_serve_lifecycle import _free_port, _start, _stop, _wait_live

ROOT = Path(__file__).resolve().parents[2]
BROWSER_STEP = "# open it in a browser and press Authorize"

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "jq")),
    reason="the tour needs bash, curl and jq",
)

#: Every curl fails on a non-2xx answer; every jq on a null (a missing id).
PRELUDE = """set -euo pipefail
curl() { command curl --fail-with-body --show-error "$@"; }
jq() { command jq -e "$@"; }
set -x
"""
#: The person's click: the link page's form, posted.
BROWSER = """URL=$(curl -s $B/v1/accounting_connections/$C -H "$H" -H "$EH" | jq -r .connection_url)
ACTION=$(curl -sL "$URL" | grep -o "action='[^']*/authorize'" | cut -d"'" -f2)
curl -s -o /dev/null -X POST "$ACTION"
"""
#: After the tour: the bill is pushed (its synced record done) within a minute.
PUSHED = """
for _ in $(seq 60); do
  S=$(command curl -s "$B/v1/accounting_synced_records?object_type=bill&object_id=$P" \\
    -H "$H" -H "$EH" | command jq -r '.data[0].sync_status')
  [ "$S" = done ] && exit 0
  sleep 1
done
command curl -s "$B/v1/accounting_synced_records?object_type=bill&object_id=$P" -H "$H" -H "$EH" >&2
exit 1
"""


def tour_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A short tour with curl", 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert found, "no sh block in the README's tour"
    return found.group(1)


def test_the_tour_block_has_what_the_test_replaces() -> None:
    block = tour_block()
    assert block.startswith("B=http://127.0.0.1:8000\n")
    assert sum(BROWSER_STEP in line for line in block.splitlines()) == 1


def script(port: int) -> str:
    lines = []
    for line in tour_block().splitlines():
        if line.startswith("B="):
            line = f"B=http://127.0.0.1:{port}"
        elif BROWSER_STEP in line:
            line = BROWSER
        lines.append(line)
    return PRELUDE + "\n".join(lines) + "\n" + PUSHED


def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    port = _free_port()
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))  # the tour runs .venv/bin/acctsync
    server = _start(tmp_path, port)
    try:
        _wait_live(server, f"http://127.0.0.1:{port}")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ACCTSYNC_")},
            "ACCTSYNC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'acctsync.db'}",
        }
        run = subprocess.run(
            ["bash", "-c", script(port)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-5000:])
    finally:
        _stop(server, signal.SIGTERM)
