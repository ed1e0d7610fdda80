"""The embedded sandbox survives a restart (issue 15): its state is kept in a file, so a
service started again on the same database still pulls and pushes on its old connection.

Two service + sandbox lifespans, one after the other, on one database and one state file."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.conftest import PartnerCtx
from tests.e2e.conftest import _world, approved_payable, rate_of

KEY = {"Authorization": f"Basic {base64.b64encode(b'sandbox').decode()}"}


async def test_a_restarted_service_pulls_and_pushes_on_its_old_connection(
    clean_db, sessionmaker, tmp_path: Path
) -> None:
    overrides = {"state_path": str(tmp_path / "var" / "sandbox-state.json")}
    async with _world(sessionmaker, overrides) as first:
        entity = await first.partner.create_entity("Acme Ltd")
        conn = await first.connect(entity, "xero")
        h = first.partner.entity_headers(entity)
        accounts = (await first.client.get("/v1/ledger_accounts", headers=h)).json()["data"]
        rates = (await first.client.get("/v1/accounting_tax_rates?limit=100", headers=h)).json()[
            "data"
        ]
        token = first.partner
    assert (tmp_path / "var" / "sandbox-state.json").exists()

    async with _world(sessionmaker, overrides) as second:
        partner = PartnerCtx(
            second.client, token.partner_id, token.client_id, token.client_secret, token.token
        )
        h = partner.entity_headers(entity)
        # the sandbox still knows the company and its connection
        company = conn["connection_url"].split("/companies/")[1].split("/")[0]
        r = await second.sandbox_http.get(f"/companies/{company}", headers=KEY)
        assert r.status_code == 200, r.text
        before = (
            await second.client.get(
                f"/v1/accounting_connections/{conn['id']}/sync_status", headers=h
            )
        ).json()
        assert (
            await second.client.post(f"/v1/accounting_connections/{conn['id']}/sync", headers=h)
        ).status_code == 202

        async def pulled_again() -> dict | None:
            r = await second.client.get(
                f"/v1/accounting_connections/{conn['id']}/sync_status", headers=h
            )
            body = r.json()
            newer = all(
                d["last_attempt_at"] > b["last_attempt_at"]
                for d, b in zip(body["data"], before["data"], strict=True)
            )
            return body if newer else None

        status = await second.wait_for(pulled_again, what="a pull after the restart")
        assert status["healthy"] is True and status["errors"] == [], status
        # the ids the partner holds are the same ones
        again = (await second.client.get("/v1/ledger_accounts", headers=h)).json()["data"]
        assert {a["id"] for a in again} == {a["id"] for a in accounts}

        # and a push on the old connection reaches the same company
        vendor = await second.client.post(
            "/v1/counterparts",
            headers=h,
            json={
                "type": "organization",
                "organization": {
                    "legal_name": "Globex Supplies Ltd",
                    "is_vendor": True,
                    "is_customer": False,
                    "address": {"country": "GB", "city": "Leeds", "line1": "2 Mill Rd"},
                },
            },
        )
        assert vendor.status_code == 201, vendor.text
        payable_id = await approved_payable(
            second.client,
            h,
            vendor.json()["id"],
            accounts[0]["id"],
            rate_of(rates, 2000)["id"],
            line={"quantity": 1},
            document_id="AFTER-RESTART-1",
            due_date="2026-12-01",
        )

        async def pushed() -> dict | None:
            r = await second.client.get(
                f"/v1/accounting_synced_records?object_type=bill&object_id={payable_id}",
                headers=h,
            )
            data = r.json()["data"]
            return data[0] if data and data[0]["sync_status"] in ("done", "error") else None

        record = await second.wait_for(pushed, what="the bill pushed")
        assert record["sync_status"] == "done", record
        bill = await second.sandbox_http.get(
            f"/companies/{company}/data/bills/{record['provider_object_id']}", headers=KEY
        )
        assert bill.status_code == 200 and bill.json()["reference"] == "AFTER-RESTART-1"
