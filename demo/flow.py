"""``acctsync demo``: the whole service on real input, end to end, in one command.

On the embedded default it starts the service (SQLite in a temporary folder, the sandbox
mounted in-process) on a free local port and talks to it over real HTTP; with ``--url`` it
drives a running service instead (partners are created in the database that
``ACCTSYNC_DATABASE_URL`` names). For each platform it uses the sandbox's example company
(Codat's published records plus a generated chart of accounts, VAT rates and contacts):

1. creates a partner, an entity, counterparts resembling the example's customers and suppliers
   with the differences real books have (legal form, case, a district for the city, a duplicate
   name), and products resembling its items;
2. connects the entity to the platform and authorises through the link page's real HTTP flow;
   waits for the first pull; shows ledger accounts, tax rates, how contacts and items matched;
3. creates and approves payables (coded to an expense account at the purchase VAT rate) and
   issues receivables (an income account, the sales VAT rate), one of each with a missing ledger
   account; waits for the pushes; prints the synced records; fixes the broken ones, retries
   them and shows them done; shows the pushed bill and invoice as the sandbox holds them;
4. prints a summary and fails (exit 1) if any step did not turn out as it should.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.config import Settings, load_settings, served_at
from app.connections.platforms import PLATFORM_KEYS
from demo import webhooks
from sandbox.examples import load_examples

EXAMPLES = Path(__file__).resolve().parents[1] / "sandbox" / "data" / "codat"
FOLDER_OF = {name: name.replace("_", "-") for name in PLATFORM_KEYS if name != "sandbox"}
FOLDER_OF["sage_200cloud"] = "sage-200cloud"
FOLDER_OF["sage_50_uk"] = "sage-50-uk"
#: Smarty Accounting, reached directly (its own emulator, not Codat's example data).
SMARTY = "smarty_accounting"


class DemoFailure(Exception):
    """A step did not turn out as it should."""


@dataclass
class Report:
    platform: str
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str = "", intended: str = "") -> bool:
        """Record and print a step; ``intended`` says why a failure the demo provokes on
        purpose (a refusal, an ambiguity) is the expected outcome."""
        self.checks.append((name, ok, detail))
        mark = "ok " if ok else "FAIL"
        note = f" (intended: {intended})" if intended else ""
        print(f"  [{mark}] {name}{note}" + (f": {detail}" if detail else ""))
        return ok

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.checks)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def embedded_service(keep: bool = False) -> AsyncIterator[tuple[str, Settings]]:
    """The service on the embedded default (SQLite in a temporary folder, in-process sandbox)
    on a free port, served by uvicorn in this event loop. The folder is removed afterwards,
    or kept (and its path printed) with ``keep``."""
    folder = Path(tempfile.mkdtemp(prefix="acctsync-demo-"))
    try:
        async with _serving(folder) as served:
            yield served
    finally:
        if keep:
            print(f"\n(the demo's database and sandbox state are kept in {folder})")
        else:
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.asynccontextmanager
async def _serving(folder: Path) -> AsyncIterator[tuple[str, Settings]]:
    import uvicorn

    from app.db.config import upgrade_database
    from app.runtime import build_service_app

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = load_settings(
        {
            "ACCTSYNC_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'demo.db'}",
            "ACCTSYNC_PUBLIC_URL": url,
            "ACCTSYNC_LOG_LEVEL": "WARNING",
        }
    )
    await asyncio.to_thread(upgrade_database, settings.database_url)
    app = build_service_app(settings, sweep_interval=1.0)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
        await asyncio.sleep(0.05)
    try:
        yield url, settings
    finally:
        server.should_exit = True
        await task


async def create_partner(settings: Settings, name: str) -> tuple[str, str]:
    """A partner with client credentials, in the service's database."""
    from app.auth.service import create_partner as create
    from app.db.engine import create_engine, create_sessionmaker

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            created = await create(session, name)
    finally:
        await engine.dispose()
    return created.client_id, created.client_secret


class Api:
    """A thin partner-API client that fails loudly."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.headers: dict[str, str] = {}

    async def call(
        self,
        method: str,
        path: str,
        expect: int | tuple[int, ...] = (200, 201, 202, 204),
        **kwargs: Any,
    ) -> Any:
        response = await self.http.request(method, path, headers=self.headers, **kwargs)
        expected = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in expected:
            raise DemoFailure(f"{method} {path} -> {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def entity(self, entity_id: str) -> None:
        self.headers["x-monite-entity-id"] = entity_id


async def wait_for(check: Callable[[], Awaitable[Any]], what: str, limit: float = 60.0) -> Any:
    deadline = time.monotonic() + limit
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise DemoFailure(f"timed out after {limit:.0f} s waiting for {what}")
        await asyncio.sleep(0.2)


def _address(record: dict[str, Any]) -> dict[str, Any]:
    addresses = record.get("addresses") or []
    return addresses[0] if addresses else {}


def _country(value: str | None) -> str:
    import pycountry

    from matching import country_code

    code = country_code(value)
    if code and len(code) == 2 and pycountry.countries.get(alpha_2=code):
        return code
    return "GB"


def contact_names(folder: str) -> dict[str, str]:
    """The example company's customers' and suppliers' names by their ids."""
    names: dict[str, str] = {}
    for kind, name_key in (("customers", "customerName"), ("suppliers", "supplierName")):
        for record in json.loads((EXAMPLES / folder / f"{kind}.json").read_text())["results"]:
            names[str(record.get("id"))] = (record.get(name_key) or "").strip()
    return names


def pick_account(accounts: list[dict[str, Any]], kind: str, words: tuple[str, ...]) -> Any:
    """The first active account of ``kind`` (Codat ``type``: ``Expense``, ``Income``) whose name
    has one of ``words``, else the first of that kind, else the first active account."""
    active = [a for a in accounts if (a["status"] or "").lower() == "active"] or accounts
    of_kind = [a for a in active if (a.get("type") or "").lower() == kind.lower()]
    named = [a for a in of_kind if any(w in a["name"].lower() for w in words)]
    return (named or of_kind or active)[0]


def pick_rate(rates: list[dict[str, Any]], side: str) -> Any:
    """The VAT standard rate for ``side`` (``bills`` or ``invoices``): among active non-zero
    rates up to 27% (the highest standard VAT rate in Europe), those not named for the other
    side, the highest; else any active rate; None when the books keep none (KashFlow's
    published sample has none)."""
    other = ("income", "sales", "output") if side == "bills" else ("expense", "purchase", "input")
    active = [r for r in rates if (r["status"] or "active").lower() == "active"]
    vat = [
        r
        for r in active
        if 0 < (r["effective_tax_rate"] or 0) <= 2700
        and not any(w in (r["name"] or "").lower() for w in other)
    ]
    if vat:
        return max(vat, key=lambda r: r["effective_tax_rate"])
    return active[0] if active else None


def _money(amount: Any, currency: str | None) -> str:
    """``50.0``, ``GBP`` -> ``50.00 GBP``."""
    try:
        shown = f"{float(amount):,.2f}"
    except (TypeError, ValueError):
        shown = str(amount)
    return f"{shown} {currency or '(no currency)'}"


def counterparts_like(folder: str) -> list[tuple[dict[str, Any], str]]:
    """Counterpart bodies resembling the example contacts, each with the outcome expected."""
    data = {
        t: json.loads((EXAMPLES / folder / f"{t}.json").read_text())["results"]
        for t in ("customers", "suppliers")
    }
    bodies: list[tuple[dict[str, Any], str]] = []
    seen: set[str] = set()
    for kind, name_key in (("customers", "customerName"), ("suppliers", "supplierName")):
        for i, record in enumerate(data[kind]):
            name = (record.get(name_key) or "").strip()
            if len(name.strip("-. ")) < 2 or name.lower() in seen:  # "" and "-" in real books
                continue
            seen.add(name.lower())
            address = _address(record)
            variants = [name.upper(), f"{name} Ltd", name]
            legal = variants[i % len(variants)]
            city = address.get("city") or None
            expected = "matched"
            if i == 1 and city:
                # A district written for the city, the same street: still the same company
                # (every field weighs together; the street address carries it).
                city = f"{city} North"
            org = {
                "legal_name": legal,
                "is_customer": kind == "customers",
                "is_vendor": kind == "suppliers",
                "address": {
                    "country": _country(address.get("country")),
                    "city": city or "London",
                    "line1": address.get("line1") or "1 Example Street",
                    "postal_code": address.get("postalCode") or None,
                },
            }
            if not city:
                org["address"]["city"] = "London"
                expected = "matched" if not address.get("city") else expected
            bodies.append(({"type": "organization", "organization": org}, expected))
    return bodies


async def run_platform(
    api: Api, sandbox_url: str, sandbox_key: str, platform: str, report: Report
) -> None:
    folder = FOLDER_OF[platform]
    print(f"\n== {platform} (Codat example data: {folder})")
    entity = await api.call(
        "POST",
        "/v1/entities",
        json={
            "type": "organization",
            "organization": {"legal_name": f"Demo {platform}"},
            "currency": "GBP",
            "address": {"country": "GB", "city": "London", "line1": "1 High St"},
        },
    )
    api.entity(entity["id"])
    bodies = counterparts_like(folder)
    made = [(await api.call("POST", "/v1/counterparts", json=b), e) for b, e in bodies]
    print(
        f"    {len(made)} counterparts resembling the example contacts"
        + ("" if made else " (the example contacts have no usable names)")
    )
    # a duplicate name: the same supplier twice in the same city -> ambiguous
    duplicate = None
    if made:
        dup = made[-1][0]["organization"]
        clone = {
            "type": "organization",
            "organization": {k: dup[k] for k in ("legal_name", "is_customer", "is_vendor")}
            | {"address": {k: v for k, v in (dup.get("address") or {}).items() if v is not None}},
        }
        duplicate = (await api.call("POST", "/v1/counterparts", json=clone))["id"]
    counterpart_names = {c["id"]: c["organization"]["legal_name"] for c, _ in made}
    if duplicate:
        counterpart_names[duplicate] = made[-1][0]["organization"]["legal_name"]
    connection = await api.call("POST", "/v1/accounting_connections", json={"platform": platform})
    report.check(
        "connection pending_auth",
        connection["status"] == "pending_auth",
        connection["connection_url"],
    )
    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(connection["connection_url"])
        action = re.search(r"action='([^']*/authorize)'", page.text)
        if page.status_code != 200 or not action:
            raise DemoFailure(f"link page has no Authorize button ({page.status_code})")
        clicked = await browser.post(action.group(1))
        report.check("authorised on the link page", clicked.status_code in (200, 303))

    async def first_pull() -> Any:
        c = await api.call("GET", f"/v1/accounting_connections/{connection['id']}")
        return c if c["status"] == "connected" and c["last_pull"] else None

    connected = await wait_for(first_pull, "the first pull")
    report.check("connected and pulled", True, f"last_pull {connected['last_pull']}")
    # by name (then id), so that the output and the accounts chosen are the same every run
    accounts = sorted(
        (await api.call("GET", "/v1/ledger_accounts?limit=250"))["data"],
        key=lambda a: (a["name"] or "", a["id"]),
    )
    rates = sorted(
        (await api.call("GET", "/v1/accounting_tax_rates?limit=250"))["data"],
        key=lambda r: (r["name"] or "", r["id"]),
    )
    expected_accounts = len(
        {
            a["id"]
            for a in load_examples(folder)["accounts"]
            if not (a.get("metadata") or {}).get("isDeleted")
        }
    )
    report.check(
        "ledger accounts pulled",
        len(accounts) == expected_accounts,
        f"{len(accounts)}: " + ", ".join(a["name"] for a in accounts[:4]),
    )
    expected_rates = EXAMPLES / folder / "taxRates.json"
    report.check(
        "tax rates pulled",
        len(rates) > 0 or not expected_rates.exists(),
        ", ".join(f"{r['name']} ({(r['effective_tax_rate'] or 0) / 100:g}%)" for r in rates[:4]),
    )
    outcome: dict[str, int] = {}
    contacts = contact_names(folder)
    ambiguous: list[str] = []
    intended_ambiguities = 0
    for object_type in ("customer", "vendor", "product"):
        for record in (
            await api.call(
                "GET", f"/v1/accounting_synced_records?object_type={object_type}&limit=250"
            )
        )["data"]:
            key = f"{object_type} {record['sync_status']}"
            outcome[key] = outcome.get(key, 0) + 1
            if record["sync_status"] == "error" and record["errors"]:
                details = record["errors"].get("details") or []
                ids = {str(d.get("object_id")) for d in details}
                on_purpose = duplicate is not None and duplicate in ids
                intended_ambiguities += on_purpose
                candidates = ", ".join(
                    f"{counterpart_names.get(str(d.get('object_id')), d.get('object_id'))!r}"
                    f" {d.get('score')}"
                    for d in details
                )
                contact = contacts.get(str(record["provider_object_id"]))
                ambiguous.append(
                    f"    ambiguous {object_type} {contact or record['provider_object_id']!r}:"
                    f" candidates {candidates}"
                    + (" (intended: the demo created this counterpart twice)" if on_purpose else "")
                )
    for line in sorted(ambiguous):
        print(line)
    print("    matching: " + ", ".join(f"{k}: {v}" for k, v in sorted(outcome.items())))
    linked = outcome.get("customer done", 0) + outcome.get("vendor done", 0)
    if any(expected == "matched" for _, expected in made):
        unexpected = sum(
            v for k, v in outcome.items() if k.endswith(" error") and not k.startswith("product")
        )
        report.check(
            "contacts matched",
            linked > 0,
            f"{linked} linked, {unexpected} left for a person"
            + (f" ({intended_ambiguities} intended)" if intended_ambiguities else ""),
        )
    products = (await api.call("GET", "/v1/products?limit=250"))["data"]
    report.check(
        "products created for unmatched items",
        len(products) == outcome.get("product done", 0),
        f"{len(products)} products",
    )

    expense = pick_account(accounts, "Expense", ("stationery", "printing", "kantoor"))
    income = pick_account(accounts, "Income", ("sales", "omzet"))
    rate = pick_rate(rates, "bills")
    sales_rate = pick_rate(rates, "invoices")
    tax = {"accounting_tax_rate_id": sales_rate["id"]} if sales_rate else {}

    def shown(rate: Any) -> str:
        """``Standard rate (20%)``; the percentage added where the name lacks it."""
        if not rate:
            return "none"
        percent = f"{(rate['effective_tax_rate'] or 0) / 100:g}%"
        return rate["name"] if percent in (rate["name"] or "") else f"{rate['name']} ({percent})"

    print(
        f"    coding: bills to {expense['name']!r} at {shown(rate)},"
        f" invoices to {income['name']!r} at {shown(sales_rate)}"
    )
    await api.call(
        "PATCH",
        f"/v1/entities/{entity['id']}/settings",
        json={
            "accounting": {
                "ledger_account_ids": {"products": income["id"]},
                "tax_ids": {"deductions": rate["id"] if rate else None},
            }
        },
    )
    vendor = await api.call(
        "POST",
        "/v1/counterparts",
        json={
            "type": "organization",
            "organization": {
                "legal_name": "Demo Stationery Supplies",
                "is_vendor": True,
                "is_customer": True,
                "address": {"country": "GB", "city": "Leeds", "line1": "2 Mill Road"},
            },
        },
    )
    today = dt.date.today().isoformat()

    async def payable(number: str, with_account: bool) -> tuple[str, str]:
        p = await api.call(
            "POST",
            "/v1/payables",
            json={
                "currency": "GBP",
                "counterpart_id": vendor["id"],
                "document_id": number,
                "issued_at": today,
            },
        )
        line = {
            "name": "Printer paper",
            "quantity": 4,
            "unit_price": 1250,
            "tax": (rate["effective_tax_rate"] or 0) if rate else 0,
            **({"accounting_tax_rate_id": rate["id"]} if rate else {}),
        }
        if with_account:
            line["ledger_account_id"] = expense["id"]
        created = await api.call("POST", f"/v1/payables/{p['id']}/line_items", json=line)
        await api.call("POST", f"/v1/payables/{p['id']}/submit_for_approval")
        return p["id"], created["id"]

    good_bill, _ = await payable("DEMO-BILL-1", True)
    await api.call("POST", f"/v1/payables/{good_bill}/approve_payment_operation")
    # approval runs the push's validation: a line without a ledger account is refused
    bad_bill, bad_line = await payable("DEMO-BILL-2", False)
    refused = await api.call(
        "POST", f"/v1/payables/{bad_bill}/approve_payment_operation", expect=(200, 422)
    )
    problems = [d["msg"] for d in (refused or {}).get("detail", [])]
    print(f"    approving DEMO-BILL-2 refused: {'; '.join(problems)}")
    report.check(
        "bill without ledger account refused at approval",
        bool(problems) and any("ledger account" in p for p in problems),
        intended="the demo left its line without a ledger account",
    )
    product = await api.call(
        "POST",
        "/v1/products",
        json={
            "name": "Consulting hour",
            "type": "service",
            "price": {"currency": "GBP", "value": 15000},
            "ledger_account_id": income["id"],
        },
    )
    unaccounted = await api.call(
        "POST",
        "/v1/products",
        json={"name": "Setup fee", "type": "service", "price": {"currency": "GBP", "value": 5000}},
    )

    async def receivable(number: str, product_id: str) -> str:
        r = await api.call(
            "POST",
            "/v1/receivables",
            json={
                "type": "invoice",
                "currency": "GBP",
                "counterpart_id": vendor["id"],
                "document_id": number,
                "line_items": [{"product_id": product_id, "quantity": 2, **tax}],
            },
        )
        await api.call("POST", f"/v1/receivables/{r['id']}/issue")
        return r["id"]

    good_invoice = await receivable("DEMO-INV-1", product["id"])
    # the entity default would rescue a product without an account: clear it to show the failure
    await api.call(
        "PATCH",
        f"/v1/entities/{entity['id']}/settings",
        json={"accounting": {"ledger_account_ids": {"products": None}}},
    )
    bad_invoice = await receivable("DEMO-INV-2", unaccounted["id"])

    async def settled(object_type: str, object_id: str) -> Any:
        async def check() -> Any:
            data = (
                await api.call(
                    "GET",
                    f"/v1/accounting_synced_records?object_type={object_type}&object_id={object_id}",
                )
            )["data"]
            return (
                data[0]
                if data
                and data[0]["sync_status"] in ("done", "error")
                and not (data[0]["sync_status"] == "error" and data[0].get("next_attempt_at"))
                else None
            )

        return await wait_for(check, f"the {object_type} push")

    records = {
        name: await settled(t, i)
        for name, t, i in (
            ("bill 1", "bill", good_bill),
            ("invoice 1", "receivable", good_invoice),
            ("invoice 2", "receivable", bad_invoice),
        )
    }
    print("    synced records:")
    print(f"    {'document':<10} {'status':<7} provider id")
    for name, r in records.items():
        print(f"    {name:<10} {r['sync_status']:<7} {r.get('provider_object_id') or '-'}")
    for name, r in records.items():
        errors = (
            "; ".join(str(d) for d in (r.get("errors") or {}).get("details") or [])
            or (r.get("errors") or {}).get("message")
            or ""
        )
        if errors:
            print(f"    {name} errors: {errors}")
    report.check("good bill pushed", records["bill 1"]["sync_status"] == "done")
    report.check("good invoice pushed", records["invoice 1"]["sync_status"] == "done")
    report.check(
        "invoice whose product has no ledger account refused",
        records["invoice 2"]["sync_status"] == "error",
        intended="the demo cleared the entity's default ledger account",
    )
    # the fixes: code the bill's line and approve it; give the product an account and retry
    await api.call(
        "PATCH",
        f"/v1/payables/{bad_bill}/line_items/{bad_line}",
        json={"ledger_account_id": expense["id"]},
    )
    await api.call("POST", f"/v1/payables/{bad_bill}/approve_payment_operation")
    await api.call(
        "PATCH", f"/v1/products/{unaccounted['id']}", json={"ledger_account_id": income["id"]}
    )
    await api.call("POST", f"/v1/accounting_synced_records/{records['invoice 2']['id']}/push")
    fixed_bill = await settled("bill", bad_bill)
    fixed_invoice = await settled("receivable", bad_invoice)
    report.check("fixed bill approved and pushed", fixed_bill["sync_status"] == "done")
    report.check("fixed invoice retried and done", fixed_invoice["sync_status"] == "done")

    company = connection_company = None
    async with httpx.AsyncClient(
        base_url=sandbox_url,
        timeout=30,
        headers={"Authorization": "Basic " + base64.b64encode(sandbox_key.encode()).decode()},
    ) as codat:
        companies = (await codat.get("/companies", params={"pageSize": 5000})).json()["results"]
        company = next((c for c in companies if c["name"] == f"Demo {platform}"), None)
        connection_company = company["id"] if company else None
        if connection_company:
            bill = (
                await codat.get(
                    f"/companies/{connection_company}/data/bills/"
                    f"{records['bill 1']['provider_object_id']}"
                )
            ).json()
            invoice = (
                await codat.get(
                    f"/companies/{connection_company}/data/invoices/"
                    f"{records['invoice 1']['provider_object_id']}"
                )
            ).json()
            print(
                f"    in {platform}: bill {bill.get('reference')} {bill.get('status')} "
                f"total {_money(bill.get('totalAmount'), bill.get('currency'))}; "
                f"invoice {invoice.get('invoiceNumber')} {invoice.get('status')} "
                f"total {_money(invoice.get('totalAmount'), invoice.get('currency'))}"
            )
            report.check(
                "bill in the accounting system",
                bill.get("status") == "Open"
                and float(bill.get("subTotal", 0)) == 50.0
                # the line's VAT at the rate it was coded to (50.00 x 20% = 10.00)
                and float(bill.get("taxAmount") or 0)
                == round(50 * ((rate or {}).get("effective_tax_rate") or 0) / 10000, 2),
            )
            report.check(
                "invoice in the accounting system",
                invoice.get("status") == "Submitted" and float(invoice.get("subTotal", 0)) == 300.0,
            )
    report.check("sandbox company found", connection_company is not None)


async def run_demo(
    platforms: list[str],
    url: str | None = None,
    settings: Settings | None = None,
    api_key: str = "sandbox",
    keep: bool = False,
) -> list[Report]:
    """Run the demo for ``platforms``; returns one report per platform. On the embedded
    service its temporary folder is removed at the end, or kept with ``keep``."""
    reports: list[Report] = []

    async def drive(base: str, cfg: Settings) -> None:
        client_id, secret = await create_partner(cfg, "Demo partner")
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            api = Api(http)
            token = await api.call(
                "POST",
                "/v1/auth/token",
                json={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                },
            )
            api.headers = {"Authorization": f"Bearer {token['access_token']}"}
            await api.call(
                "PATCH",
                "/v1/settings",
                json={"accounting": {"provider": "codat", "token": api_key}},
            )
            receiver = webhooks.DemoReceiver()  # the partner's webhook endpoint (issue 18)
            await receiver.start()
            await receiver.subscribe(api)
            print(f"webhooks: {receiver.url} subscribed to {', '.join(webhooks.OBJECT_TYPES)}")
            for platform in platforms:
                report = Report(platform)
                reports.append(report)
                try:
                    if platform == SMARTY:
                        from demo.smarty import run_smarty

                        await run_smarty(api, cfg, report)
                    else:
                        await run_platform(api, cfg.provider_base_url, api_key, platform, report)
                    await webhooks.show(api, receiver, report)
                except DemoFailure as exc:
                    report.check("demo step", False, str(exc))
                api.headers.pop("x-monite-entity-id", None)
            await receiver.stop()

    if url is None:
        async with embedded_service(keep) as (base, cfg):
            await drive(base, cfg)
    else:
        base = url.rstrip("/")
        await drive(base, served_at(settings or load_settings(), base))
    print("\n== summary")
    for report in reports:
        failed = [name for name, ok, _ in report.checks if not ok]
        print(f"  {report.platform:<32} {'ok' if report.ok else 'FAILED: ' + ', '.join(failed)}")
    return reports


def main(platform: str, all_platforms: bool, url: str | None, keep: bool = False) -> int:
    """CLI entry: exit 0 when every platform's demo turned out as it should."""
    if all_platforms:
        platforms = sorted(FOLDER_OF)
    else:
        if platform not in FOLDER_OF and platform != SMARTY:
            print(
                f"unknown platform {platform!r}; one of: {', '.join(sorted([*FOLDER_OF, SMARTY]))}",
                file=sys.stderr,
            )
            return 2
        platforms = [platform]
    import logging

    for noisy in ("httpx", "apscheduler", "acctsync", "sandbox"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    reports = asyncio.run(run_demo(platforms, url, keep=keep))
    return 0 if reports and all(r.ok for r in reports) else 1
