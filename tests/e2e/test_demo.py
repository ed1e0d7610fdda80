"""``acctsync demo`` runs the whole flow on Codat's Xero example company and says it worked."""

from __future__ import annotations

import logging

from demo import run_demo


async def test_demo_for_xero_turns_out_as_it_should(capsys) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    reports = await run_demo(["xero"])
    out = capsys.readouterr().out
    assert [r.platform for r in reports] == ["xero"]
    failed = [(name, detail) for name, ok, detail in reports[0].checks if not ok]
    assert failed == [], out
    steps = ("good bill pushed", "fixed invoice retried and done", "bill in the accounting system")
    for step in steps:
        assert step in out
    assert "== summary" in out and "xero" in out.split("== summary")[1]
