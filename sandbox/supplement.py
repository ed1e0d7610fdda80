"""The generated layer of the example companies: what Codat's published sample lacks.

Codat's published examples (``sandbox/data/codat/``) are a two-record sample per data type:
Xero's example company has two bank accounts and two 0% tax rates, so nothing in it can code a
bill line to an expense account at a real rate. Each example company therefore gains, on top
of its published records (which stay as published, never edited or replaced):

- a chart of accounts of the platform's country, in the platform's style (Xero's UK default
  chart codes, Sage's UK nominal codes, a Dutch chart for Exact (Netherlands), Xero's layout
  for the other UK platforms): income, direct costs, overheads, bank, receivable, payable,
  VAT, fixed assets, equity; Codat's account fields (``nominalCode``,
  ``fullyQualifiedCategory``, ``fullyQualifiedName``, ``type``, ``status``, ``currency``,
  ``currentBalance``, ``isBankAccount``, ``validDatatypeLinks``);
- the country's VAT rates with their effective rate and one ``VAT``/``BTW`` component: UK
  standard 20%, reduced 5%, zero 0%, exempt and outside the scope of VAT (HMRC, "VAT rates",
  gov.uk/vat-rates); Netherlands 21%, 9%, 0% and exempt (Belastingdienst, "btw-tarieven");
  Xero's tax types (``INPUT2``, ``OUTPUT2``, ...) for Xero and Sage's ``T`` codes for Sage;
- four customers and four suppliers with a registration number, a VAT number and an address
  in the country.

Generated deterministically: the same platform always gets the same records (a
``random.Random`` seeded with the platform's key, no library whose output may change between
versions). Every generated record is marked twice: its ``id`` starts with ``gen-``
(:func:`is_generated`, which also reads a pulled record's provider id) and it carries
``supplementalData: {"content": {"sandbox": {"generated": true}}}``. A generated account or
tax rate whose id, code or name is already published, or a generated non-zero rate whose
percentage an active published rate already offers where it is used (bills, invoices), is
left out; no generated contact shares a word (legal forms aside) with a
published contact. ``modifiedDate`` is the newest published ``modifiedDate`` of the company,
so the generated records look as old as the snapshot Codat published.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

GENERATED_PREFIX = "gen-"
"""Every generated record's id starts with this."""
MARK = {"content": {"sandbox": {"generated": True}}}
"""The ``supplementalData`` every generated record carries."""
CONTACTS_PER_KIND = 4

_BILLS = ["Bill.LineItems.TaxRateRef.Id", "BillCreditNote.LineItems.TaxRateRef.Id"]
_INVOICES = ["Invoice.LineItems.TaxRateRef.Id", "CreditNote.LineItems.TaxRateRef.Id"]
_LINES = {
    "Income": ["Invoice.LineItems.AccountRef.Id", "CreditNote.LineItems.AccountRef.Id"],
    "Expense": ["Bill.LineItems.AccountRef.Id", "BillCreditNote.LineItems.AccountRef.Id"],
}
_BANK_LINKS = ["Payment.AccountRef.Id", "BillPayment.AccountRef.Id"]


def is_generated(record_or_id: dict[str, Any] | str | None) -> bool:
    """True for a record of the generated layer, or the id of one (also a pulled record's
    provider id): ids start with ``gen-``."""
    if isinstance(record_or_id, dict):
        record_or_id = record_or_id.get("id")
    return isinstance(record_or_id, str) and record_or_id.startswith(GENERATED_PREFIX)


@dataclass(frozen=True, slots=True)
class _Country:
    code: str
    name: str
    currency: str
    tax_component: str
    legal_forms: tuple[str, ...]
    surnames: tuple[str, ...]
    customer_trades: tuple[str, ...]
    supplier_trades: tuple[str, ...]
    streets: tuple[str, ...]
    towns: tuple[tuple[str, str], ...]  # town, postcode prefix


_GB = _Country(
    code="GB",
    name="United Kingdom",
    currency="GBP",
    tax_component="VAT",
    legal_forms=("Ltd", "Limited", "LLP", ""),
    surnames=(
        "Ashworth", "Pemberton", "Whitfield", "Cartwright", "Fairbairn", "Holloway", "Kendrick",
        "Marsden", "Radcliffe", "Thornbury", "Langley", "Brereton", "Ormerod", "Tattersall",
        "Haworth", "Prescott",
    ),
    customer_trades=(
        "Architects", "Dental Practice", "Joinery", "Veterinary Surgery", "Garden Centre",
        "Engineering", "Bakery", "Opticians", "Surveyors", "Physiotherapy",
    ),
    supplier_trades=(
        "Couriers", "Facilities Management", "Electrical Contractors", "Cleaning Services",
        "Vehicle Hire", "Security Systems", "Catering", "Office Interiors", "IT Services",
        "Waste Management",
    ),
    streets=(
        "Station Road", "Church Street", "Victoria Road", "King Street", "Queen Street",
        "Mill Lane", "Albert Road", "Market Place", "Castle Street", "Bridge Street",
    ),
    towns=(
        ("Manchester", "M1"), ("Bristol", "BS1"), ("Sheffield", "S1"), ("Nottingham", "NG1"),
        ("Norwich", "NR1"), ("York", "YO1"), ("Cardiff", "CF10"), ("Glasgow", "G1"),
        ("Brighton", "BN1"), ("Reading", "RG1"), ("Exeter", "EX1"), ("Leicester", "LE1"),
    ),
)  # fmt: skip
_NL = _Country(
    code="NL",
    name="Netherlands",
    currency="EUR",
    tax_component="BTW",
    legal_forms=("B.V.", "V.O.F.", ""),
    surnames=(
        "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "de Boer",
        "Dekker", "Brouwer", "Hendriks", "Vermeulen",
    ),
    customer_trades=(
        "Architecten", "Tandartsenpraktijk", "Bouwbedrijf", "Dierenkliniek", "Tuincentrum",
        "Ingenieursbureau", "Bakkerij", "Opticiens",
    ),
    supplier_trades=(
        "Koeriersdienst", "Installatietechniek", "Schoonmaakdiensten", "Drukkerij",
        "Transport", "Beveiliging", "Cateringservice", "ICT Diensten",
    ),
    streets=(
        "Kerkstraat", "Stationsweg", "Dorpsstraat", "Molenweg", "Nieuwstraat", "Marktplein",
        "Havenstraat", "Julianalaan",
    ),
    towns=(
        ("Utrecht", "3511"), ("Rotterdam", "3011"), ("Eindhoven", "5611"), ("Groningen", "9711"),
        ("Haarlem", "2011"), ("Zwolle", "8011"), ("Leiden", "2311"), ("Breda", "4811"),
    ),
)  # fmt: skip

# (code, name, type, fullyQualifiedCategory, is bank): Xero's default UK chart of accounts.
_XERO_CHART = (
    ("200", "Sales", "Income", "Income.Revenue", False),
    ("260", "Other Revenue", "Income", "Income.Revenue", False),
    ("270", "Interest Income", "Income", "Income.OtherIncome", False),
    ("310", "Cost of Goods Sold", "Expense", "Expense.DirectCosts", False),
    ("400", "Advertising", "Expense", "Expense.Overheads", False),
    ("404", "Bank Fees", "Expense", "Expense.Overheads", False),
    ("408", "Cleaning", "Expense", "Expense.Overheads", False),
    ("412", "Consulting & Accounting", "Expense", "Expense.Overheads", False),
    ("425", "Postage, Freight & Courier", "Expense", "Expense.Overheads", False),
    ("429", "General Expenses", "Expense", "Expense.Overheads", False),
    ("433", "Insurance", "Expense", "Expense.Overheads", False),
    ("445", "Light, Power, Heating", "Expense", "Expense.Overheads", False),
    ("453", "Office Expenses", "Expense", "Expense.Overheads", False),
    ("461", "Printing & Stationery", "Expense", "Expense.Overheads", False),
    ("463", "IT Software and Consumables", "Expense", "Expense.Overheads", False),
    ("469", "Rent", "Expense", "Expense.Overheads", False),
    ("473", "Repairs & Maintenance", "Expense", "Expense.Overheads", False),
    ("489", "Telephone & Internet", "Expense", "Expense.Overheads", False),
    ("493", "Travel - National", "Expense", "Expense.Overheads", False),
    ("090", "Business Bank Account", "Asset", "Asset.Bank", True),
    ("610", "Accounts Receivable", "Asset", "Asset.Current", False),
    ("720", "Computer Equipment", "Asset", "Asset.Fixed", False),
    ("800", "Accounts Payable", "Liability", "Liability.Current", False),
    ("820", "VAT", "Liability", "Liability.Current", False),
    ("825", "PAYE Payable", "Liability", "Liability.Current", False),
    ("900", "Loan", "Liability", "Liability.NonCurrent", False),
    ("960", "Retained Earnings", "Equity", "Equity.RetainedEarnings", False),
    ("970", "Owner A Funds Introduced", "Equity", "Equity.Owners", False),
)
# Sage 50's default UK nominal codes.
_SAGE_CHART = (
    ("4000", "Sales Type A", "Income", "Income.Sales", False),
    ("4900", "Miscellaneous Income", "Income", "Income.OtherIncome", False),
    ("5000", "Materials Purchased", "Expense", "Expense.DirectExpenses", False),
    ("7100", "Rent", "Expense", "Expense.Overheads.RentAndRates", False),
    ("7200", "Electricity", "Expense", "Expense.Overheads.HeatLightAndPower", False),
    ("7400", "Travelling", "Expense", "Expense.Overheads.TravellingAndEntertainment", False),
    ("7500", "Printing", "Expense", "Expense.Overheads.PrintingAndStationery", False),
    ("7501", "Postage and Carriage", "Expense", "Expense.Overheads.PrintingAndStationery", False),
    ("7502", "Telephone", "Expense", "Expense.Overheads.Telephone", False),
    ("7504", "Office Stationery", "Expense", "Expense.Overheads.PrintingAndStationery", False),
    ("7600", "Legal Fees", "Expense", "Expense.Overheads.ProfessionalFees", False),
    ("7800", "Repairs and Renewals", "Expense", "Expense.Overheads.Maintenance", False),
    ("7900", "Bank Charges and Interest", "Expense", "Expense.Overheads.BankCharges", False),
    ("0030", "Office Equipment", "Asset", "Asset.FixedAssets", False),
    ("1100", "Debtors Control Account", "Asset", "Asset.CurrentAssets.Debtors", False),
    ("1200", "Bank Current Account", "Asset", "Asset.CurrentAssets.Bank", True),
    ("2100", "Creditors Control Account", "Liability", "Liability.CurrentLiabilities.Creditors",
     False),
    ("2200", "Sales Tax Control Account", "Liability", "Liability.CurrentLiabilities.Taxation",
     False),
    ("2201", "Purchase Tax Control Account", "Liability",
     "Liability.CurrentLiabilities.Taxation", False),
    ("3000", "Capital", "Equity", "Equity.Capital", False),
)  # fmt: skip
# A Dutch chart (Exact's layout: 0 fixed assets, 1 money and receivables, 4 costs, 7 cost of
# sales, 8 revenue).
_NL_CHART = (
    ("8000", "Omzet hoog tarief", "Income", "Income.Revenue", False),
    ("8100", "Omzet laag tarief", "Income", "Income.Revenue", False),
    ("8900", "Overige opbrengsten", "Income", "Income.OtherIncome", False),
    ("7000", "Inkoopwaarde van de omzet", "Expense", "Expense.CostOfSales", False),
    ("4100", "Huur", "Expense", "Expense.Costs.Housing", False),
    ("4200", "Energie", "Expense", "Expense.Costs.Housing", False),
    ("4300", "Kantoorbenodigdheden", "Expense", "Expense.Costs.Office", False),
    ("4310", "Drukwerk", "Expense", "Expense.Costs.Office", False),
    ("4400", "Telefoon en internet", "Expense", "Expense.Costs.Office", False),
    ("4500", "Reiskosten", "Expense", "Expense.Costs.Travel", False),
    ("4600", "Reclame", "Expense", "Expense.Costs.Sales", False),
    ("4700", "Verzekeringen", "Expense", "Expense.Costs.General", False),
    ("4800", "Bankkosten", "Expense", "Expense.Costs.General", False),
    ("0400", "Inventaris", "Asset", "Asset.FixedAssets", False),
    ("1100", "Bank", "Asset", "Asset.Assets.Bank", True),
    ("1300", "Debiteuren", "Asset", "Asset.Assets.AccountsReceivable", False),
    ("1500", "Te betalen btw", "Liability", "Liability.Liabilities.Taxes", False),
    ("1520", "Te vorderen btw", "Asset", "Asset.Assets.Taxes", False),
    ("1600", "Crediteuren", "Liability", "Liability.Liabilities.AccountsPayable", False),
    ("0500", "Eigen vermogen", "Equity", "Equity.Equity", False),
)

# (id/code, name, rate, used on): used on "bills", "invoices" or "both".
_XERO_RATES = (
    ("INPUT2", "20% (VAT on Expenses)", 20.0, "bills"),
    ("OUTPUT2", "20% (VAT on Income)", 20.0, "invoices"),
    ("RRINPUT", "5% (VAT on Expenses)", 5.0, "bills"),
    ("RROUTPUT", "5% (VAT on Income)", 5.0, "invoices"),
    ("ZERORATEDINPUT", "Zero Rated Expenses", 0.0, "bills"),
    ("ZERORATEDOUTPUT", "Zero Rated Income", 0.0, "invoices"),
    ("EXEMPTINPUT", "Exempt Expenses", 0.0, "bills"),
    ("EXEMPTOUTPUT", "Exempt Income", 0.0, "invoices"),
    ("NONE", "No VAT", 0.0, "both"),
)
_SAGE_RATES = (
    ("T1", "Standard rate", 20.0, "both"),
    ("T5", "Lower rate", 5.0, "both"),
    ("T0", "Zero rated", 0.0, "both"),
    ("T2", "Exempt", 0.0, "both"),
    ("T9", "Transactions not involving VAT", 0.0, "both"),
)
_UK_RATES = (
    ("S", "Standard rate (20%)", 20.0, "both"),
    ("R", "Reduced rate (5%)", 5.0, "both"),
    ("Z", "Zero rate (0%)", 0.0, "both"),
    ("E", "Exempt", 0.0, "both"),
    ("N", "No VAT", 0.0, "both"),
)
_NL_RATES = (
    ("H", "BTW hoog (21%)", 21.0, "both"),
    ("L", "BTW laag (9%)", 9.0, "both"),
    ("N", "BTW 0%", 0.0, "both"),
    ("V", "Vrijgesteld van BTW", 0.0, "both"),
)


@dataclass(frozen=True, slots=True)
class _Style:
    country: _Country
    chart: tuple[tuple[str, str, str, str, bool], ...]
    rates: tuple[tuple[str, str, float, str], ...]


_XERO = _Style(_GB, _XERO_CHART, _XERO_RATES)
_SAGE = _Style(_GB, _SAGE_CHART, _SAGE_RATES)
_UK = _Style(_GB, _XERO_CHART, _UK_RATES)
_DUTCH = _Style(_NL, _NL_CHART, _NL_RATES)
#: By example folder; any other folder (all of Codat's other examples are UK companies in GBP)
#: gets ``_UK``.
_STYLES = {
    "xero": _XERO,
    "sage-50-uk": _SAGE,
    "sage-200cloud": _SAGE,
    "sage-business-cloud-accounting": _SAGE,
    "exact-netherlands": _DUTCH,
}


def _words(name: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", name.lower()) if len(w) > 1}


def _lower(value: Any) -> str:
    return str(value).strip().lower() if value is not None else ""


def _stamp(published: dict[str, list[dict[str, Any]]]) -> str:
    stamps = [
        r["modifiedDate"]
        for records in published.values()
        for r in records
        if isinstance(r.get("modifiedDate"), str)
    ]
    return max(stamps) if stamps else "2023-01-01T00:00:00Z"


def _marked(record: dict[str, Any], stamp: str) -> dict[str, Any]:
    record["modifiedDate"] = stamp
    record["sourceModifiedDate"] = stamp.rstrip("Z")
    record["metadata"] = {"isDeleted": False}
    record["supplementalData"] = {"content": {"sandbox": {"generated": True}}}
    return record


def _accounts(style: _Style, rng: random.Random, published: list[dict[str, Any]], stamp: str):
    taken = {_lower(a.get(k)) for a in published for k in ("id", "nominalCode", "name")}
    accounts = []
    for code, name, kind, category, bank in style.chart:
        if {_lower(code), _lower(name)} & taken:
            continue
        links = _BANK_LINKS if bank else _LINES.get(kind, [])
        accounts.append(
            _marked(
                {
                    "id": f"{GENERATED_PREFIX}account-{code}",
                    "nominalCode": code,
                    "name": name,
                    "description": "",
                    "fullyQualifiedCategory": category,
                    "fullyQualifiedName": f"{category}.{name}",
                    "currency": style.country.currency,
                    "currentBalance": round(rng.uniform(0, 25000), 2),
                    "type": kind,
                    "status": "Active",
                    "isBankAccount": bank,
                    "validDatatypeLinks": [{"property": "Id", "links": links}] if links else [],
                },
                stamp,
            )
        )
    return accounts


def _used_on(rate: dict[str, Any]) -> set[str]:
    """Where a published rate may be used, from its ``validDatatypeLinks`` (none: anywhere)."""
    links = " ".join(
        link for entry in rate.get("validDatatypeLinks") or () for link in entry.get("links") or ()
    )
    if not links:
        return {"bills", "invoices"}
    return {side for side, word in (("bills", "Bill."), ("invoices", "Invoice.")) if word in links}


def _tax_rates(style: _Style, published: list[dict[str, Any]], stamp: str):
    taken = {_lower(t.get(k)) for t in published for k in ("id", "code", "name")}
    covered = {  # (percentage, side) a published active rate already serves
        (float(t["effectiveTaxRate"]), side)
        for t in published
        if isinstance(t.get("effectiveTaxRate"), int | float)
        and t["effectiveTaxRate"]
        and _lower(t.get("status")) == "active"
        for side in _used_on(t)
    }
    out = []
    for code, name, rate, used_on in style.rates:
        sides = {"bills", "invoices"} if used_on == "both" else {used_on}
        if {_lower(code), _lower(name)} & taken or (
            rate and all((rate, side) in covered for side in sides)
        ):
            continue
        links = {"bills": _BILLS, "invoices": _INVOICES, "both": _INVOICES + _BILLS}[used_on]
        out.append(
            _marked(
                {
                    "id": f"{GENERATED_PREFIX}{code}",
                    "name": name,
                    "code": code,
                    "status": "Active",
                    "effectiveTaxRate": rate,
                    "totalTaxRate": rate,
                    "components": [
                        {"name": style.country.tax_component, "rate": rate, "isCompound": False}
                    ],
                    "validDatatypeLinks": [{"property": "Id", "links": links}],
                },
                stamp,
            )
        )
    return out


def _contacts(
    style: _Style,
    rng: random.Random,
    kind: str,
    avoid: set[str],
    stamp: str,
) -> list[dict[str, Any]]:
    """``CONTACTS_PER_KIND`` contacts; no name shares a word with ``avoid`` (which grows)."""
    country = style.country
    trades = country.customer_trades if kind == "customers" else country.supplier_trades
    legal = {_lower(f) for f in country.legal_forms} | {"ltd", "limited", "llp", "bv", "vof"}
    out: list[dict[str, Any]] = []
    for _ in range(1000):  # bounded: a name clash only redraws
        if len(out) == CONTACTS_PER_KIND:
            break
        surname, trade = rng.choice(country.surnames), rng.choice(trades)
        form = rng.choice(country.legal_forms)
        name = " ".join(p for p in (surname, trade, form) if p)
        words = _words(name) - legal
        if words & avoid:
            continue
        avoid |= words
        town, area = rng.choice(country.towns)
        if country.code == "GB":
            postcode = f"{area} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            postcode += rng.choice("ABDEFGHJLNPQRSTUWXYZ")
            tax_number = f"GB{rng.randint(100_000_000, 999_999_999)}"
            registration = f"{rng.randint(1_000_000, 15_999_999):08d}"
            phone = f"+44 {rng.randint(1000, 9999)} {rng.randint(100000, 999999)}"
        else:
            postcode = f"{area} {rng.choice('ABCEGHJKLMNPRSTVWXZ')}{rng.choice('ABEHKLMNPRSTVXZ')}"
            tax_number = f"NL{rng.randint(100_000_000, 999_999_999)}B01"
            registration = str(rng.randint(10_000_000, 99_999_999))  # KvK number
            phone = f"+31 {rng.randint(10, 99)} {rng.randint(1000000, 9999999)}"
        first = surname.split()[-1].lower()
        number = len(out) + 1
        record = {
            "id": f"{GENERATED_PREFIX}{kind[:-1]}-{number}",
            ("customerName" if kind == "customers" else "supplierName"): name,
            "contactName": f"Accounts, {surname}",
            "emailAddress": f"accounts@{first.replace(' ', '')}-{trade.split()[0].lower()}.example",
            "phone": phone,
            "addresses": [
                {
                    "type": "Billing",
                    "line1": f"{rng.randint(1, 120)} {rng.choice(country.streets)}",
                    "line2": "",
                    "city": town,
                    "region": "",
                    "country": country.name,
                    "postalCode": postcode,
                }
            ],
            "registrationNumber": registration,
            "taxNumber": tax_number,
            "defaultCurrency": country.currency,
            "status": "Active",
        }
        if kind == "customers":
            record["contacts"] = []
        out.append(_marked(record, stamp))
    return out


def generated_records(
    folder: str, published: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """The generated layer of one example company: ``accounts``, ``taxRates``, ``customers``,
    ``suppliers`` (Codat record shapes, money in major units, rates in percent), given the
    folder's ``published`` records by data type (only read: to leave out what is already
    published and to avoid its contacts' names). Deterministic in ``folder`` and
    ``published``."""
    style = _STYLES.get(folder, _UK)
    rng = random.Random(f"acctsync-sandbox-supplement:{folder}")
    stamp = _stamp(published)
    avoid: set[str] = set()
    for data_type, key in (("customers", "customerName"), ("suppliers", "supplierName")):
        for record in published.get(data_type, ()):
            avoid |= _words(record.get(key) or "")
    return {
        "accounts": _accounts(style, rng, published.get("accounts", []), stamp),
        "taxRates": _tax_rates(style, published.get("taxRates", []), stamp),
        "customers": _contacts(style, rng, "customers", avoid, stamp),
        "suppliers": _contacts(style, rng, "suppliers", avoid, stamp),
    }
