"""``/metrics``: the service's own figures move with the work (issue 20). After a pull and a
push (end to end against the sandbox), a scrape finds the pull, push, webhook, job and
provider families moved; no label holds an id."""

from __future__ import annotations

import re
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e import conftest as e2e
from tests.e2e.conftest import World, approved_payable, rate_of

world = e2e.world
sandbox_overrides = e2e.sandbox_overrides

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


async def _scrape(world: World) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = await world.client.get("/metrics")
    assert r.status_code == 200, r.text
    assert not UUID.search(r.text), "an id in a metric label"
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _sum(figures: dict[Any, float], name: str, **labels: str) -> float:
    return sum(
        value
        for (sample, got), value in figures.items()
        if sample == name and all(dict(got).get(k) == v for k, v in labels.items())
    )


async def test_a_pull_and_a_push_move_the_figures(world: World) -> None:
    before = await _scrape(world)
    entity = await world.partner.create_entity("Metrics Ltd", currency="GBP")
    h = world.partner.entity_headers(entity)
    await world.connect(entity, "xero")
    accounts = (await world.client.get("/v1/ledger_accounts", headers=h)).json()["data"]
    rates = (await world.client.get("/v1/accounting_tax_rates?limit=100", headers=h)).json()["data"]
    rate = rate_of(rates, 2000)  # approved_payable's line is 20%
    vendor = await world.client.post(
        "/v1/counterparts",
        headers=h,
        json={
            "type": "organization",
            "organization": {
                "legal_name": "Metrics Paper Ltd",
                "is_vendor": True,
                "address": {"country": "GB", "city": "Leeds", "line1": "3 Park Row"},
            },
        },
    )
    assert vendor.status_code == 201, vendor.text
    payable = await approved_payable(
        world.client, h, vendor.json()["id"], accounts[0]["id"], rate["id"]
    )

    async def pushed() -> bool:
        r = await world.client.get(
            f"/v1/accounting_synced_records?object_type=bill&object_id={payable}", headers=h
        )
        data = r.json()["data"]
        return bool(data) and data[0]["sync_status"] == "done"

    await world.wait_for(pushed, what="the bill pushed")
    after = await _scrape(world)

    def moved(name: str, **labels: str) -> float:
        return _sum(after, name, **labels) - _sum(before, name, **labels)

    # Pulls: per data type, runs by outcome, duration, records read.
    for data_type in ("accounts", "taxRates", "customers", "suppliers", "bills"):
        assert moved("acctsync_pull_runs_total", data_type=data_type, outcome="ok") >= 1, data_type
        assert moved("acctsync_pull_duration_seconds_count", data_type=data_type) >= 1
    assert moved("acctsync_pull_records_read_total", data_type="accounts") >= 1
    assert moved("acctsync_pull_records_changed_total") >= 1
    # Pushes: attempts, outcomes, time from the status change to done.
    assert moved("acctsync_push_attempts_total", object_type="bill") >= 1
    assert moved("acctsync_push_outcomes_total", object_type="bill", outcome="done") == 1
    assert moved("acctsync_push_outcomes_total", object_type="vendor", outcome="done") == 1
    assert moved("acctsync_push_time_to_done_seconds_count", object_type="bill") == 1
    # Webhooks in: the sandbox's deliveries accepted and applied, with their lag.
    assert moved("acctsync_webhooks_received_total", outcome="accepted") >= 1
    assert moved("acctsync_webhook_apply_lag_seconds_count") >= 1
    # Jobs: queued and finished by this process; the queue gauges are there.
    assert moved("acctsync_jobs_added_total", task="pull_connection") >= 1
    assert moved("acctsync_jobs_finished_total", outcome="success") >= 1
    assert ("acctsync_jobs_oldest_due_seconds", ()) in after
    # Provider calls: by endpoint class (ids replaced), with latency.
    assert moved("acctsync_provider_calls_total", status="2xx") >= 1
    assert (
        moved(
            "acctsync_provider_calls_total",
            endpoint="GET /companies/{id}/data/accounts",
            status="2xx",
        )
        >= 1
    )
    assert moved("acctsync_provider_call_duration_seconds_count") >= 1


async def test_refused_webhooks_are_counted_by_reason(world: World) -> None:
    before = await _scrape(world)
    r = await world.client.post("/v1/webhooks/codat", content=b"{}")
    assert r.status_code == 401
    after = await _scrape(world)
    key = ("acctsync_webhooks_refused_total", (("reason", "signature"),))
    assert after.get(key, 0) - before.get(key, 0) == 1
