"""``acctsync demo --platform smarty_accounting``: the flow against the Smarty Accounting
emulator (mounted at ``/smarty`` on the embedded service), over real HTTP.

1. an entity, counterparts resembling the example organisation's contacts (one as in the books,
   one in upper case, one new supplier);
2. a ``smarty_accounting`` connection; the user signs in on the service's connect page (the
   form is posted as a browser would) with the example user's email and password; the first
   pull: ledger accounts, VAT rates, contacts matched;
3. a payable approved and a receivable issued (pushed: created in Smarty and marked sent), a
   second payable without a ledger account refused at approval, fixed and pushed;
4. the bill and invoice read back from Smarty's own API; a second pull of the unchanged
   organisation changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx

from app.config import Settings
from demo.flow import Api, DemoFailure, Report, wait_for

USER, PASSWORD = "owner@harbour.example", "harbour-owner"  # the emulator's example user


async def run_smarty(api: Api, settings: Settings, report: Report) -> None:
    print("\n== smarty_accounting (the Smarty Accounting emulator: Harbour Coffee Roasters Ltd)")
    entity = await api.call("POST", "/v1/entities", json={
        "type": "organization", "organization": {"legal_name": "Demo Harbour Coffee"},
        "currency": "GBP", "address": {"country": "GB", "city": "Bristol", "line1": "1 Quay St"},
    })  # fmt: skip
    api.entity(entity["id"])

    async def counterpart(name: str, city: str, line1: str, postcode: str, **kind: bool) -> str:
        body = {
            "type": "organization",
            "organization": {
                "legal_name": name,
                "is_vendor": kind.get("vendor", False),
                "is_customer": kind.get("customer", True),
                "address": {"country": "GB", "city": city, "line1": line1, "postal_code": postcode},
            },
        }
        return str((await api.call("POST", "/v1/counterparts", json=body))["id"])

    await counterpart("Brightwater Cafe Ltd", "Bristol", "12 Quay St", "BS1 4DJ")
    await counterpart("THE COPPER KETTLE", "York", "3 Market Pl", "YO1 8SJ")
    vendor = await counterpart(
        "Demo Roastery Supplies Ltd", "Leeds", "2 Mill Road", "LS1 1AA", vendor=True, customer=True
    )
    connection = await api.call("POST", "/v1/accounting_connections",
                                json={"platform": "smarty_accounting"})  # fmt: skip
    report.check(
        "connection pending_auth",
        connection["status"] == "pending_auth",
        connection["connection_url"],
    )
    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(connection["connection_url"])
        if page.status_code != 200 or "type='password'" not in page.text:
            raise DemoFailure(f"the connect page asks for no credentials ({page.status_code})")
        wrong = await browser.post(
            connection["connection_url"], data={"username": USER, "password": "not-it"}
        )
        report.check(
            "wrong password refused",
            wrong.status_code == 400,
            intended="the demo typed a wrong password first",
        )
        signed_in = await browser.post(
            connection["connection_url"], data={"username": USER, "password": PASSWORD}
        )
        report.check("signed in on the connect page", signed_in.status_code == 200)

    async def first_pull() -> Any:
        c = await api.call("GET", f"/v1/accounting_connections/{connection['id']}")
        return c if c["status"] == "connected" and c["last_pull"] else None

    connected = await wait_for(first_pull, "the first pull")
    report.check("connected and pulled", True, f"last_pull {connected['last_pull']}")
    accounts = (await api.call("GET", "/v1/ledger_accounts?limit=250"))["data"]
    rates = (await api.call("GET", "/v1/accounting_tax_rates?limit=250"))["data"]
    report.check(
        "ledger accounts pulled",
        len(accounts) == 13,
        f"{len(accounts)}: " + ", ".join(sorted(a["name"] for a in accounts)[:4]),
    )
    report.check(
        "VAT rates pulled",
        len(rates) == 7,
        ", ".join(f"{r['name']} ({(r['effective_tax_rate'] or 0) / 100:g}%)" for r in rates[:3]),
    )
    outcome: dict[str, int] = {}
    for object_type in ("customer", "vendor", "product"):
        for record in (await api.call(
            "GET", f"/v1/accounting_synced_records?object_type={object_type}&limit=250"
        ))["data"]:  # fmt: skip
            key = f"{object_type} {record['sync_status']}"
            outcome[key] = outcome.get(key, 0) + 1
    print("    matching: " + ", ".join(f"{k}: {v}" for k, v in sorted(outcome.items())))
    report.check(
        "contacts matched",
        outcome.get("customer done", 0) >= 2,
        "Brightwater Cafe Ltd and THE COPPER KETTLE linked to the books' customers",
    )
    expense = next(a for a in accounts if a["name"] == "Office Supplies")
    income = next(a for a in accounts if a["name"] == "Sales")
    buy = next(r for r in rates if r["name"] == "20% (VAT on Expenses)")
    sell = next(r for r in rates if r["name"] == "20% (VAT on Income)")
    today = dt.date.today().isoformat()

    async def payable(number: str, with_account: bool) -> tuple[str, str]:
        p = await api.call("POST", "/v1/payables", json={
            "currency": "GBP", "counterpart_id": vendor, "document_id": number,
            "issued_at": today})  # fmt: skip
        line = {
            "name": "Coffee sacks",
            "quantity": 4,
            "unit_price": 1250,
            "tax": 2000,
            "accounting_tax_rate_id": buy["id"],
        }
        if with_account:
            line["ledger_account_id"] = expense["id"]
        made = await api.call("POST", f"/v1/payables/{p['id']}/line_items", json=line)
        await api.call("POST", f"/v1/payables/{p['id']}/submit_for_approval")
        return p["id"], made["id"]

    good_bill, _ = await payable("DEMO-BILL-1", True)
    await api.call("POST", f"/v1/payables/{good_bill}/approve_payment_operation")
    bad_bill, bad_line = await payable("DEMO-BILL-2", False)
    refused = await api.call("POST", f"/v1/payables/{bad_bill}/approve_payment_operation",
                             expect=(200, 422))  # fmt: skip
    problems = [d["msg"] for d in (refused or {}).get("detail", [])]
    report.check(
        "bill without ledger account refused at approval",
        any("ledger account" in p for p in problems),
        intended="the demo left its line without a ledger account",
    )
    product = await api.call(
        "POST",
        "/v1/products",
        json={
            "name": "Barista workshop",
            "type": "service",
            "price": {"currency": "GBP", "value": 15000},
            "ledger_account_id": income["id"],
        },
    )
    receivable = await api.call(
        "POST",
        "/v1/receivables",
        json={
            "type": "invoice",
            "currency": "GBP",
            "counterpart_id": vendor,
            "document_id": "DEMO-INV-1",
            "line_items": [
                {"product_id": product["id"], "quantity": 2, "accounting_tax_rate_id": sell["id"]}
            ],
        },
    )
    await api.call("POST", f"/v1/receivables/{receivable['id']}/issue")
    await api.call(
        "PATCH",
        f"/v1/payables/{bad_bill}/line_items/{bad_line}",
        json={"ledger_account_id": expense["id"]},
    )
    await api.call("POST", f"/v1/payables/{bad_bill}/approve_payment_operation")

    async def settled(object_type: str, object_id: str) -> Any:
        async def check() -> Any:
            data = (
                await api.call(
                    "GET",
                    "/v1/accounting_synced_records?object_type="
                    f"{object_type}&object_id={object_id}",
                )
            )["data"]
            return data[0] if data and data[0]["sync_status"] == "done" else None

        return await wait_for(check, f"the {object_type} push")

    records = {
        "bill 1": await settled("bill", good_bill),
        "bill 2 (fixed)": await settled("bill", bad_bill),
        "invoice 1": await settled("receivable", receivable["id"]),
    }
    print("    synced records:")
    for name, r in records.items():
        print(f"    {name:<15} {r['sync_status']:<5} Smarty id {r.get('provider_object_id')}")
    report.check(
        "bills and invoice pushed", all(r["sync_status"] == "done" for r in records.values())
    )

    # read them back from Smarty itself, as its user
    oauth, api_base = settings.smarty_oauth_base, settings.smarty_api_base
    async with httpx.AsyncClient(timeout=30) as smarty:
        tokens = (await smarty.post(f"{oauth}/authenticate/accesstoken", json={
            "client_id": settings.smarty_client_id, "client_secret": settings.smarty_client_secret,
            "username": USER, "password": PASSWORD})).json()  # fmt: skip
        head = {"Access-Token": tokens["access_token"]}
        org = (await smarty.get(f"{api_base}/organisations", headers=head)).json()
        org_id = org["organisations"][0]["organisation_id"]
        params = {"organization_id": org_id}
        bill = (
            await smarty.get(
                f"{api_base}/bills/{records['bill 1']['provider_object_id']}",
                headers=head,
                params=params,
            )
        ).json()["bill"]
        invoice = (await smarty.get(
            f"{api_base}/invoices/{records['invoice 1']['provider_object_id']}", headers=head,
            params=params)).json()["invoice"]  # fmt: skip
    print(
        f"    in Smarty: bill {bill['bill_number']} {bill['state']} total {bill['total']} "
        f"ref {bill['reference']}; invoice {invoice['invoice_number']} {invoice['state']} "
        f"total {invoice['total']}"
    )
    report.check("bill in Smarty", bill["state"] == "Sent" and bill["subtotal"] == "50.00")
    report.check(
        "invoice in Smarty", invoice["state"] == "Sent" and invoice["subtotal"] == "300.00"
    )
    report.check(
        "marker in the reference", bool(re.match(r"acctsync:[0-9a-f-]{36}$", bill["reference"]))
    )
    before = await api.call("GET", f"/v1/accounting_connections/{connection['id']}")
    await api.call("POST", f"/v1/accounting_connections/{connection['id']}/sync", expect=(202,))

    async def second_pull() -> Any:
        c = await api.call("GET", f"/v1/accounting_connections/{connection['id']}")
        return c if c["last_pull"] != before["last_pull"] else None

    await wait_for(second_pull, "the second pull")
    status = await api.call("GET", f"/v1/accounting_connections/{connection['id']}/sync_status")
    changed = {d["data_type"]: d["records_changed"] for d in status["data"]}
    print(f"    second pull, records changed: {changed}")
    report.check(
        "the unchanged books cost no writes",
        0 < sum(changed.values()) <= 6,
        "only what the demo pushed (2 bills, 1 invoice, 1 item, 2 contacts) is new",
    )
