"""Codat's API endpoints (companies, connections, data reads, pushes, data status)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post, put

from sandbox.errors import CodatError, bad_request, not_found
from sandbox.info import company_info
from sandbox.pushes import operation_json, start_push
from sandbox.query import QueryError
from sandbox.state import PUSH_TYPES, READ_TYPES, Company, SandboxState, iso
from sandbox.web import (
    encode,
    idempotent,
    json_response,
    page_of_dicts,
    page_response,
    paging,
    read_json,
    require_api_key,
    sandbox_state,
)
from sandbox.webhooks import connection_json


def company_json(state: SandboxState, company: Company) -> dict[str, Any]:
    """Codat's ``Company`` shape; ``redirect`` is the sandbox's platform-picker page."""
    return {
        "id": company.id,
        "name": company.name,
        "description": company.description,
        "redirect": f"{state.config.base_url}/link/companies/{company.id}",
        "lastSync": iso(company.last_sync),
        "created": iso(company.created),
        "createdByUserName": None,
        "products": [],
        "tags": company.tags,
        "referenceParentCompany": None,
        "referenceSubsidiaryCompanies": [],
        "dataConnections": [connection_json(state.config, c) for c in company.connections.values()],
    }


def _company(request: Request, company_id: str) -> tuple[SandboxState, Company]:
    state = sandbox_state(request)
    return state, state.company(require_api_key(request), company_id)


# ---- companies -------------------------------------------------------------------------


@post("/companies", status_code=200)
async def create_company(request: Request) -> Response:
    """``POST /companies {name, description?, tags?}`` -> Company (200). 400 without a name."""
    state = sandbox_state(request)
    api_key = require_api_key(request)

    async def produce() -> tuple[int, bytes]:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise CodatError(
                400,
                "Company name is required.",
                validation={
                    "errors": [
                        {"itemId": "name", "message": "Name is required.", "validatorName": "Name"}
                    ],
                    "warnings": [],
                },
                can_be_retried="False",
            )
        tags = body.get("tags") or {}
        if not isinstance(tags, dict):
            raise bad_request("tags must be an object of strings.")
        company = state.create_company(
            api_key,
            name.strip(),
            body.get("description"),
            {str(k): str(v) for k, v in tags.items()},
        )
        return 200, encode(company_json(state, company))

    return await idempotent(request, api_key, produce)


@get("/companies")
async def list_companies(request: Request) -> Response:
    """``GET /companies`` with page, pageSize, query, orderBy."""
    state = sandbox_state(request)
    companies = [company_json(state, c) for c in state.companies_of(require_api_key(request))]
    return page_of_dicts(request, "/companies", companies)


@get("/companies/{company_id:str}")
async def get_company(request: Request, company_id: str) -> Response:
    """``GET /companies/{companyId}``; 404 for an unknown or another key's company."""
    state, company = _company(request, company_id)
    return json_response(company_json(state, company))


# ---- connections -----------------------------------------------------------------------


@post("/companies/{company_id:str}/connections", status_code=200)
async def create_connection(request: Request, company_id: str) -> Response:
    """``POST .../connections {platformKey}`` -> a PendingAuth Connection with its linkUrl."""
    state, company = _company(request, company_id)

    async def produce() -> tuple[int, bytes]:
        body = await read_json(request)
        key = body.get("platformKey") if isinstance(body, dict) else None
        if not isinstance(key, str):
            raise bad_request("platformKey is required.")
        connection = state.create_connection(company, key)
        return 200, encode(connection_json(state.config, connection))

    return await idempotent(request, company.api_key, produce)


@get("/companies/{company_id:str}/connections")
async def list_connections(request: Request, company_id: str) -> Response:
    """``GET .../connections`` with page, pageSize, query, orderBy."""
    state, company = _company(request, company_id)
    connections = [connection_json(state.config, c) for c in company.connections.values()]
    return page_of_dicts(request, f"/companies/{company.id}/connections", connections)


@get("/companies/{company_id:str}/connections/{connection_id:str}")
async def get_connection(request: Request, company_id: str, connection_id: str) -> Response:
    """``GET .../connections/{connectionId}``."""
    state, company = _company(request, company_id)
    return json_response(connection_json(state.config, state.connection(company, connection_id)))


@patch("/companies/{company_id:str}/connections/{connection_id:str}")
async def update_connection(request: Request, company_id: str, connection_id: str) -> Response:
    """``PATCH .../connections/{connectionId} {status: "Unlinked"}``: unlink (400 otherwise)."""
    state, company = _company(request, company_id)
    connection = state.connection(company, connection_id)

    async def produce() -> tuple[int, bytes]:
        body = await read_json(request)
        status = body.get("status") if isinstance(body, dict) else None
        if status != "Unlinked":
            raise bad_request('Only {"status": "Unlinked"} is supported.')
        state.unlink(company, connection)
        return 200, encode(connection_json(state.config, connection))

    return await idempotent(request, company.api_key, produce)


@delete("/companies/{company_id:str}/connections/{connection_id:str}", status_code=200)
async def delete_connection(request: Request, company_id: str, connection_id: str) -> Response:
    """``DELETE .../connections/{connectionId}``: removes it (``connection.deleted``)."""
    state, company = _company(request, company_id)
    connection = state.connection(company, connection_id)
    del company.connections[connection.id]
    state.emit("connection.deleted", company, {"connection": connection})
    return Response(content=b"", status_code=200)


# ---- data ------------------------------------------------------------------------------


def _read_type(data_type: str) -> str:
    if data_type not in READ_TYPES:
        raise not_found(f"Data type {data_type}")
    return data_type


@get("/companies/{company_id:str}/data/info")
async def get_info(request: Request, company_id: str) -> Response:
    """``GET .../data/info``: Codat's ``CompanyInfo`` (:mod:`sandbox.info`); 404 until a
    connection has brought the company's data."""
    _, company = _company(request, company_id)
    if not company.filled:
        raise not_found(f"Company info of company {company.id}")
    data = {t: company.data[t].all() for t in ("accounts", "invoices", "bills")}
    return json_response(company_info(company.name, iso(company.created), data))


@get("/companies/{company_id:str}/data/{data_type:str}")
async def list_records(request: Request, company_id: str, data_type: str) -> Response:
    """``GET .../data/{dataType}`` with page (from 1), pageSize (1..5000, default 100),
    query and orderBy (400 with Codat's error body when malformed)."""
    state, company = _company(request, company_id)
    collection = company.data[_read_type(data_type)]
    page, page_size, query, order_by = paging(request)
    try:
        total, encoded = collection.page(query, order_by, page, page_size)
    except QueryError as exc:
        raise bad_request(str(exc)) from None
    path = f"/companies/{company.id}/data/{data_type}"
    return page_response(state, path, encoded, total, page, page_size, query, order_by)


@get("/companies/{company_id:str}/data/{data_type:str}/{record_id:str}")
async def get_record(request: Request, company_id: str, data_type: str, record_id: str) -> Response:
    """``GET .../data/{dataType}/{id}``: one record (404 when unknown)."""
    _, company = _company(request, company_id)
    record = company.data[_read_type(data_type)].get(record_id)
    if record is None:
        raise not_found(f"{data_type} record {record_id}")
    return json_response(record)


@post("/companies/{company_id:str}/data/queue/{data_type:str}", status_code=200)
async def queue_refresh(request: Request, company_id: str, data_type: str) -> Response:
    """``POST .../data/queue/{dataType}[?connectionId=]`` -> a Queued pull operation; it
    completes after ``sync_delay_s`` and a read-completed webhook is sent."""
    state, company = _company(request, company_id)

    async def produce() -> tuple[int, bytes]:
        dataset = state.queue_refresh(company, data_type, request.query_params.get("connectionId"))
        return 200, encode(dataset)

    return await idempotent(request, company.api_key, produce)


@get("/companies/{company_id:str}/dataStatus")
async def data_status(request: Request, company_id: str) -> Response:
    """``GET .../dataStatus``: ``{dataType: {dataType, currentStatus, lastSuccessfulSync,
    latestSyncId, latestSuccessfulSyncId}}`` for each data type synced so far."""
    _, company = _company(request, company_id)
    return json_response(company.data_status)


@get("/companies/{company_id:str}/data/history/{dataset_id:str}")
async def get_dataset(request: Request, company_id: str, dataset_id: str) -> Response:
    """``GET .../data/history/{datasetId}``: one pull operation."""
    _, company = _company(request, company_id)
    dataset = company.datasets.get(dataset_id)
    if dataset is None:
        raise not_found(f"Dataset {dataset_id}")
    return json_response(dataset)


# ---- pushes ----------------------------------------------------------------------------


def _push_type(data_type: str) -> str:
    if data_type not in PUSH_TYPES:
        raise not_found(f"Push data type {data_type}")
    return data_type


def _timeout(request: Request) -> int | None:
    raw = request.query_params.get("timeoutInMinutes")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request("timeoutInMinutes must be an integer.") from None


async def _push(
    request: Request, company_id: str, connection_id: str, data_type: str, record_id: str | None
) -> Response:
    state, company = _company(request, company_id)
    _push_type(data_type)

    async def produce() -> tuple[int, bytes]:
        body = await read_json(request)
        force = request.query_params.get("forceUpdate", "").lower() == "true"
        operation = start_push(
            state, company, connection_id, data_type, body, record_id, _timeout(request), force
        )
        return 200, encode(operation_json(operation))

    return await idempotent(request, company.api_key, produce)


@post(
    "/companies/{company_id:str}/connections/{connection_id:str}/push/{data_type:str}",
    status_code=200,
)
async def push_create(
    request: Request, company_id: str, connection_id: str, data_type: str
) -> Response:
    """``POST .../push/{bills|invoices|customers|suppliers|items}`` -> Pending push operation."""
    return await _push(request, company_id, connection_id, data_type, None)


@put(
    "/companies/{company_id:str}/connections/{connection_id:str}/push/{data_type:str}/{record_id:str}"
)
async def push_update(
    request: Request, company_id: str, connection_id: str, data_type: str, record_id: str
) -> Response:
    """``PUT .../push/{dataType}/{id}`` -> Pending push operation updating the record."""
    return await _push(request, company_id, connection_id, data_type, record_id)


@get("/companies/{company_id:str}/push/{push_key:str}")
async def get_push(request: Request, company_id: str, push_key: str) -> Response:
    """``GET .../push/{pushOperationKey}``."""
    _, company = _company(request, company_id)
    operation = company.push_operations.get(push_key)
    if operation is None:
        raise not_found(f"Push operation {push_key}")
    return json_response(operation_json(operation))


@get("/companies/{company_id:str}/push")
async def list_pushes(request: Request, company_id: str) -> Response:
    """``GET .../push`` with page, pageSize, query, orderBy (oldest first by default)."""
    _, company = _company(request, company_id)
    operations = [operation_json(o) for o in company.push_operations.values()]
    return page_of_dicts(request, f"/companies/{company.id}/push", operations)


def api_router(middleware: list) -> Router:
    """The Codat API routes behind the auth / rate-limit / fault middleware."""
    return Router(
        path="/",
        middleware=middleware,
        route_handlers=[
            create_company,
            list_companies,
            get_company,
            create_connection,
            list_connections,
            get_connection,
            update_connection,
            delete_connection,
            get_info,
            list_records,
            get_record,
            queue_refresh,
            data_status,
            get_dataset,
            push_create,
            push_update,
            get_push,
            list_pushes,
        ],
    )
