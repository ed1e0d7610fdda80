"""The emulator's Litestar app: ``create_smarty_app(config) -> Litestar``.

Paths (relative to where the app is mounted; the embedded service mounts it at ``/smarty``):

- ``POST /oauth/authenticate/accesstoken`` ``{client_id, client_secret, username, password}``
  and ``POST /oauth/authenticate/refreshtoken`` ``{client_id, client_secret, refresh_token}``
  -> ``{access_token, refresh_token, expires_in, token_type}`` (the reference's "Step 2/3").
- ``/api/v1/...`` with the ``Access-Token`` header and ``organization_id`` on every call:
  ``GET /organisations`` (also ``/organizations``), and for ``contacts``, ``items``,
  ``accounts``, ``vatrates``, ``invoices``, ``bills``: ``GET`` (list, paginated), ``POST``
  (create), ``GET|PUT|DELETE /{id}``; ``GET /invoices|bills/{id}/state/{sent|void|draft}``
  (invoices also ``writeoff``, ``cancelwriteoff``).
- ``/_admin/...`` (not Smarty's): ``GET|PUT /_admin/faults``, ``POST /_admin/organisations``
  (generate one), ``POST /_admin/revoke`` (revoke refresh tokens), ``POST
  /_admin/expire_access_tokens``, ``GET /_admin/stats`` (requests served by kind).

Every answer is the reference's envelope: ``{"status": "success" | "error", "message": ...,
<resource node>: ...}``, lists with ``page_setting: {page, size, total}``. Errors use the
reference's codes: 400 bad or missing parameter, 401 invalid token, 403 not a user of the
organisation, 404 unknown URL or record, 405 method not allowed, 429 too many requests
(with ``Retry-After``), 500 server error; 504 is what a write whose answer timed out gets
(the write has landed; see :class:`SmartyFaults`).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, Router, delete, get, post, put
from litestar.exceptions import HTTPException

from smarty_sandbox import records
from smarty_sandbox.seed import generate, seed_examples
from smarty_sandbox.store import KINDS, LIST_NODE, SmartyError, Store

MAX_PAGE_SIZE = 200
DEFAULT_CLIENT_ID = "smarty-sandbox-client"
DEFAULT_CLIENT_SECRET = "smarty-sandbox-secret"


class SmartyFaults(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Faults injected into ``/api/v1`` calls (rates are probabilities 0..1), as the Codat
    sandbox's ``FaultConfig``:

    - ``rate_429``: answer 429 with ``Retry-After: retry_after`` before serving;
    - ``rate_5xx``: answer 500 or 503 before serving (nothing changes);
    - ``timeout_rate``: a write (POST/PUT/DELETE, state change) is applied and then answered
      504, as a gateway whose backend was too slow: the client does not learn the outcome;
    - ``latency_ms``: added to every call;
    - ``seed``: seeds the fault random generator, so a run is reproducible.
    """

    rate_429: float = 0.0
    retry_after: int = 1
    rate_5xx: float = 0.0
    timeout_rate: float = 0.0
    latency_ms: int = 0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("rate_429", "rate_5xx", "timeout_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise msgspec.ValidationError(f"{name} must be between 0 and 1")
        if self.retry_after < 0 or self.latency_ms < 0:
            raise msgspec.ValidationError("retry_after and latency_ms must be >= 0")


@dataclass
class SmartyConfig:
    """What the emulator needs: the registered OAuth client, the access token lifetime in
    seconds, whether to seed the example organisations, and the faults at start."""

    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    access_ttl_s: float = 3600.0
    seed_examples: bool = True
    faults: SmartyFaults = field(default_factory=SmartyFaults)
    #: A JSON file the state is kept in (loaded at start, written after every change);
    #: None: memory only.
    state_path: str | None = None


class Emulator:
    """The state of one emulator app: the store, the config and the faults' generator."""

    def __init__(self, config: SmartyConfig) -> None:
        self.config = config
        self.store = Store()
        self.faults = config.faults
        self.rng = random.Random(config.faults.seed)
        self.stats: Counter[str] = Counter()
        path = Path(config.state_path) if config.state_path else None
        if path is not None and path.exists():
            self.store = Store.from_json(json.loads(path.read_text()))
        elif config.seed_examples:
            seed_examples(self.store)
        self.save()

    def save(self) -> None:
        """Write the state to ``state_path`` (atomically), when one is configured."""
        if not self.config.state_path:
            return
        path = Path(self.config.state_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(msgspec.json.encode(self.store.to_json()))
        os.replace(tmp, path)

    def set_faults(self, faults: SmartyFaults) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)


def _emulator(request: Request) -> Emulator:
    return request.app.state.smarty  # type: ignore[no-any-return]


def envelope(status_code: int, message: str = "", **nodes: Any) -> Response[bytes]:
    """The reference's envelope as a JSON response."""
    body: dict[str, Any] = {"status": "success" if status_code < 400 else "error"}
    body["message"] = message
    body.update(nodes)
    return Response(
        msgspec.json.encode(body), status_code=status_code, media_type="application/json"
    )


def _error(exc: SmartyError) -> Response[bytes]:
    headers = {}
    response = envelope(exc.status, exc.message, code=exc.status)
    if exc.status == 429:
        headers["Retry-After"] = str(getattr(exc, "retry_after", 1))
        response.headers.update(headers)
    return response


async def _body(request: Request) -> dict[str, Any]:
    """The request's arguments: a JSON object, or a form whose ``JSONString`` field holds one
    (the reference's ``-F 'JSONString=...'``). Raises SmartyError 400 otherwise."""
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            form = await request.form()
            raw: Any = form.get("JSONString")
            if raw is None:
                raise SmartyError(400, "JSONString is required")
            value = json.loads(raw)
        else:
            value = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise SmartyError(400, "The request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise SmartyError(400, "The request body must be a JSON object")
    return value


async def _enter(request: Request, *, write: bool) -> tuple[Emulator, Any]:
    """Faults, then authentication and the organisation of an ``/api/v1`` call."""
    emu = _emulator(request)
    faults = emu.faults
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    if faults.rate_429 and emu.rng.random() < faults.rate_429:
        emu.stats["fault_429"] += 1
        exc = SmartyError(429, "Too many requests")
        exc.retry_after = faults.retry_after  # type: ignore[attr-defined]
        raise exc
    if faults.rate_5xx and emu.rng.random() < faults.rate_5xx:
        emu.stats["fault_5xx"] += 1
        raise SmartyError(emu.rng.choice((500, 503)), "Server error")
    user = emu.store.user_of_access(request.headers.get("access-token"), time.time())
    emu.stats["write" if write else "read"] += 1
    return emu, user


def _landed(emu: Emulator) -> None:
    """After a write is applied: keep the state, then maybe answer 504 as a timed-out
    gateway would."""
    emu.save()
    if emu.faults.timeout_rate and emu.rng.random() < emu.faults.timeout_rate:
        emu.stats["fault_timeout"] += 1
        raise SmartyError(504, "Gateway timeout")


def _kind(kind: str) -> dict[str, Any]:
    spec = KINDS.get(kind)
    if spec is None:
        raise SmartyError(404, f"URL not found: /{kind}")
    return spec


def _int_param(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise SmartyError(400, f"{name} must be an integer") from None


def _page(request: Request, kind: str, rows: list[dict[str, Any]]) -> Response[bytes]:
    """Filter (``search_text`` and the list's own filters), sort and cut one page."""
    spec = _kind(kind)
    params = request.query_params
    page_number = _int_param(request, "page_number", 1)
    page_size = _int_param(request, "page_size", 10)
    if page_number < 1:
        raise SmartyError(400, "page_number must be 1 or more")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise SmartyError(400, f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    sort_type = params.get("sort_type") or "desc"
    if sort_type not in ("asc", "desc"):
        raise SmartyError(400, "sort_type must be asc or desc")
    sort_column = params.get("sort_column") or spec["id"]
    if rows and sort_column not in rows[0]:
        raise SmartyError(400, f"sort_column {sort_column!r} is not a column of {kind}")
    search = (params.get("search_text") or "").strip().lower()
    if search:
        rows = [
            r for r in rows if any(search in str(r.get(f) or "").lower() for f in spec["search"])
        ]
    for name in spec["filters"]:
        wanted = params.get(name)
        if wanted:
            rows = [r for r in rows if wanted.lower() in str(r.get(name) or "").lower()]
    if kind in ("invoices", "bills") and params.get("search_states"):
        states = {s.strip().lower() for s in params["search_states"].split(",")}
        rows = [r for r in rows if r["state"].lower() in states]
    if kind == "accounts" and params.get("filter"):
        rows = [r for r in rows if r["account_status"] == params["filter"]]

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        value = r.get(sort_column)
        return (value is None, str(value) if not isinstance(value, int | float) else value)

    rows = sorted(rows, key=key, reverse=sort_type == "desc")
    start = (page_number - 1) * page_size
    return envelope(
        200,
        "",
        **{LIST_NODE.get(kind, kind): rows[start : start + page_size]},
        page_setting={"page": page_number, "size": page_size, "total": len(rows)},
    )


# ---- OAuth --------------------------------------------------------------------------------


def _client(emu: Emulator, body: dict[str, Any]) -> None:
    if (
        body.get("client_id") != emu.config.client_id
        or body.get("client_secret") != emu.config.client_secret
    ):
        raise SmartyError(401, "Invalid client_id or client_secret")


@post("/oauth/authenticate/accesstoken", status_code=200)
async def access_token(request: Request) -> Response[bytes]:
    """Step 2: tokens for a user's email and password."""
    emu = _emulator(request)
    body = await _body(request)
    _client(emu, body)
    user = emu.store.users.get(str(body.get("username") or "").lower())
    if user is None or user.password != body.get("password"):
        raise SmartyError(401, "Invalid username or password")
    answer = emu.store.issue(user.email, emu.config.access_ttl_s, time.time())
    emu.save()
    return envelope(200, "", **answer)


@post("/oauth/authenticate/refreshtoken", status_code=200)
async def refresh_token(request: Request) -> Response[bytes]:
    """Step 3: a new access token from the refresh token."""
    emu = _emulator(request)
    body = await _body(request)
    _client(emu, body)
    token = str(body.get("refresh_token") or "")
    answer = emu.store.refresh(token, emu.config.access_ttl_s, time.time())
    emu.save()
    return envelope(200, "", **answer)


# ---- API ----------------------------------------------------------------------------------


@get(["/api/v1/organisations", "/api/v1/organizations"])
async def list_organisations(request: Request) -> Response[bytes]:
    """The organisations the user is in (needs no ``organization_id``)."""
    emu, user = await _enter(request, write=False)
    orgs = [
        emu.store.organisations[i].summary()
        for i in user.organisation_ids
        if i in emu.store.organisations
    ]
    return envelope(200, "", organisations=orgs)


@get(["/api/v1/organisations/{organisation_id:str}", "/api/v1/organizations/{organisation_id:str}"])
async def get_organisation(request: Request, organisation_id: str) -> Response[bytes]:
    """One organisation the user is in (403 otherwise)."""
    emu, user = await _enter(request, write=False)
    org = emu.store.organisation_for(user, organisation_id)
    detail = org.summary() | {
        "vat_mode_sales": "Exclusive",
        "vat_mode_purchases": "Exclusive",
        "is_vat_registered": True,
        "financial_year_start": "2026-04-01",
    }
    return envelope(200, "", organisation=detail)


def _org(request: Request, emu: Emulator, user: Any) -> Any:
    return emu.store.organisation_for(user, request.query_params.get("organization_id"))


_MAKERS = {
    "contacts": records.contact,
    "items": records.item,
    "accounts": records.account,
    "vatrates": records.vat_rate,
}


def _make(org: Any, kind: str, body: dict[str, Any], new_id: int, old: Any) -> dict[str, Any]:
    if kind in ("invoices", "bills"):
        return records.document(org, kind, body, new_id, old)
    return _MAKERS[kind](org, body, new_id)


@get("/api/v1/{kind:str}")
async def list_records(request: Request, kind: str) -> Response[bytes]:
    """A page of a kind's records."""
    _kind(kind)
    emu, user = await _enter(request, write=False)
    org = _org(request, emu, user)
    return _page(request, kind, list(org.records[kind].values()))


@post("/api/v1/{kind:str}", status_code=201)
async def create_record(request: Request, kind: str) -> Response[bytes]:
    """Create a record (201 with the record under its node)."""
    spec = _kind(kind)
    emu, user = await _enter(request, write=True)
    org = _org(request, emu, user)
    body = await _body(request)
    with emu.store.lock:
        new_id = emu.store.next_id()
        record = _make(org, kind, body, new_id, None)
        org.records[kind][new_id] = record
    _landed(emu)
    return envelope(201, f"The {spec['one']} has been created.", **{spec["one"]: record})


def _record(org: Any, kind: str, record_id: str) -> dict[str, Any]:
    try:
        found = org.records[kind].get(int(record_id))
    except ValueError:
        found = None
    if found is None:
        raise SmartyError(404, f"{KINDS[kind]['one']} {record_id} was not found")
    return found  # type: ignore[no-any-return]


@get("/api/v1/{kind:str}/{record_id:str}")
async def get_record(request: Request, kind: str, record_id: str) -> Response[bytes]:
    """One record."""
    spec = _kind(kind)
    emu, user = await _enter(request, write=False)
    org = _org(request, emu, user)
    return envelope(200, "", **{spec["one"]: _record(org, kind, record_id)})


@put("/api/v1/{kind:str}/{record_id:str}")
async def update_record(request: Request, kind: str, record_id: str) -> Response[bytes]:
    """Replace a record with the body (lines removed from ``items`` are deleted)."""
    spec = _kind(kind)
    emu, user = await _enter(request, write=True)
    org = _org(request, emu, user)
    old = _record(org, kind, record_id)
    body = await _body(request)
    if kind in ("invoices", "bills") and old["state"] in ("Void", "Paid"):
        raise SmartyError(400, f"A {old['state'].lower()} {spec['one']} cannot be updated")
    with emu.store.lock:
        record = _make(org, kind, body, old[spec["id"]], old)
        org.records[kind][old[spec["id"]]] = record
    _landed(emu)
    return envelope(200, f"The {spec['one']} has been updated.", **{spec["one"]: record})


@delete("/api/v1/{kind:str}/{record_id:str}", status_code=200)
async def delete_record(request: Request, kind: str, record_id: str) -> Response[bytes]:
    """Delete a record (a contact, item, account or VAT rate still used by a document is
    refused with 400)."""
    spec = _kind(kind)
    emu, user = await _enter(request, write=True)
    org = _org(request, emu, user)
    old = _record(org, kind, record_id)
    rid = old[spec["id"]]
    docs = [*org.records["invoices"].values(), *org.records["bills"].values()]
    used = {
        "contacts": lambda: any(d["contact_id"] == rid for d in docs),
        "items": lambda: any(line["item_id"] == rid for d in docs for line in d["items"]),
        "accounts": lambda: any(line["account_id"] == rid for d in docs for line in d["items"]),
        "vatrates": lambda: any(
            line["vat"] == old["vat_name"] for d in docs for line in d["items"]
        ),
    }.get(kind, lambda: False)()
    if used:
        raise SmartyError(400, f"The {spec['one']} is used by a transaction and cannot be deleted")
    with emu.store.lock:
        del org.records[kind][rid]
    _landed(emu)
    return envelope(200, f"The {spec['one']} has been deleted.")


@get("/api/v1/{kind:str}/{record_id:str}/state/{action:str}")
async def change_state(request: Request, kind: str, record_id: str, action: str) -> Response[bytes]:
    """Mark an invoice or bill sent, void, draft (invoices: also write off / cancel it)."""
    if kind not in ("invoices", "bills"):
        raise SmartyError(404, f"URL not found: /{kind}/{record_id}/state/{action}")
    spec = KINDS[kind]
    emu, user = await _enter(request, write=True)
    org = _org(request, emu, user)
    with emu.store.lock:
        record = records.transition(kind, _record(org, kind, record_id), action)
    _landed(emu)
    return envelope(
        200, f"The {spec['one']} has been marked {record['state']}.", **{spec["one"]: record}
    )


# ---- admin (not Smarty's) -----------------------------------------------------------------


@get("/_admin/faults")
async def get_faults(request: Request) -> Response[bytes]:
    return envelope(200, "", faults=msgspec.to_builtins(_emulator(request).faults))


@put("/_admin/faults")
async def put_faults(request: Request) -> Response[bytes]:
    """Replace the faults (unset fields take their defaults)."""
    try:
        faults = msgspec.convert(await _body(request), SmartyFaults)
    except msgspec.ValidationError as exc:
        raise SmartyError(400, f"Invalid faults: {exc}") from None
    _emulator(request).set_faults(faults)
    return envelope(200, "", faults=msgspec.to_builtins(faults))


@post("/_admin/organisations", status_code=201)
async def post_organisation(request: Request) -> Response[bytes]:
    """Generate an organisation: ``{name, contacts, items, invoices, bills, seed, users}``
    (``users``: emails that reach it; a new ``email``/``password`` pair creates a user)."""
    emu = _emulator(request)
    body = await _body(request)
    sizes = {k: int(body.get(k, 0)) for k in ("contacts", "items", "invoices", "bills")}
    if any(v < 0 or v > 1_000_000 for v in sizes.values()):
        raise SmartyError(400, "sizes must be between 0 and 1000000")
    users = [str(u).lower() for u in body.get("users", [])]
    if body.get("email"):
        emu.store.add_user(str(body["email"]), str(body.get("password") or ""), [])
        users.append(str(body["email"]).lower())
    unknown = [u for u in users if u not in emu.store.users]
    if unknown:
        raise SmartyError(400, f"unknown users: {', '.join(unknown)}")
    with emu.store.lock:
        org = generate(
            emu.store,
            str(body.get("name") or "Generated Ltd"),
            seed=int(body.get("seed", 1)),
            users=tuple(users),
            **sizes,
        )
    emu.save()
    return envelope(201, "", organisation=org.summary())


@post("/_admin/revoke", status_code=200)
async def post_revoke(request: Request) -> Response[bytes]:
    """Revoke the refresh tokens (of ``{"email": ...}``, or everyone's)."""
    body = await _body(request)
    emu = _emulator(request)
    count = emu.store.revoke(body.get("email"))
    emu.save()
    return envelope(200, "", revoked=count)


@post("/_admin/expire_access_tokens", status_code=200)
async def post_expire(request: Request) -> Response[bytes]:
    """Expire every access token now (refresh tokens stay valid)."""
    emu = _emulator(request)
    expired = emu.store.expire_access_tokens()
    emu.save()
    return envelope(200, "", expired=expired)


@get("/_admin/stats")
async def get_stats(request: Request) -> Response[bytes]:
    """Requests served since start: ``read``, ``write`` and each fault."""
    return envelope(200, "", stats=dict(_emulator(request).stats))


def _on_smarty_error(_request: Request, exc: Exception) -> Response[bytes]:
    assert isinstance(exc, SmartyError)
    return _error(exc)


def _on_http_error(_request: Request, exc: Exception) -> Response[bytes]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    message = {404: "URL not found", 405: "Method not allowed"}.get(status, str(exc.detail))
    return envelope(status, message, code=status)


def _on_other_error(_request: Request, exc: Exception) -> Response[bytes]:
    return envelope(500, "Server error", code=500)


def create_smarty_app(config: SmartyConfig | None = None) -> Litestar:
    """The emulator as a Litestar app; its :class:`Emulator` is ``app.state.smarty``."""
    emulator = Emulator(config or SmartyConfig())
    app = Litestar(
        route_handlers=[
            Router(
                path="/",
                route_handlers=[
                    access_token,
                    refresh_token,
                    list_organisations,
                    get_organisation,
                    list_records,
                    create_record,
                    get_record,
                    update_record,
                    delete_record,
                    change_state,
                    get_faults,
                    put_faults,
                    post_organisation,
                    post_revoke,
                    post_expire,
                    get_stats,
                ],
            )
        ],
        exception_handlers={
            SmartyError: _on_smarty_error,
            HTTPException: _on_http_error,
            Exception: _on_other_error,
        },
        openapi_config=None,
        debug=False,
    )
    app.state.smarty = emulator
    return app
