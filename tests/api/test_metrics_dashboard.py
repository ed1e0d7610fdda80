"""The Grafana dashboard (``grafana/acctsync-dashboard.json``) plots only families the
service serves, and every family of ``app/metrics.py`` is plotted."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram

from app import metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "grafana" / "acctsync-dashboard.json"
NAME = re.compile(r"\b((?:acctsync|litestar)_[a-z_]+)")
SUFFIXES = ("_bucket", "_count", "_sum")


def _families() -> set[str]:
    out = set()
    for value in vars(metrics).values():
        if isinstance(value, Counter | Gauge | Histogram):
            name = value._name
            out.add(name + "_total" if isinstance(value, Counter) else name)
    return out


def test_the_dashboard_plots_every_family_and_nothing_else() -> None:
    board = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    used = set()
    for expr in exprs:
        for name in NAME.findall(expr):
            for suffix in SUFFIXES:
                if name.endswith(suffix):
                    name = name[: -len(suffix)]
            used.add(name)
    ours = _families()
    assert ours - used == set(), "families not plotted"
    http = {"litestar_requests_total", "litestar_request_duration_seconds"}
    assert used - ours - http == set(), "plotted but not served"
    assert all(p["datasource"]["uid"] == "${datasource}" for p in board["panels"] if "targets" in p)
