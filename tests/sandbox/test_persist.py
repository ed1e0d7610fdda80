"""The sandbox's state file (``state_path``): what a restart keeps, and an unreadable file."""

from __future__ import annotations

from pathlib import Path

from .conftest import basic


async def test_a_restart_keeps_companies_records_faults_and_pending_pushes(
    sandbox_factory, tmp_path: Path
) -> None:
    path = tmp_path / "state.json"
    async with sandbox_factory(state_path=str(path), push_delay_s=30.0) as sb:
        company, connection = await sb.linked_company()
        url = f"/companies/{company['id']}/connections/{connection['id']}/push/customers"
        pending = (
            await sb.client.post(url, json={"customerName": "Kept Ltd"}, headers=basic())
        ).json()
        assert pending["status"] == "Pending"
        await sb.client.put(
            f"/_admin/companies/{company['id']}/faults", json={"latency_ms": 1}, headers=basic()
        )
        accounts = (
            await sb.client.get(f"/companies/{company['id']}/data/accounts", headers=basic())
        ).json()
    assert path.exists()

    async with sandbox_factory(state_path=str(path), push_delay_s=0.01) as sb:
        again = await sb.client.get(f"/companies/{company['id']}/data/accounts", headers=basic())
        assert again.status_code == 200 and again.json() == accounts
        faults = await sb.client.get(f"/_admin/companies/{company['id']}/faults", headers=basic())
        assert faults.json()["latency_ms"] == 1
        await sb.settle()
        operation = (
            await sb.client.get(
                f"/companies/{company['id']}/push/{pending['pushOperationKey']}", headers=basic()
            )
        ).json()
        assert operation["status"] == "Success"  # the push left pending is settled after the load
        # and a new company does not reuse the old one's id
        other = (await sb.client.post("/companies", json={"name": "New"}, headers=basic())).json()
        assert other["id"] != company["id"]


async def test_an_unreadable_state_file_is_moved_aside(sandbox_factory, tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    async with sandbox_factory(state_path=str(path)) as sb:
        listed = await sb.client.get("/companies", headers=basic())
        assert listed.status_code == 200 and listed.json()["results"] == []
    assert (tmp_path / "state.json.bad").read_text() == "{not json"
