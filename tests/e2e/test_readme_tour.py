"""The README's curl tour, run as written (issue 16): its ``sh`` block under "A short tour
with curl" is run by bash against ``acctsync serve``, in a folder of its own. The test changes
only what the tour tells a reader to change: the service's address (a free port here) and the
browser step (open the link, press Authorize). Any answer other than 2xx, or a missing id,
fails the run; at the end the bill must have reached the sandbox's Xero, coded as the tour
says (an expense account, 20% VAT), against the supplier Xero already had (the tour's
counterpart matched by the pull), with no supplier created there."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sandbox.examples import load_examples
from sandbox.supplement import is_generated
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
#: After the tour: the bill is pushed (its synced record done) within a minute; prints the
#: ids the test checks in the sandbox.
PUSHED = """
for _ in $(seq 60); do
  S=$(command curl -s "$B/v1/accounting_synced_records?object_type=bill&object_id=$P" \\
    -H "$H" -H "$EH" | command jq -r '.data[0].sync_status')
  if [ "$S" = done ]; then
    BILL=$(command curl -s "$B/v1/accounting_synced_records?object_type=bill&object_id=$P" \\
      -H "$H" -H "$EH" | command jq -r '.data[0].provider_object_id')
    VENDOR=$(command curl -s "$B/v1/accounting_synced_records?object_type=vendor&object_id=$V" \\
      -H "$H" -H "$EH" | command jq -r '.data[0].provider_object_id')
    echo "PUSHED bill=$BILL vendor=$VENDOR account=$L rate=$R"
    exit 0
  fi
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


def check_sandbox(base: str, pushed: dict[str, str]) -> None:
    """The bill as the sandbox's Xero holds it: against the matched supplier, 20% VAT on an
    expense account; the company's suppliers are the example's, none added."""
    with httpx.Client(base_url=base, headers={"Authorization": "Basic c2FuZGJveA=="}) as http:
        companies = http.get("/companies", params={"pageSize": 5000}).json()["results"]
        for company in companies:
            bill = http.get(f"/companies/{company['id']}/data/bills/{pushed['bill']}")
            if bill.status_code == 200:
                break
        else:
            raise AssertionError(f"bill {pushed['bill']} not in the sandbox")
        bill = bill.json()
        assert bill["supplierRef"]["id"] == pushed["vendor"], bill
        (line,) = bill["lineItems"]
        assert line["taxRateRef"]["id"] == "gen-INPUT2", line
        account = http.get(f"/companies/{company['id']}/data/accounts/{line['accountRef']['id']}")
        assert (account.json()["name"], account.json()["type"]) == (
            "Printing & Stationery",
            "Expense",
        )
        suppliers = http.get(
            f"/companies/{company['id']}/data/suppliers", params={"pageSize": 5000}
        ).json()
        assert suppliers["totalResults"] == len(load_examples("xero")["suppliers"])


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
        pushed = dict(part.split("=", 1) for part in run.stdout.split("PUSHED ", 1)[1].split())
        assert pushed["rate"] == "2000"
        # the pull matched the tour's supplier to the (generated) one in Xero's books
        assert is_generated(pushed["vendor"]), pushed
        check_sandbox(f"http://127.0.0.1:{port}/sandbox", pushed)
    finally:
        _stop(server, signal.SIGTERM)
