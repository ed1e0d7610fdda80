"""Example organisations and a generator for large ones.

:func:`seed_examples` creates two UK organisations with a realistic chart of accounts, the UK
VAT rates, customers and suppliers, items and a few invoices and bills, and the users who
reach them (:data:`EXAMPLE_USERS`). :func:`generate` fills an organisation with ``n`` records
of each kind, deterministically from a seed (as the Codat sandbox's generator).
"""

from __future__ import annotations

import random
from typing import Any

from smarty_sandbox import records
from smarty_sandbox.store import Organisation, Store

#: (email, password) of the seeded users: the first reaches both example organisations, the
#: second only the first one.
EXAMPLE_USERS: tuple[tuple[str, str], ...] = (
    ("demo@smarty.example", "smarty-demo"),
    ("owner@harbour.example", "harbour-owner"),
)

_VAT_RATES = (
    ("Sales", "20", "20% (VAT on Income)"),
    ("Purchases", "20", "20% (VAT on Expenses)"),
    ("Sales", "5", "5% (VAT on Income)"),
    ("Purchases", "5", "5% (VAT on Expenses)"),
    ("Sales", "0", "Zero Rated Income"),
    ("Purchases", "0", "Zero Rated Expenses"),
    ("None", "0", "No VAT"),
)
_ACCOUNTS = (
    ("Revenue", "4000", "Sales", "20% (VAT on Income)", 0),
    ("Revenue", "4010", "Wholesale Sales", "20% (VAT on Income)", 0),
    ("Other Income", "4900", "Other Revenue", "No VAT", 0),
    ("Direct Costs", "5000", "Cost of Goods Sold", "20% (VAT on Expenses)", 0),
    ("Expense", "6100", "Rent", "Zero Rated Expenses", 0),
    ("Expense", "6200", "Utilities", "20% (VAT on Expenses)", 0),
    ("Expense", "6300", "Office Supplies", "20% (VAT on Expenses)", 0),
    ("Expense", "6400", "Travel", "20% (VAT on Expenses)", 0),
    ("Expense", "6500", "Professional Fees", "20% (VAT on Expenses)", 0),
    ("Bank", "1200", "Business Current Account", "No VAT", 1),
    ("Current Asset", "1100", "Accounts Receivable", "No VAT", 0),
    ("Current Liability", "2100", "Accounts Payable", "No VAT", 0),
    ("Current Liability", "2200", "VAT Control", "No VAT", 0),
)
_CUSTOMERS = (
    (
        "Brightwater Cafe Ltd",
        "Amelia",
        "Hughes",
        "orders@brightwatercafe.co.uk",
        "12 Quay St",
        "Bristol",
        "BS1 4DJ",
    ),
    (
        "The Copper Kettle",
        "Oliver",
        "Shaw",
        "hello@copperkettle.co.uk",
        "3 Market Pl",
        "York",
        "YO1 8SJ",
    ),
    (
        "Greenleaf Deli Ltd",
        "Priya",
        "Patel",
        "accounts@greenleafdeli.co.uk",
        "88 Mill Rd",
        "Cambridge",
        "CB1 2AW",
    ),
    (
        "Northside Bakery",
        "Tom",
        "Reilly",
        "tom@northsidebakery.co.uk",
        "7 Church Ln",
        "Leeds",
        "LS2 7EY",
    ),
)
_SUPPLIERS = (
    (
        "Andes Green Coffee Importers Ltd",
        "Lucia",
        "Ramos",
        "sales@andesgreen.co.uk",
        "Unit 4 Dock Rd",
        "Liverpool",
        "L3 4AF",
    ),
    (
        "Kraft Packaging Supplies",
        "James",
        "Fox",
        "orders@kraftpack.co.uk",
        "21 Trade Park",
        "Manchester",
        "M17 1RN",
    ),
    (
        "City Power & Gas",
        "",
        "",
        "billing@citypowergas.co.uk",
        "1 Energy Way",
        "London",
        "EC2A 4NE",
    ),
)
_ITEMS = (
    ("House Espresso Blend 1kg", "Goods", "18.50", "9.20"),
    ("Single Origin Colombia 250g", "Goods", "7.95", "3.80"),
    ("Barista Training Session", "Service", "120.00", ""),
    ("Grinder Servicing", "Service", "65.00", ""),
)


def _add(org: Organisation, store: Store, kind: str, make: Any, body: dict[str, Any]) -> dict:
    new_id = store.next_id()
    record = make(org, body, new_id)
    org.records[kind][new_id] = record
    return record


def base_books(store: Store, org: Organisation) -> None:
    """The chart of accounts and VAT rates every new organisation starts with."""
    for vat_type, rate, name in _VAT_RATES:
        _add(
            org,
            store,
            "vatrates",
            records.vat_rate,
            {"vat_type": vat_type, "vat_rate": rate, "vat_name": name},
        )
    for account_type, code, name, vat, payments in _ACCOUNTS:
        _add(
            org,
            store,
            "accounts",
            records.account,
            {
                "account_type": account_type,
                "account_name": name,
                "account_code": code,
                "account_vat": vat,
                "is_enable_payment": payments,
            },
        )


def _account_id(org: Organisation, code: str) -> int:
    return next(
        a["account_id"] for a in org.records["accounts"].values() if a["account_code"] == code
    )


def _contact_body(row: tuple[str, ...], kind: str, country: str) -> dict[str, Any]:
    name, first, last, email, line1, city, postcode = row
    return {
        "display_name": name,
        "contact_type": kind,
        "first_name": first,
        "last_name": last,
        "email": email,
        "company_name": name,
        "contact_currency": "GBP",
        "contact_vatmode": "Exclusive",
        "address_line1": line1,
        "contact_city": city,
        "contact_postcode": postcode,
        "contact_country": country,
    }


def _document(
    store: Store,
    org: Organisation,
    kind: str,
    contact_id: int,
    lines: list,
    date: str,
    due: str,
    reference: str,
) -> dict[str, Any]:
    body = {
        "date": date,
        "due_date": due,
        "contact_id": contact_id,
        "currency": org.currency,
        "exchange_rate": "1",
        "tax_mode": "Exclusive",
        "reference": reference,
        "items": lines,
    }
    new_id = store.next_id()
    record = records.document(org, kind, body, new_id, None)
    org.records[kind][new_id] = record
    return record


def seed_example(store: Store, name: str, *, country: str = "UK") -> Organisation:
    """One example organisation: base books, customers, suppliers, items and documents."""
    org = store.add_organisation(name)
    base_books(store, org)
    customers = [
        _add(org, store, "contacts", records.contact, _contact_body(row, "Customer", country))
        for row in _CUSTOMERS
    ]
    suppliers = [
        _add(org, store, "contacts", records.contact, _contact_body(row, "Supplier", country))
        for row in _SUPPLIERS
    ]
    sales, costs = _account_id(org, "4000"), _account_id(org, "5000")
    items = [
        _add(
            org,
            store,
            "items",
            records.item,
            {
                "item_name": item_name,
                "item_type": item_type,
                "sale_price": price,
                "sale_account_id": sales,
                "sale_vat": "20% (VAT on Income)",
                "purchase_price": cost or None,
                "purchase_account_id": costs if cost else None,
                "purchase_vat": "20% (VAT on Expenses)" if cost else None,
            },
        )
        for item_name, item_type, price, cost in _ITEMS
    ]
    for n, customer in enumerate(customers[:3]):
        inv = _document(
            store,
            org,
            "invoices",
            customer["contact_id"],
            [
                {
                    "item_id": items[n]["item_id"],
                    "description": items[n]["item_name"],
                    "account_id": sales,
                    "quantity": str(n + 2),
                    "price": items[n]["sale_price"],
                    "vat": "20% (VAT on Income)",
                },
            ],
            f"2026-10-0{n + 1}",
            f"2026-10-2{n + 1}",
            f"PO-{4410 + n}",
        )
        if n < 2:
            records.transition("invoices", inv, "sent")
    for n, supplier in enumerate(suppliers):
        bill = _document(
            store,
            org,
            "bills",
            supplier["contact_id"],
            [
                {
                    "description": "Monthly supply",
                    "account_id": _account_id(org, "6200" if n == 2 else "5000"),
                    "quantity": "1",
                    "price": str(250 + 40 * n),
                    "vat": "20% (VAT on Expenses)",
                },
            ],
            f"2026-10-1{n}",
            f"2026-11-1{n}",
            f"SUP-{880 + n}",
        )
        if n != 1:
            records.transition("bills", bill, "sent")
    return org


def seed_examples(store: Store) -> list[Organisation]:
    """The example organisations and their users (:data:`EXAMPLE_USERS`)."""
    first = seed_example(store, "Harbour Coffee Roasters Ltd")
    second = seed_example(store, "Northwind Studio Ltd")
    (demo_email, demo_password), (owner_email, owner_password) = EXAMPLE_USERS
    store.add_user(demo_email, demo_password, [first.organisation_id, second.organisation_id])
    store.add_user(owner_email, owner_password, [first.organisation_id])
    return [first, second]


_WORDS = (
    "Acme",
    "Blue",
    "Cedar",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Linden",
    "Maple",
    "North",
    "Orchid",
    "Pine",
    "Quartz",
    "River",
)
_SUFFIX = ("Ltd", "Trading", "& Co", "Services", "Supplies", "Studio", "Group")
_CITIES = (
    ("London", "EC1A"),
    ("Leeds", "LS1"),
    ("Bristol", "BS1"),
    ("York", "YO1"),
    ("Glasgow", "G1"),
    ("Cardiff", "CF10"),
)


def generate(
    store: Store,
    name: str,
    *,
    contacts: int = 100,
    items: int = 20,
    invoices: int = 100,
    bills: int = 100,
    seed: int = 1,
    users: tuple[str, ...] = (),
) -> Organisation:
    """A generated organisation with that many records of each kind (half the contacts
    customers), reproducible from ``seed``; ``users`` (emails of existing users) reach it."""
    rng = random.Random(seed)
    org = store.add_organisation(name)
    base_books(store, org)
    customers, suppliers = [], []
    for n in range(contacts):
        kind = "Customer" if n % 2 == 0 else "Supplier"
        city, postcode = rng.choice(_CITIES)
        display = f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {rng.choice(_SUFFIX)} {n}"
        made = _add(
            org,
            store,
            "contacts",
            records.contact,
            {
                "display_name": display,
                "contact_type": kind,
                "company_name": display,
                "email": f"accounts{n}@example.co.uk",
                "address_line1": f"{n + 1} High St",
                "contact_city": city,
                "contact_postcode": f"{postcode} {n % 9}AA",
                "contact_country": "UK",
            },
        )
        (customers if kind == "Customer" else suppliers).append(made["contact_id"])
    sales = _account_id(org, "4000")
    for n in range(items):
        _add(
            org,
            store,
            "items",
            records.item,
            {
                "item_name": f"{rng.choice(_WORDS)} product {n}",
                "item_type": "Goods",
                "sale_price": f"{rng.randint(100, 99999) / 100:.2f}",
                "sale_account_id": sales,
                "sale_vat": "20% (VAT on Income)",
            },
        )
    for kind, count, holders, account, vat in (
        ("invoices", invoices, customers, sales, "20% (VAT on Income)"),
        ("bills", bills, suppliers, _account_id(org, "5000"), "20% (VAT on Expenses)"),
    ):
        for n in range(count if holders else 0):
            month, day = rng.randint(1, 12), rng.randint(1, 28)
            _document(
                store,
                org,
                kind,
                rng.choice(holders),
                [
                    {
                        "description": f"Line {n}",
                        "account_id": account,
                        "quantity": str(rng.randint(1, 5)),
                        "price": f"{rng.randint(500, 50000) / 100:.2f}",
                        "vat": vat,
                    },
                ],
                f"2026-{month:02d}-{day:02d}",
                f"2026-{month:02d}-28",
                f"GEN-{n}",
            )
    for email in users:
        store.users[email.lower()].organisation_ids.append(org.organisation_id)
    return org
