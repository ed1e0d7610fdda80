"""A seeded generator of whole accounting companies of any size (Codat record shapes).

``generate_company_data(GeneratorSpec(customers=..., seed=...))`` returns records by data type;
the same spec always yields the same records. Faker (one seeded instance per locale) fills
small pools of names, streets, cities and postcodes once; records are then combined from the
pools with a seeded ``random.Random``, which keeps 100,000 counterparts and 50,000 documents
to seconds. Money is decimal in major units rounded to 2 places, as Codat returns it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from faker import Faker

# locale, country name as platforms print it, ISO code, currency, company suffixes
_LOCALES: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("en_GB", "United Kingdom", "GB", "GBP", ("Ltd", "Limited", "LLP", "& Sons", "Group")),
    ("en_US", "United States", "US", "USD", ("Inc", "LLC", "Corp", "& Co", "Partners")),
    ("de_DE", "Germany", "DE", "EUR", ("GmbH", "AG", "KG", "& Partner", "GmbH & Co. KG")),
    ("fr_FR", "France", "FR", "EUR", ("SARL", "SA", "SAS", "et Fils", "Associés")),
    ("nl_NL", "Netherlands", "NL", "EUR", ("B.V.", "N.V.", "& Zn", "Groep", "Holding")),
    ("es_ES", "Spain", "ES", "EUR", ("S.L.", "S.A.", "y Asociados", "Hermanos", "Grupo")),
    ("en_IE", "Ireland", "IE", "EUR", ("Ltd", "DAC", "Teoranta", "& Co", "Holdings")),
)
_TRADES = (
    "Consulting", "Logistics", "Design", "Bakery", "Engineering", "Print", "Media", "Foods",
    "Motors", "Electrical", "Plumbing", "Software", "Textiles", "Supplies", "Catering",
    "Architects", "Builders", "Travel", "Dental", "Analytics",
)  # fmt: skip
_PRODUCTS = (
    "Consulting hour", "Design day rate", "Support plan", "Widget", "Installation",
    "Delivery", "Licence", "Training session", "Maintenance visit", "Hosting month",
    "Printed brochure", "Coffee beans 1kg", "Office chair", "Laptop stand", "Cable kit",
    "Audit", "Translation page", "Photography session", "Cleaning service", "Spare part",
)  # fmt: skip
_GRADES = (
    "Standard", "Premium", "Basic", "Deluxe", "Compact", "Large", "Eco", "Pro", "Express",
    "Classic", "Advanced", "Starter", "Enterprise", "Mini", "Plus",
)  # fmt: skip
_POOL = 120


@dataclass(frozen=True)
class GeneratorSpec:
    """How many records of each kind to generate, and the seed (same spec, same data)."""

    customers: int = 50
    suppliers: int = 50
    items: int = 20
    invoices: int = 100
    bills: int = 100
    seed: int = 1
    currency: str = "GBP"
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)


def _uuid(rng: random.Random) -> str:
    """A version-4-shaped uuid string drawn from ``rng`` (reproducible)."""
    a, b, c, d = rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(14)
    return f"{a:08x}-{b:04x}-4{c:03x}-{d | 0x8000:04x}-{rng.getrandbits(48):012x}"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Clock:
    """Fast ``YYYY-MM-DDTHH:MM:SSZ`` strings for offsets (seconds) from a start date."""

    def __init__(self, start: datetime, days: int = 400) -> None:
        self.days = [(start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days)]

    def stamp(self, seconds: int) -> str:
        day, rest = divmod(seconds, 86400)
        hour, rest = divmod(rest, 3600)
        minute, second = divmod(rest, 60)
        return f"{self.days[day]}T{hour:02d}:{minute:02d}:{second:02d}Z"


def _picker(rng: random.Random):
    rand = rng.random

    def pick(seq):
        return seq[int(rand() * len(seq))]

    return pick


class _Pools:
    """Per-locale pools of Faker values, built once per seed."""

    def __init__(self, seed: int) -> None:
        self.by_locale = []
        for index, (locale, country, code, currency, suffixes) in enumerate(_LOCALES):
            fake = Faker(locale)
            fake.seed_instance(seed * 1000 + index)
            self.by_locale.append(
                {
                    "country": country,
                    "code": code,
                    "currency": currency,
                    "suffixes": suffixes,
                    "last": [fake.last_name() for _ in range(_POOL)],
                    "first": [fake.first_name() for _ in range(_POOL)],
                    "street": [fake.street_address().replace("\n", ", ") for _ in range(_POOL)],
                    "city": [fake.city() for _ in range(_POOL)],
                    "postcode": [fake.postcode() for _ in range(_POOL)],
                    "domain": [fake.domain_name() for _ in range(_POOL // 4)],
                }
            )


def _accounts(rng: random.Random, currency: str, stamp: str) -> list[dict[str, Any]]:
    chart = (
        ("200", "Sales", "Income", "Income.Revenue"),
        ("260", "Other Revenue", "Income", "Income.Revenue"),
        ("270", "Interest Income", "Income", "Income.Other"),
        ("310", "Cost of Goods Sold", "Expense", "Expense.DirectCosts"),
        ("400", "Advertising", "Expense", "Expense.Overheads"),
        ("420", "Entertainment", "Expense", "Expense.Overheads"),
        ("429", "General Expenses", "Expense", "Expense.Overheads"),
        ("433", "Insurance", "Expense", "Expense.Overheads"),
        ("461", "Printing & Stationery", "Expense", "Expense.Overheads"),
        ("469", "Rent", "Expense", "Expense.Overheads"),
        ("489", "Telephone & Internet", "Expense", "Expense.Overheads"),
        ("493", "Travel - National", "Expense", "Expense.Overheads"),
        ("610", "Accounts Receivable", "Asset", "Asset.Current"),
        ("090", "Business Bank Account", "Asset", "Asset.Bank"),
        ("800", "Accounts Payable", "Liability", "Liability.Current"),
        ("820", "VAT", "Liability", "Liability.Current"),
        ("970", "Owner A Funds Introduced", "Equity", "Equity.Owners"),
    )
    accounts = []
    for code, name, account_type, category in chart:
        accounts.append(
            {
                "id": _uuid(rng),
                "nominalCode": code,
                "name": name,
                "description": "",
                "fullyQualifiedCategory": category,
                "fullyQualifiedName": f"{category}.{name}",
                "currency": currency,
                "currentBalance": round(rng.uniform(0, 50000), 2),
                "type": account_type,
                "status": "Active",
                "isBankAccount": category == "Asset.Bank",
                "modifiedDate": stamp,
                "sourceModifiedDate": stamp[:-1],
                "metadata": {"isDeleted": False},
            }
        )
    return accounts


def _tax_rates(stamp: str) -> list[dict[str, Any]]:
    rates = (
        ("OUTPUT2", "20% (VAT on Income)", 20.0),
        ("INPUT2", "20% (VAT on Expenses)", 20.0),
        ("RRINPUT", "5% (VAT on Expenses)", 5.0),
        ("ZERORATEDOUTPUT", "Zero Rated Income", 0.0),
        ("EXEMPTINPUT", "Exempt Expenses", 0.0),
        ("NONE", "No VAT", 0.0),
    )
    return [
        {
            "id": rate_id,
            "name": name,
            "code": rate_id,
            "status": "Active",
            "effectiveTaxRate": rate,
            "totalTaxRate": rate,
            "components": [{"name": "VAT", "rate": rate, "isCompound": False}],
            "modifiedDate": stamp,
            "metadata": {"isDeleted": False},
        }
        for rate_id, name, rate in rates
    ]


def _counterparts(
    rng: random.Random, pools: _Pools, count: int, kind: str, start: datetime
) -> list[dict[str, Any]]:
    name_key = "customerName" if kind == "customers" else "supplierName"
    seen: set[str] = set()
    records = []
    pick = _picker(rng)
    rand = rng.random
    clock = _Clock(start)
    for index in range(count):
        pool = pick(pools.by_locale)
        last = pick(pool["last"])
        style = rand()
        if style < 0.45:
            name = f"{last} {pick(_TRADES)} {pick(pool['suffixes'])}"
        elif style < 0.7:
            name = f"{last} & {pick(pool['last'])} {pick(pool['suffixes'])}"
        elif style < 0.85:
            name = f"{pick(pool['city'])} {pick(_TRADES)}"
        else:
            name = f"{pick(pool['first'])} {last}"
        if name in seen:
            name = f"{name} ({pick(pool['city'])})"
            if name in seen:
                name = f"{name} {index}"
        seen.add(name)
        city = pick(pool["city"])
        modified = clock.stamp(int(rand() * 300 * 86400))
        first = pick(pool["first"])
        domain = pick(pool["domain"])
        email = f"{first.lower()}@{domain}" if rand() < 0.8 else ""
        country = pool["country"] if rand() < 0.9 else pool["code"]
        record = {
            "id": _uuid(rng),
            name_key: name,
            "contactName": f"{first} {last}",
            "emailAddress": email,
            "defaultCurrency": pool["currency"],
            "phone": f"+{10 + int(rand() * 89)} {100000000 + int(rand() * 899999999)}",
            "addresses": [
                {
                    "type": "Billing",
                    "line1": pick(pool["street"]),
                    "line2": "",
                    "city": city,
                    "region": "",
                    "country": country,
                    "postalCode": pick(pool["postcode"]),
                }
            ],
            "registrationNumber": str(10_000_000 + int(rand() * 89_999_999)),
            "taxNumber": f"{pool['code']}{100_000_000 + int(rand() * 899_999_999)}",
            "status": "Active" if rand() < 0.95 else "Archived",
            "modifiedDate": modified,
            "sourceModifiedDate": modified[:-1],
            "metadata": {"isDeleted": False},
        }
        if kind == "customers":
            record["contacts"] = []
        records.append(record)
    return records


def _items(
    rng: random.Random, count: int, income: list, expense: list, stamp: str
) -> list[dict[str, Any]]:
    items = []
    seen: set[str] = set()
    for index in range(count):
        name = rng.choice(_PRODUCTS)
        if name in seen:
            name = f"{rng.choice(_GRADES)} {name.lower()}"
        if name in seen:
            name = f"{name} (SKU-{index + 1:05d})"
        seen.add(name)
        price = round(rng.uniform(5, 2000), 2)
        items.append(
            {
                "id": _uuid(rng),
                "name": name,
                "code": f"SKU-{index + 1:05d}",
                "itemStatus": "Active",
                "type": rng.choice(("NonInventory", "Service", "Inventory")),
                "isBillItem": True,
                "billItem": {
                    "description": name,
                    "unitPrice": round(price * 0.6, 2),
                    "accountRef": rng.choice(expense),
                    "taxRateRef": {"id": "INPUT2", "name": "20% (VAT on Expenses)"},
                },
                "isInvoiceItem": True,
                "invoiceItem": {
                    "description": name,
                    "unitPrice": price,
                    "accountRef": rng.choice(income),
                    "taxRateRef": {"id": "OUTPUT2", "name": "20% (VAT on Income)"},
                },
                "modifiedDate": stamp,
                "sourceModifiedDate": stamp[:-1],
                "metadata": {"isDeleted": False},
            }
        )
    return items


def _documents(
    rng: random.Random,
    count: int,
    kind: str,
    parties: list[dict[str, Any]],
    items: list[dict[str, Any]],
    accounts: list[dict[str, Any]],
    spec: GeneratorSpec,
) -> list[dict[str, Any]]:
    is_invoice = kind == "invoices"
    tax = (
        {"id": "OUTPUT2", "name": "20% (VAT on Income)", "effectiveTaxRate": 20.0}
        if is_invoice
        else {"id": "INPUT2", "name": "20% (VAT on Expenses)", "effectiveTaxRate": 20.0}
    )
    side = "invoiceItem" if is_invoice else "billItem"
    statuses = (
        ("Submitted", "Paid", "PartiallyPaid", "Draft", "Void")
        if is_invoice
        else ("Open", "Paid", "PartiallyPaid", "Draft", "Void")
    )
    status_table = [s for s, w in zip(statuses, (45, 35, 10, 7, 3), strict=True) for _ in range(w)]
    documents = []
    pick = _picker(rng)
    rand = rng.random
    clock = _Clock(spec.start)
    for index in range(count):
        party = pick(parties) if parties else None
        issue_day = int(rand() * 330)
        lines = []
        subtotal = 0.0
        for _ in range(1 + int(rand() * 3)):
            quantity = 1 + int(rand() * 10)
            if items and rand() < 0.8:
                item = pick(items)
                unit = item[side]["unitPrice"]
                description = item["name"]
                item_ref: dict[str, Any] | None = {"id": item["id"], "name": item["name"]}
                account_ref = item[side]["accountRef"]
            else:
                unit = round(10 + rand() * 890, 2)
                description = pick(_PRODUCTS)
                item_ref = None
                account_ref = pick(accounts)
            line_subtotal = round(unit * quantity, 2)
            line_tax = round(line_subtotal * 0.2, 2)
            subtotal += line_subtotal
            line = {
                "description": description,
                "unitAmount": unit,
                "quantity": quantity,
                "discountAmount": 0,
                "subTotal": line_subtotal,
                "taxAmount": line_tax,
                "totalAmount": round(line_subtotal + line_tax, 2),
                "accountRef": account_ref,
                "discountPercentage": 0,
                "taxRateRef": tax,
                "trackingCategoryRefs": [],
            }
            if item_ref:
                line["itemRef"] = item_ref
            lines.append(line)
        subtotal = round(subtotal, 2)
        tax_total = round(sum(line["taxAmount"] for line in lines), 2)
        total = round(subtotal + tax_total, 2)
        status = pick(status_table)
        due = total if status in ("Submitted", "Open", "Draft") else 0.0
        if status == "PartiallyPaid":
            due = round(total / 2, 2)
        modified = clock.stamp((issue_day + int(rand() * 30)) * 86400 + index % 86400)
        document: dict[str, Any] = {
            "id": _uuid(rng),
            "issueDate": f"{clock.days[issue_day]}T00:00:00",
            "dueDate": f"{clock.days[issue_day + 30]}T00:00:00",
            "currency": spec.currency,
            "currencyRate": 1,
            "lineItems": lines,
            "subTotal": subtotal,
            "totalAmount": total,
            "amountDue": due,
            "status": status,
            "note": "",
            "modifiedDate": modified,
            "sourceModifiedDate": modified[:-1],
            "metadata": {"isDeleted": False},
        }
        if is_invoice:
            document["invoiceNumber"] = f"INV-{index + 1:06d}"
            document["customerRef"] = (
                {"id": party["id"], "companyName": party["customerName"]} if party else None
            )
            document["totalTaxAmount"] = tax_total
            document["totalDiscount"] = 0
        else:
            document["reference"] = f"BILL-{index + 1:06d}"
            document["supplierRef"] = (
                {"id": party["id"], "supplierName": party["supplierName"]} if party else None
            )
            document["taxAmount"] = tax_total
        documents.append(document)
    return documents


def generate_company_data(spec: GeneratorSpec) -> dict[str, list[dict[str, Any]]]:
    """Records by data type (``accounts, taxRates, customers, suppliers, items, invoices,
    bills``) for ``spec``; deterministic in ``spec`` (same spec, equal output)."""
    rng = random.Random(spec.seed)
    pools = _Pools(spec.seed)
    stamp = _stamp(spec.start)
    accounts = _accounts(rng, spec.currency, stamp)
    refs = {a["type"]: [] for a in accounts}
    for account in accounts:
        refs[account["type"]].append({"id": account["id"], "name": account["name"]})
    customers = _counterparts(rng, pools, spec.customers, "customers", spec.start)
    suppliers = _counterparts(rng, pools, spec.suppliers, "suppliers", spec.start)
    items = _items(rng, spec.items, refs["Income"], refs["Expense"], stamp)
    invoices = _documents(rng, spec.invoices, "invoices", customers, items, refs["Income"], spec)
    bills = _documents(rng, spec.bills, "bills", suppliers, items, refs["Expense"], spec)
    return {
        "accounts": accounts,
        "taxRates": _tax_rates(stamp),
        "customers": customers,
        "suppliers": suppliers,
        "items": items,
        "invoices": invoices,
        "bills": bills,
    }
