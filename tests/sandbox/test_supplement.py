"""The generated layer of the example companies (``sandbox/supplement.py``, issue 16): kept
apart from Codat's published records, marked, deterministic, realistic enough to code a bill
line to an expense account at the country's standard VAT rate."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from app.providers.codat.records import decode_object, record_type_for
from sandbox.examples import DATA_DIR, load_examples
from sandbox.supplement import is_generated

FOLDERS = sorted(p.name for p in DATA_DIR.iterdir() if p.is_dir())
TYPES = ("accounts", "taxRates", "customers", "suppliers")
NAME = {"customers": "customerName", "suppliers": "supplierName"}
#: The demo's vendor, pushed as a new supplier: no generated contact may look like it.
DEMO_VENDOR = "Demo Stationery Supplies"
LEGAL = {"ltd", "limited", "llp", "b", "v", "o", "f", "bv", "vof"}


def words(name: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", name.lower())) - LEGAL


@pytest.mark.parametrize("folder", FOLDERS)
def test_published_records_are_served_unchanged_and_generated_ones_after_them(
    folder: str,
) -> None:
    company = load_examples(folder)
    published = load_examples(folder, generated=False)
    for data_type, records in published.items():
        path = DATA_DIR / folder / f"{data_type}.json"
        if path.exists():
            assert records == json.loads(path.read_text())["results"]
        assert company[data_type][: len(records)] == records
        extra = company[data_type][len(records) :]
        assert all(is_generated(r) for r in extra)
        assert not any(is_generated(r) for r in records)
        for record in extra:
            assert record["supplementalData"] == {"content": {"sandbox": {"generated": True}}}
            assert is_generated(record["id"])
            decode_object(record_type_for(data_type), json.dumps(record).encode())
    assert {t for t in company if any(is_generated(r) for r in company[t])} == set(TYPES)


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_layer_adds_what_the_sample_lacks_and_duplicates_nothing(folder: str) -> None:
    company = load_examples(folder)
    published = load_examples(folder, generated=False)
    made = {t: [r for r in company[t] if is_generated(r)] for t in TYPES}
    for data_type, keys in (("accounts", ("nominalCode", "name")), ("taxRates", ("code", "name"))):
        for key in keys:
            taken = {str(r.get(key)).lower() for r in published[data_type] if r.get(key)}
            assert not taken & {str(r[key]).lower() for r in made[data_type]}, (data_type, key)
    types = {a["type"] for a in made["accounts"]}
    assert {"Income", "Expense", "Liability", "Equity"} <= types
    assert all(a["status"] == "Active" and a["currency"] for a in made["accounts"])
    # a bill can be coded to an expense account at a standard rate (generated or published)
    rates = [
        r.get("effectiveTaxRate")
        for r in company["taxRates"]
        if str(r.get("status")).lower() == "active"
    ]
    assert {20, 21} & {float(r) for r in rates if r is not None}
    for rate in made["taxRates"]:
        assert rate["effectiveTaxRate"] == rate["totalTaxRate"]
        assert [c["rate"] for c in rate["components"]] == [rate["effectiveTaxRate"]]
    # contacts: a handful per kind, no word shared with a published contact, the demo's
    # vendor or another generated contact
    avoid = words(DEMO_VENDOR)
    for kind, key in NAME.items():
        assert len(made[kind]) == 4
        avoid |= {w for r in published[kind] for w in words(r.get(key) or "")}
    for kind, key in NAME.items():
        for record in made[kind]:
            assert not words(record[key]) & avoid, record[key]
            avoid |= words(record[key])
            assert record["addresses"][0]["city"] and record["addresses"][0]["postalCode"]


def test_the_readme_tours_supplier_is_in_xeros_books() -> None:
    """The tour's counterpart "Langley IT Services" (Nottingham) is matched by the pull."""
    (langley,) = [s for s in load_examples("xero")["suppliers"] if "Langley" in s["supplierName"]]
    assert is_generated(langley)
    assert langley["supplierName"] == "Langley IT Services Limited"
    address = langley["addresses"][0]
    assert (address["line1"], address["city"], address["postalCode"]) == (
        "108 Mill Lane",
        "Nottingham",
        "NG1 5EJ",
    )


def test_uk_and_dutch_rates_are_the_real_ones() -> None:
    xero = {r["name"]: r["effectiveTaxRate"] for r in load_examples("xero")["taxRates"]}
    assert xero["20% (VAT on Expenses)"] == 20 and xero["5% (VAT on Expenses)"] == 5
    assert xero["Zero Rated Expenses"] == 0
    dutch = {r["name"]: r for r in load_examples("exact-netherlands")["taxRates"]}
    assert dutch["BTW hoog (21%)"]["effectiveTaxRate"] == 21
    assert dutch["BTW laag (9%)"]["effectiveTaxRate"] == 9
    assert dutch["BTW hoog (21%)"]["components"][0]["name"] == "BTW"
    accounts = {a["name"]: a for a in load_examples("xero")["accounts"]}
    assert (accounts["Printing & Stationery"]["nominalCode"], accounts["VAT"]["type"]) == (
        "461",
        "Liability",
    )


def test_the_same_records_in_another_process() -> None:
    """Seeded, not random: a fresh interpreter (another hash seed) makes the same layer."""
    code = (
        "import json; from sandbox.examples import load_examples; "
        "print(json.dumps(load_examples('sage-50-uk'), sort_keys=True))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1
    assert json.loads(runs.pop()) == load_examples("sage-50-uk")
