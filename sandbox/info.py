"""Codat's company info (``GET /companies/{companyId}/data/info``) for a sandbox company.

Codat publishes no ``info`` examples, so the sandbox derives it from the company's own data:
``baseCurrency`` is the currency of its invoices and bills whose ``currencyRate`` is 1 (a
document in the base currency converts at 1), the most common one; failing that, the most
common currency of its accounts, then of any document. ``companyName`` and ``createdDate`` are
the company's. The other fields of Codat's ``CompanyInfo`` are present and empty, as a platform
that does not hold them sends them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any


def _most_common(values: Iterable[Any]) -> str | None:
    counts = Counter(v for v in values if isinstance(v, str) and len(v) == 3)
    return counts.most_common(1)[0][0] if counts else None


def base_currency(data: dict[str, list[dict[str, Any]]]) -> str | None:
    """The company's base currency (ISO 4217) read from its records by data type; see the
    module docstring. None when nothing in the data names a currency."""
    documents = [*data.get("invoices", ()), *data.get("bills", ())]
    at_par = (d.get("currency") for d in documents if d.get("currencyRate") in (1, 1.0))
    return (
        _most_common(at_par)
        or _most_common(a.get("currency") for a in data.get("accounts", ()))
        or _most_common(d.get("currency") for d in documents)
    )


def company_info(
    name: str, created: str | None, data: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """Codat's ``CompanyInfo`` shape for a company named ``name`` created at ``created``
    (ISO 8601) holding ``data``."""
    return {
        "companyName": name,
        "accountingPlatformRef": None,
        "companyLegalName": name,
        "addresses": [],
        "phoneNumbers": [],
        "webLinks": [],
        "ledgerLockDate": None,
        "registrationNumber": None,
        "taxNumber": None,
        "financialYearStartDate": None,
        "baseCurrency": base_currency(data),
        "sourceUrls": {},
        "createdDate": created,
    }
