"""Admin endpoints (not Codat's): faults, seeded and generated companies, platform-side
changes, webhook log. All need an accepted API key (``Authorization: Basic base64(key)``);
company endpoints act on that key's companies.

- ``GET|PUT /_admin/faults``: global :class:`FaultConfig` (PUT replaces it, reseeding);
- ``GET|PUT|DELETE /_admin/companies/{id}/faults``: one company's faults (override global);
- ``POST /_admin/companies/seed {"platform": "xero"}``: the key's example company for a
  platform ("Example xero", Linked, example data; same company on repeat);
- ``POST /_admin/companies/generate {customers, suppliers, items, invoices, bills, seed,
  name?, platformKey?, currency?}``: a Linked company filled by the seeded generator;
- ``POST /_admin/companies/{id}/connections/{connectionId}/authorize|deauthorize``;
- ``PUT /_admin/companies/{id}/data/{dataType}`` (a record or a list): edits made "in the
  platform" (upsert, ``modifiedDate`` bumped); ``DELETE .../data/{dataType}/{recordId}``:
  deleted in the platform (``metadata.isDeleted: true``, ``modifiedDate`` bumped);
- ``GET /_admin/webhooks``: every webhook message and its delivery state;
- ``GET /_admin/platforms``: the platform table.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import anyio
import msgspec
from litestar import Request, Response, Router, delete, get, post, put

from sandbox.api import company_json
from sandbox.config import FaultConfig
from sandbox.errors import bad_request, not_found
from sandbox.generator import GeneratorSpec, generate_company_data
from sandbox.platforms import BY_KEY, PLATFORMS
from sandbox.state import READ_TYPES, resolve_platform, seed_company, seed_example
from sandbox.web import json_response, read_json, require_api_key, sandbox_state
from sandbox.webhooks import connection_json


def _faults(body: Any) -> FaultConfig:
    try:
        return msgspec.convert(body or {}, FaultConfig)
    except msgspec.ValidationError as exc:
        raise bad_request(f"Invalid faults: {exc}") from None


@get("/_admin/faults")
async def get_faults(request: Request) -> Response:
    """The global faults."""
    require_api_key(request)
    return json_response(msgspec.to_builtins(sandbox_state(request).faults.config))


@put("/_admin/faults")
async def put_faults(request: Request) -> Response:
    """Replace the global faults (unset fields take their defaults)."""
    require_api_key(request)
    config = _faults(await read_json(request))
    sandbox_state(request).set_global_faults(config)
    return json_response(msgspec.to_builtins(config))


@get("/_admin/companies/{company_id:str}/faults")
async def get_company_faults(request: Request, company_id: str) -> Response:
    """The company's faults (null when it follows the global ones)."""
    state = sandbox_state(request)
    company = state.company(require_api_key(request), company_id)
    return json_response(msgspec.to_builtins(company.faults))


@put("/_admin/companies/{company_id:str}/faults")
async def put_company_faults(request: Request, company_id: str) -> Response:
    """Set the company's faults (they replace the global ones for this company)."""
    state = sandbox_state(request)
    company = state.company(require_api_key(request), company_id)
    config = _faults(await read_json(request))
    state.set_company_faults(company, config)
    return json_response(msgspec.to_builtins(config))


@delete("/_admin/companies/{company_id:str}/faults", status_code=204)
async def delete_company_faults(request: Request, company_id: str) -> None:
    """Clear the company's faults (back to the global ones)."""
    state = sandbox_state(request)
    state.set_company_faults(state.company(require_api_key(request), company_id), None)


@post("/_admin/companies/seed", status_code=200)
async def seed(request: Request) -> Response:
    """The key's example company for ``{"platform": "xero" | "gbol" | "Xero"}``."""
    state = sandbox_state(request)
    api_key = require_api_key(request)
    body = await read_json(request)
    name = body.get("platform") if isinstance(body, dict) else None
    if not isinstance(name, str):
        raise bad_request("platform is required.")
    company = seed_example(state, api_key, resolve_platform(name))
    return json_response(company_json(state, company))


class _GenerateBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    customers: int = 50
    suppliers: int = 50
    items: int = 20
    invoices: int = 100
    bills: int = 100
    seed: int = 1
    currency: str = "GBP"
    name: str | None = None
    platformKey: str = "mqjo"


@post("/_admin/companies/generate", status_code=200)
async def generate(request: Request) -> Response:
    """A Linked company filled by the seeded generator (see ``GeneratorSpec``)."""
    state = sandbox_state(request)
    api_key = require_api_key(request)
    try:
        body = msgspec.convert(await read_json(request) or {}, _GenerateBody)
    except msgspec.ValidationError as exc:
        raise bad_request(f"Invalid body: {exc}") from None
    counts = (body.customers, body.suppliers, body.items, body.invoices, body.bills)
    if min(counts) < 0 or max(counts) > 500_000:
        raise bad_request("counts must be between 0 and 500000.")
    platform = BY_KEY.get(body.platformKey)
    if platform is None:
        raise bad_request(f"Unknown platformKey '{body.platformKey}'.")
    spec = GeneratorSpec(
        customers=body.customers,
        suppliers=body.suppliers,
        items=body.items,
        invoices=body.invoices,
        bills=body.bills,
        seed=body.seed,
        currency=body.currency,
    )
    data = await anyio.to_thread.run_sync(generate_company_data, spec)
    company = seed_company(
        state, api_key, platform, body.name or f"Generated {body.seed}", data=data
    )
    return json_response(company_json(state, company))


@post("/_admin/companies/{company_id:str}/connections/{connection_id:str}/{action:str}")
async def connection_action(
    request: Request, company_id: str, connection_id: str, action: str
) -> Response:
    """``authorize`` (as the link page's button) or ``deauthorize`` (platform revoked)."""
    state = sandbox_state(request)
    company = state.company(require_api_key(request), company_id)
    connection = state.connection(company, connection_id)
    if action == "authorize":
        state.authorize(company, connection)
    elif action == "deauthorize":
        state.deauthorize(company, connection)
    else:
        raise not_found(f"Action {action}")
    return json_response(connection_json(state.config, connection))


@put("/_admin/companies/{company_id:str}/data/{data_type:str}")
async def put_records(request: Request, company_id: str, data_type: str) -> Response:
    """Upsert records as if edited in the platform (new ids when missing); returns them."""
    state = sandbox_state(request)
    company = state.company(require_api_key(request), company_id)
    if data_type not in READ_TYPES:
        raise not_found(f"Data type {data_type}")
    body = await read_json(request)
    records = body if isinstance(body, list) else [body]
    if not all(isinstance(r, dict) for r in records):
        raise bad_request("The body must be a record or a list of records.")
    collection = company.data[data_type]
    stored = []
    for record in records:
        existing = collection.get(str(record.get("id"))) if record.get("id") else None
        merged = {**copy.deepcopy(existing), **record} if existing else dict(record)
        merged.setdefault("id", str(uuid.uuid4()))
        merged.setdefault("metadata", {"isDeleted": False})
        state.touch(merged)
        collection.put(merged)
        stored.append(merged)
    return json_response(stored)


@delete("/_admin/companies/{company_id:str}/data/{data_type:str}/{record_id:str}", status_code=200)
async def delete_record(
    request: Request, company_id: str, data_type: str, record_id: str
) -> Response:
    """Mark a record deleted in the platform (``metadata.isDeleted: true``)."""
    state = sandbox_state(request)
    company = state.company(require_api_key(request), company_id)
    if data_type not in READ_TYPES:
        raise not_found(f"Data type {data_type}")
    existing = company.data[data_type].get(record_id)
    if existing is None:
        raise not_found(f"{data_type} record {record_id}")
    record = copy.deepcopy(existing)
    record["metadata"] = {**(record.get("metadata") or {}), "isDeleted": True}
    state.touch(record)
    company.data[data_type].put(record)
    return json_response(record)


@get("/_admin/webhooks")
async def webhook_log(request: Request) -> Response:
    """Every webhook message (``?companyId=`` to filter) with status, attempts, copies."""
    require_api_key(request)
    dispatcher = request.app.state.sandbox_webhooks
    company_id = request.query_params.get("companyId")
    return json_response(
        [d.summary() for d in dispatcher.log if company_id in (None, d.company_id)]
    )


@get("/_admin/platforms")
async def platforms(request: Request) -> Response:
    """The platform table: ``[{key, name, folder}]``."""
    return json_response([{"key": p.key, "name": p.name, "folder": p.folder} for p in PLATFORMS])


def admin_router(middleware: list) -> Router:
    """The admin routes."""
    return Router(
        path="/",
        middleware=middleware,
        route_handlers=[
            get_faults,
            put_faults,
            get_company_faults,
            put_company_faults,
            delete_company_faults,
            seed,
            generate,
            connection_action,
            put_records,
            delete_record,
            webhook_log,
            platforms,
        ],
    )
