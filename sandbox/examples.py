"""The example companies, one per platform: Codat's published example data
(``sandbox/data/codat/``) plus a generated layer (``sandbox/supplement.py``).

Loaded from the package's own copy (never from /work/shared at run time). Published records
keep every original field; items are derived from invoice and bill lines' ``itemRef`` because
Codat publishes no item examples. The generated layer (a chart of accounts, tax rates,
customers and suppliers of the platform's country, every id starting ``gen-``) is appended
after the published records of each type.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import msgspec

from sandbox.supplement import generated_records

DATA_DIR = Path(__file__).parent / "data" / "codat"
READ_TYPES = ("accounts", "taxRates", "customers", "suppliers", "invoices", "bills")


@functools.cache
def _load_raw(folder: str) -> dict[str, list[dict[str, Any]]]:
    """Decode the example files of one platform folder once per process."""
    out: dict[str, list[dict[str, Any]]] = {}
    for data_type in READ_TYPES:
        path = DATA_DIR / folder / f"{data_type}.json"
        if path.exists():
            out[data_type] = msgspec.json.decode(path.read_bytes())["results"]
        else:
            out[data_type] = []
    out["items"] = derive_items(out["invoices"], out["bills"])
    return out


@functools.cache
def _load_company(folder: str) -> dict[str, list[dict[str, Any]]]:
    published = _load_raw(folder)
    extra = generated_records(folder, published)
    return {t: [*records, *extra.get(t, ())] for t, records in published.items()}


def load_examples(folder: str, *, generated: bool = True) -> dict[str, list[dict[str, Any]]]:
    """A fresh deep copy of one platform's example company by data type: Codat's published
    records, then (unless ``generated`` is false) the generated layer's.

    Keys: ``accounts, taxRates, customers, suppliers, invoices, bills, items``.
    Raises FileNotFoundError when the folder does not exist.
    """
    if not (DATA_DIR / folder).is_dir():
        raise FileNotFoundError(f"no example data for {folder!r}")
    return copy.deepcopy(_load_company(folder) if generated else _load_raw(folder))


def derive_items(
    invoices: list[dict[str, Any]], bills: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Items from the ``itemRef`` of invoice and bill lines (Codat ``Item`` shape).

    ``name`` is the ref's name, else the line's description; ``invoiceItem``/``billItem``
    carry the line's unit price (major units), ``accountRef`` and ``taxRateRef``.
    """
    items: dict[str, dict[str, Any]] = {}
    for documents, side in ((invoices, "invoiceItem"), (bills, "billItem")):
        for document in documents:
            for line in document.get("lineItems") or ():
                ref = line.get("itemRef") or {}
                item_id = ref.get("id")
                if not item_id:
                    continue
                item = items.get(item_id)
                if item is None:
                    item = {
                        "id": item_id,
                        "name": ref.get("name") or line.get("description") or item_id,
                        "code": item_id,
                        "itemStatus": "Active",
                        "type": "NonInventory",
                        "isBillItem": False,
                        "isInvoiceItem": False,
                        "modifiedDate": document.get("modifiedDate"),
                        "sourceModifiedDate": document.get("sourceModifiedDate"),
                        "metadata": {"isDeleted": False},
                    }
                    items[item_id] = item
                flag = "isInvoiceItem" if side == "invoiceItem" else "isBillItem"
                if not item[flag]:
                    item[flag] = True
                    item[side] = {
                        "description": line.get("description"),
                        "unitPrice": line.get("unitAmount"),
                        "accountRef": line.get("accountRef"),
                        "taxRateRef": line.get("taxRateRef"),
                    }
    return list(items.values())
