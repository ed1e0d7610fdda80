"""``acctsync demo`` runs the whole flow on Codat's Xero example company and says it worked."""

from __future__ import annotations

import logging
import re
import tempfile

from demo import run_demo
from demo.flow import embedded_service


async def test_demo_for_xero_turns_out_as_it_should(capsys, monkeypatch, tmp_path) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    reports = await run_demo(["xero"])
    out = capsys.readouterr().out
    assert list(tmp_path.iterdir()) == [], "the demo's temporary folder was left behind"
    assert [r.platform for r in reports] == ["xero"]
    failed = [(name, detail) for name, ok, detail in reports[0].checks if not ok]
    assert failed == [], out
    steps = ("good bill pushed", "fixed invoice retried and done", "bill in the accounting system")
    for step in steps:
        assert step in out
    assert "== summary" in out and "xero" in out.split("== summary")[1]
    # as a person reads it (issue 16): names, whole messages, currencies, intended failures
    assert "ambiguous customer '7-Eleven': candidates '7-Eleven Ltd'" in out
    assert "(intended: the demo created this counterpart twice)" in out
    assert "{'" not in out  # no Python dict
    assert re.search(r"bill without ledger account refused at approval \(intended: ", out)
    assert "the entity has no default ledger account for products; set one" in out
    # coded to an expense account at 20% VAT (the sandbox's generated chart and rates)
    assert (
        "coding: bills to 'Printing & Stationery' at 20% (VAT on Expenses),"
        " invoices to 'Sales' at 20% (VAT on Income)"
    ) in out
    assert "bill DEMO-BILL-1 Open total 60.00 GBP" in out
    assert "invoice DEMO-INV-1 Submitted total 360.00 GBP" in out


async def test_demo_keeps_its_folder_with_keep(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    async with embedded_service(keep=True):
        pass
    (folder,) = tmp_path.iterdir()
    assert (folder / "demo.db").exists()
    assert f"kept in {folder}" in capsys.readouterr().out
