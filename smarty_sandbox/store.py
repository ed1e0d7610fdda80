"""The emulator's state: users, OAuth tokens and organisations with their records.

Records are kept as the reference's JSON objects (``contact``, ``item``, ``account``,
``vat_rate``, ``invoice``, ``bill``), so a response is the stored dict. Ids are integers per
kind, unique across organisations (as the reference's ``{contact_id}`` placeholders suggest
nothing else). Money is a decimal string with two places (``"120.00"``), as the reference
sends it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

#: The list endpoints, their resource node names and the fields ``search_text`` looks in
#: (the reference's "Search in ..." for each list).
KINDS: dict[str, dict[str, Any]] = {
    "contacts": {
        "one": "contact",
        "id": "contact_id",
        "search": ("display_name", "email", "company_name"),
        "filters": (
            "display_name",
            "contact_type",
            "first_name",
            "last_name",
            "email",
            "company_name",
        ),
    },
    "items": {
        "one": "item",
        "id": "item_id",
        "search": ("item_name", "item_type"),
        "filters": ("item_name", "item_type"),
    },
    "accounts": {
        "one": "account",
        "id": "account_id",
        "search": ("account_name", "account_code", "account_type", "account_vat"),
        "filters": (),
    },
    "vatrates": {
        "one": "vat_rate",
        "id": "vat_id",
        "search": ("vat_name", "vat_type", "vat_rate"),
        "filters": (),
    },
    "invoices": {
        "one": "invoice",
        "id": "invoice_id",
        "search": ("invoice_number", "reference", "display_name", "total"),
        "filters": (),
    },
    "bills": {
        "one": "bill",
        "id": "bill_id",
        "search": ("bill_number", "reference", "display_name", "total"),
        "filters": (),
    },
}
#: Node names of the lists (the reference: ``vat_rates``, the others as the path).
LIST_NODE = {"vatrates": "vat_rates"}
TAX_MODES = ("Exclusive", "Inclusive", "NO VAT")
ITEM_TYPES = ("Service", "Goods", "Labour (CIS)", "Material (CIS)")
CENT = Decimal("0.01")


class SmartyError(Exception):
    """An error answer: HTTP ``status`` and the envelope's ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def money(value: Decimal) -> str:
    """Two decimals as a string (``"120.00"``)."""
    return str(value.quantize(CENT, ROUND_HALF_UP))


def decimal_of(value: Any, field_name: str) -> Decimal:
    """A number sent as a number or a string; raises SmartyError 400 otherwise."""
    if isinstance(value, bool) or value is None or value == "":
        raise SmartyError(400, f"{field_name} must be a number")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise SmartyError(400, f"{field_name} must be a number") from None
    if not result.is_finite():
        raise SmartyError(400, f"{field_name} must be a number")
    return result


@dataclass
class Organisation:
    """One Smarty organisation and its records by kind, each ``{id: record}``."""

    organisation_id: int
    name: str
    country: str = "United Kingdom"
    currency: str = "GBP"
    records: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    invoice_number: int = 1000
    bill_number: int = 0

    def summary(self) -> dict[str, Any]:
        """The organisation as ``GET /organisations`` lists it."""
        return {
            "organisation_id": self.organisation_id,
            "name": self.name,
            "country": self.country,
            "currency": self.currency,
            "created_at": "2020-04-25 1:36 pm",
            "has_logo": False,
            "organisation_status": "Active",
            "package_type": "Lifetime",
            "user_type": "Admin",
        }


@dataclass
class User:
    email: str
    password: str
    organisation_ids: list[int] = field(default_factory=list)


@dataclass
class Token:
    email: str
    expires_at: float


class Store:
    """Everything the emulator holds; one lock guards changes (the app may be called from
    several event loops' threads by test clients)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.organisations: dict[int, Organisation] = {}
        self.access_tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.last_id = 1000

    def next_id(self) -> int:
        """A new record id (integers, unique across kinds and organisations)."""
        with self.lock:
            self.last_id += 1
            return self.last_id

    def to_json(self) -> dict[str, Any]:
        """Everything held, as JSON values (``from_json`` reads it back)."""
        with self.lock:
            return {
                "last_id": self.last_id,
                "users": [
                    {"email": u.email, "password": u.password, "organisations": u.organisation_ids}
                    for u in self.users.values()
                ],
                "organisations": [
                    {
                        "organisation_id": o.organisation_id,
                        "name": o.name,
                        "country": o.country,
                        "currency": o.currency,
                        "invoice_number": o.invoice_number,
                        "bill_number": o.bill_number,
                        "records": {k: list(v.values()) for k, v in o.records.items()},
                    }
                    for o in self.organisations.values()
                ],
                "access_tokens": {
                    t: [v.email, v.expires_at] for t, v in self.access_tokens.items()
                },
                "refresh_tokens": dict(self.refresh_tokens),
            }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Store:
        """A store from :meth:`to_json`'s output."""
        store = cls()
        store.last_id = int(data["last_id"])
        for u in data["users"]:
            store.users[u["email"]] = User(u["email"], u["password"], list(u["organisations"]))
        for o in data["organisations"]:
            org = Organisation(
                int(o["organisation_id"]),
                o["name"],
                country=o["country"],
                currency=o["currency"],
                invoice_number=int(o["invoice_number"]),
                bill_number=int(o["bill_number"]),
            )
            for kind, rows in o["records"].items():
                org.records[kind] = {int(r[KINDS[kind]["id"]]): r for r in rows}
            store.organisations[org.organisation_id] = org
        store.access_tokens = {
            t: Token(v[0], float(v[1])) for t, v in data["access_tokens"].items()
        }
        store.refresh_tokens = dict(data["refresh_tokens"])
        return store

    # ---- users and tokens -----------------------------------------------------------------

    def add_user(self, email: str, password: str, organisation_ids: list[int]) -> User:
        user = User(email.lower(), password, list(organisation_ids))
        self.users[user.email] = user
        return user

    def issue(self, email: str, ttl: float, now: float) -> dict[str, Any]:
        """A new access token and refresh token for ``email`` (the OAuth answer)."""
        access = secrets.token_urlsafe(24)
        refresh = secrets.token_urlsafe(32)
        with self.lock:
            self.access_tokens[access] = Token(email, now + ttl)
            self.refresh_tokens[refresh] = email
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": int(ttl),
        }

    def refresh(self, refresh_token: str, ttl: float, now: float) -> dict[str, Any]:
        """A new access token for a refresh token (the refresh token stays valid: "permanent"
        in the reference). Raises SmartyError 401 for an unknown or revoked one."""
        email = self.refresh_tokens.get(refresh_token)
        if email is None:
            raise SmartyError(401, "Invalid refresh token")
        access = secrets.token_urlsafe(24)
        with self.lock:
            self.access_tokens[access] = Token(email, now + ttl)
        return {
            "access_token": access,
            "refresh_token": refresh_token,
            "token_type": "Bearer",
            "expires_in": int(ttl),
        }

    def user_of_access(self, token: str | None, now: float) -> User:
        """The user an ``Access-Token`` belongs to. Raises SmartyError 401 when it is missing,
        unknown or expired."""
        if not token:
            raise SmartyError(401, "Access-Token header is missing")
        found = self.access_tokens.get(token)
        if found is None or found.expires_at <= now:
            raise SmartyError(401, "Invalid AuthToken (unknown or expired)")
        user = self.users.get(found.email)
        if user is None:
            raise SmartyError(401, "Invalid AuthToken")
        return user

    def revoke(self, email: str | None = None) -> int:
        """Revoke every refresh and access token (of ``email``, or of everyone); returns how
        many refresh tokens were revoked (the user removed the app's access)."""
        with self.lock:
            gone = [t for t, e in self.refresh_tokens.items() if email in (None, e)]
            for token in gone:
                del self.refresh_tokens[token]
            for token in [t for t, v in self.access_tokens.items() if email in (None, v.email)]:
                del self.access_tokens[token]
        return len(gone)

    def expire_access_tokens(self) -> int:
        """Make every access token expired (refresh tokens stay valid)."""
        with self.lock:
            for token in self.access_tokens.values():
                token.expires_at = 0.0
            return len(self.access_tokens)

    # ---- organisations ---------------------------------------------------------------------

    def add_organisation(self, name: str, **kwargs: Any) -> Organisation:
        org = Organisation(self.next_id(), name, **kwargs)
        self.organisations[org.organisation_id] = org
        return org

    def organisation_for(self, user: User, organization_id: str | None) -> Organisation:
        """The organisation a call names in ``organization_id``. Raises SmartyError 400 when it
        is missing or not a number, 403 when the user is not a user of it (or it is gone)."""
        if not organization_id:
            raise SmartyError(400, "organization_id is required")
        try:
            org_id = int(organization_id)
        except ValueError:
            raise SmartyError(400, "organization_id must be an integer") from None
        if org_id not in user.organisation_ids or org_id not in self.organisations:
            raise SmartyError(403, "You are not a user of this organization")
        return self.organisations[org_id]


def today() -> str:
    return dt.date.today().isoformat()
