"""``acctsync demo --platform smarty_accounting`` runs the whole flow against the Smarty
emulator on the embedded service and says it worked."""

from __future__ import annotations

import logging
import tempfile

from demo import run_demo


async def test_demo_for_smarty_turns_out_as_it_should(capsys, monkeypatch, tmp_path) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    reports = await run_demo(["smarty_accounting"])
    out = capsys.readouterr().out
    failed = [(name, detail) for name, ok, detail in reports[0].checks if not ok]
    assert failed == [], out
    for step in ("signed in on the connect page", "contacts matched", "bill in Smarty",
                 "invoice in Smarty", "the unchanged books cost no writes"):  # fmt: skip
        assert step in out
    assert "wrong password refused (intended: " in out
    assert "in Smarty: bill DEMO-BILL-1 Sent total 60.00" in out
