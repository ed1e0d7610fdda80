"""CodatClient over httpx.MockTransport: requests, retries, errors, rate limits, paging.

No network and no real waiting: sleeps go to a fake clock that records them.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from email.utils import format_datetime

import httpx
import pytest

from app.providers import (
    AccountingProvider,
    Company,
    Connection,
    ProviderAuthError,
    ProviderNotFound,
    ProviderRejected,
    ProviderResponseError,
    ProviderUnavailable,
    PushOperationStatus,
)
from app.providers.codat import Account, CodatClient

BASE = "https://codat.test/base"
API_KEY = "secret-api-key-123"
EXPECTED_AUTH = "Basic " + base64.b64encode(API_KEY.encode()).decode()
COMPANY = "8a210b68-6988-11ed-a1eb-0242ac120002"
CONNECTION = "2e9d2c44-f675-40ba-8049-353bfcb5e171"
NOW = 1_700_000_000.0

Handler = Callable[[httpx.Request], httpx.Response]


class FakeTime:
    """A clock that only moves when the client sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Scripted:
    """A MockTransport handler answering from a script, one entry per request."""

    def __init__(self, *script: httpx.Response | Exception | Handler) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)


def make_client(handler: Scripted, fake: FakeTime | None = None, **kwargs) -> CodatClient:
    fake = fake or FakeTime()
    return CodatClient(
        BASE,
        API_KEY,
        transport=httpx.MockTransport(handler),
        sleep=fake.sleep,
        clock=fake.clock,
        rng=random.Random(7),
        **kwargs,
    )


def ok(body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(200, json=body, headers=headers)


def codat_error(status: int, error: str, **extra: object) -> httpx.Response:
    body = {
        "statusCode": status,
        "service": "PublicApi",
        "error": error,
        "correlationId": "corr-" + str(status),
        "canBeRetried": "False",
        **extra,
    }
    return httpx.Response(status, json=body)


COMPANY_JSON = {
    "id": COMPANY,
    "name": "Acme Ltd",
    "redirect": "https://link.codat.io/company/" + COMPANY,
    "created": "2024-05-01T10:00:00",
    "dataConnections": [],
}
CONNECTION_JSON = {
    "id": CONNECTION,
    "integrationId": "bf083d72-62c7-493e-aec9-81b4dbba7e2c",
    "sourceId": "8a156a5a-39cb-4f9d-856e-76ef9b9a9607",
    "platformName": "Xero",
    "linkUrl": "https://link-api.codat.io/companies/x/connections/y/start",
    "status": "PendingAuth",
    "created": "2024-05-01T10:00:05Z",
    "sourceType": "Accounting",
}
PUSH_JSON = {
    "pushOperationKey": "e6b1d6ab-7d5e-4e37-8b53-eac2ef6c0f45",
    "companyId": COMPANY,
    "dataConnectionKey": CONNECTION,
    "dataType": "bills",
    "status": "Pending",
    "requestedOnUtc": "2024-05-01T10:00:00Z",
    "statusCode": 202,
}


def page_json(
    ids: list[str], page: int, page_size: int, total: int, *, next_link: bool | None = None
) -> dict:
    body: dict = {
        "results": [
            {"id": i, "name": f"Account {i}", "modifiedDate": "2024-01-02T03:04:05Z"} for i in ids
        ],
        "pageNumber": page,
        "pageSize": page_size,
        "totalResults": total,
    }
    if next_link is not None:
        links: dict = {"self": {"href": "/x"}, "current": {"href": f"/x?page={page}"}}
        if next_link:
            links["next"] = {"href": f"/x?page={page + 1}"}
        body["_links"] = links
    return body


# --------------------------------------------------------------------------------------------
# Requests and decoding, endpoint by endpoint
# --------------------------------------------------------------------------------------------


async def test_client_satisfies_the_provider_protocol() -> None:
    client = make_client(Scripted(ok({})))
    assert isinstance(client, AccountingProvider)
    await client.aclose()


async def test_create_company_posts_name_with_basic_auth_and_idempotency_key() -> None:
    handler = Scripted(ok(COMPANY_JSON))
    client = make_client(handler)

    company = await client.create_company("Acme Ltd", description="entity 42")

    (request,) = handler.requests
    assert request.method == "POST"
    assert request.url == f"{BASE}/companies"
    assert request.headers["Authorization"] == EXPECTED_AUTH
    assert uuid.UUID(request.headers["Idempotency-Key"]).version == 4
    assert json.loads(request.content) == {"name": "Acme Ltd", "description": "entity 42"}
    assert isinstance(company, Company)
    assert company.id == COMPANY
    assert company.redirect == COMPANY_JSON["redirect"]
    assert company.created == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


async def test_caller_idempotency_key_is_sent_as_is() -> None:
    handler = Scripted(ok(CONNECTION_JSON))
    client = make_client(handler)

    connection = await client.create_connection(COMPANY, "gbol", idempotency_key="entity-7-conn")

    (request,) = handler.requests
    assert request.url.path == f"/base/companies/{COMPANY}/connections"
    assert request.headers["Idempotency-Key"] == "entity-7-conn"
    assert json.loads(request.content) == {"platformKey": "gbol"}
    assert connection.status == "PendingAuth"
    assert connection.link_url == CONNECTION_JSON["linkUrl"]
    assert connection.created == datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC)


async def test_get_company_and_connection_are_plain_gets_without_idempotency_key() -> None:
    handler = Scripted(
        ok({**COMPANY_JSON, "dataConnections": [CONNECTION_JSON]}), ok(CONNECTION_JSON)
    )
    client = make_client(handler)

    company = await client.get_company(COMPANY)
    connection = await client.get_connection(COMPANY, CONNECTION)

    first, second = handler.requests
    assert (first.method, first.url.path) == ("GET", f"/base/companies/{COMPANY}")
    assert (second.method, second.url.path) == (
        "GET",
        f"/base/companies/{COMPANY}/connections/{CONNECTION}",
    )
    assert "Idempotency-Key" not in first.headers
    assert all(r.headers["Authorization"] == EXPECTED_AUTH for r in handler.requests)
    assert [c.id for c in company.data_connections] == [CONNECTION]
    assert isinstance(connection, Connection)


async def test_unlink_connection_patches_status_unlinked() -> None:
    handler = Scripted(ok({**CONNECTION_JSON, "status": "Unlinked"}))
    client = make_client(handler)

    connection = await client.unlink_connection(COMPANY, CONNECTION)

    (request,) = handler.requests
    assert request.method == "PATCH"
    assert request.url.path == f"/base/companies/{COMPANY}/connections/{CONNECTION}"
    assert json.loads(request.content) == {"status": "Unlinked"}
    assert "Idempotency-Key" in request.headers
    assert connection.status == "Unlinked"


async def test_list_connections_reads_every_page() -> None:
    second = {**CONNECTION_JSON, "id": "c2"}

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        results = [CONNECTION_JSON] if page == 1 else [second]
        return ok({"results": results, "pageNumber": page, "pageSize": 1, "totalResults": 2})

    handler = Scripted(answer)
    client = make_client(handler)

    connections = await client.list_connections(COMPANY)

    assert [c.id for c in connections] == [CONNECTION, "c2"]
    assert [r.url.params["page"] for r in handler.requests] == ["1", "2"]


async def test_get_page_sends_cursor_query_and_order() -> None:
    handler = Scripted(ok(page_json(["1"], 1, 500, 1)))
    client = make_client(handler)
    cursor = datetime(2024, 1, 1, 2, 30, 15, 999, tzinfo=timezone(timedelta(hours=2)))

    page = await client.get_page(
        COMPANY,
        "accounts",
        page_size=500,
        modified_since=cursor,
        query="metadata.isDeleted!=true",
        order_by="modifiedDate",
    )

    (request,) = handler.requests
    assert request.method == "GET"
    assert request.url.path == f"/base/companies/{COMPANY}/data/accounts"
    params = request.url.params
    assert params["page"] == "1"
    assert params["pageSize"] == "500"
    # 02:30:15+02:00 is 00:30:15 UTC; fractions truncated so nothing is skipped.
    assert params["query"] == "modifiedDate>=2024-01-01T00:30:15Z&&metadata.isDeleted!=true"
    assert params["orderBy"] == "modifiedDate"
    assert isinstance(page.records[0], Account)
    assert page.records[0].modified_date == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


async def test_page_size_above_codat_maximum_is_refused() -> None:
    client = make_client(Scripted(ok({})))
    with pytest.raises(ValueError, match="5000"):
        await client.get_page(COMPANY, "accounts", page_size=5001)


async def test_get_record_reads_one_record_by_id() -> None:
    handler = Scripted(ok({"id": 42, "customerName": "Ridgeway University"}))
    client = make_client(handler)

    customer = await client.get_record(COMPANY, "customers", "42")

    assert handler.requests[0].url.path == f"/base/companies/{COMPANY}/data/customers/42"
    assert customer.id == "42"
    assert customer.customer_name == "Ridgeway University"


async def test_push_create_posts_payload_with_decimals_as_numbers() -> None:
    handler = Scripted(ok(PUSH_JSON))
    client = make_client(handler)
    payload = {"supplierRef": {"id": "s1"}, "totalAmount": Decimal("120.50")}

    operation = await client.push_create(
        COMPANY, CONNECTION, "bills", payload, idempotency_key="sr-1-attempt-1"
    )

    (request,) = handler.requests
    assert request.method == "POST"
    assert request.url.path == f"/base/companies/{COMPANY}/connections/{CONNECTION}/push/bills"
    assert request.headers["Idempotency-Key"] == "sr-1-attempt-1"
    assert request.headers["Content-Type"] == "application/json"
    assert b'"totalAmount":120.50' in request.content
    assert operation.push_operation_key == PUSH_JSON["pushOperationKey"]
    assert operation.status == PushOperationStatus.PENDING
    assert not operation.is_final
    assert operation.requested_on_utc == datetime(2024, 5, 1, 10, tzinfo=UTC)


async def test_push_update_puts_to_the_record_with_force_update() -> None:
    handler = Scripted(ok({**PUSH_JSON, "dataType": "invoices"}))
    client = make_client(handler)

    await client.push_update(
        COMPANY, CONNECTION, "invoices", "INV/7", {"status": "Void"}, force_update=True
    )

    (request,) = handler.requests
    assert request.method == "PUT"
    assert request.url.raw_path.decode().startswith(
        f"/base/companies/{COMPANY}/connections/{CONNECTION}/push/invoices/INV%2F7"
    )
    assert request.url.params["forceUpdate"] == "true"
    assert "Idempotency-Key" in request.headers
    assert json.loads(request.content) == {"status": "Void"}


async def test_push_of_a_read_only_data_type_is_refused() -> None:
    client = make_client(Scripted(ok(PUSH_JSON)))
    with pytest.raises(ValueError, match="accounts"):
        await client.push_create(COMPANY, CONNECTION, "accounts", {})


async def test_get_push_operation_decodes_outcome_validation_and_changes() -> None:
    failed = {
        **PUSH_JSON,
        "status": "Failed",
        "completedOnUtc": "2024-05-01T10:00:09.1234567",
        "statusCode": 400,
        "errorMessage": "Validation failed",
        "validation": {
            "errors": [
                {"itemId": "lineItems[0]", "message": "Account missing", "validatorName": "Bill"}
            ],
            "warnings": [],
        },
        "changes": [{"type": "Created", "recordRef": {"id": "bill-9", "dataType": "bills"}}],
    }
    handler = Scripted(ok(failed))
    client = make_client(handler)

    operation = await client.get_push_operation(COMPANY, PUSH_JSON["pushOperationKey"])

    assert handler.requests[0].url.path == (
        f"/base/companies/{COMPANY}/push/{PUSH_JSON['pushOperationKey']}"
    )
    assert operation.status == "Failed" and operation.is_final
    assert operation.completed_on_utc == datetime(2024, 5, 1, 10, 0, 9, 123457, tzinfo=UTC)
    assert operation.validation.errors[0].message == "Account missing"
    assert operation.validation.errors[0].validator_name == "Bill"
    assert operation.record_id == "bill-9"


async def test_queue_refresh_and_data_status() -> None:
    pull = {
        "id": "d1",
        "companyId": COMPANY,
        "connectionId": CONNECTION,
        "dataType": "invoices",
        "status": "Queued",
        "requested": "2024-05-01T10:00:00Z",
        "progress": 0,
        "isCompleted": False,
        "isErrored": False,
    }
    statuses = {
        "invoices": {
            "dataType": "invoices",
            "currentStatus": "Complete",
            "lastSuccessfulSync": "2024-05-01T09:00:00",
        },
        "bills": None,
    }
    handler = Scripted(ok(pull), ok(statuses))
    client = make_client(handler)

    operation = await client.queue_refresh(COMPANY, "invoices", connection_id=CONNECTION)
    status = await client.get_data_status(COMPANY)

    queue_request, status_request = handler.requests
    assert queue_request.method == "POST"
    assert queue_request.url.path == f"/base/companies/{COMPANY}/data/queue/invoices"
    assert queue_request.url.params["connectionId"] == CONNECTION
    assert "Idempotency-Key" in queue_request.headers
    assert operation.status == "Queued"
    assert status_request.url.path == f"/base/companies/{COMPANY}/dataStatus"
    assert list(status) == ["invoices"]
    assert status["invoices"].last_successful_sync == datetime(2024, 5, 1, 9, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Paging
# --------------------------------------------------------------------------------------------


async def test_iter_pages_follows_links_next_until_it_is_absent() -> None:
    pages = {
        1: page_json(["a", "b"], 1, 2, 5, next_link=True),
        2: page_json(["c", "d"], 2, 2, 5, next_link=True),
        3: page_json(["e"], 3, 2, 5, next_link=False),
    }
    handler = Scripted(lambda r: ok(pages[int(r.url.params["page"])]))
    client = make_client(handler)
    since = datetime(2024, 3, 1, tzinfo=UTC)

    seen = [
        [a.id for a in page.records]
        async for page in client.iter_pages(COMPANY, "accounts", modified_since=since, page_size=2)
    ]

    assert seen == [["a", "b"], ["c", "d"], ["e"]]
    assert [r.url.params["page"] for r in handler.requests] == ["1", "2", "3"]
    assert {r.url.params["query"] for r in handler.requests} == {
        "modifiedDate>=2024-03-01T00:00:00Z"
    }


async def test_iter_pages_without_links_stops_at_total_results() -> None:
    pages = {1: page_json(["a", "b"], 1, 2, 3), 2: page_json(["c"], 2, 2, 3)}
    handler = Scripted(lambda r: ok(pages[int(r.url.params["page"])]))
    client = make_client(handler)

    ids = [a.id async for page in client.iter_pages(COMPANY, "accounts") for a in page.records]

    assert ids == ["a", "b", "c"]
    assert len(handler.requests) == 2


async def test_iter_pages_stops_on_an_empty_page_even_if_total_says_more() -> None:
    handler = Scripted(ok(page_json([], 4, 100, 1000, next_link=True)))
    client = make_client(handler)

    pages = [page async for page in client.iter_pages(COMPANY, "accounts", start_page=4)]

    assert len(pages) == 1 and pages[0].records == []
    assert handler.requests[0].url.params["page"] == "4"


# --------------------------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------------------------


async def test_429_waits_retry_after_seconds_then_succeeds_with_the_same_key() -> None:
    handler = Scripted(
        httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "Too many"}),
        ok(PUSH_JSON),
    )
    fake = FakeTime()
    client = make_client(handler, fake)

    operation = await client.push_create(COMPANY, CONNECTION, "bills", {"reference": "B1"})

    assert operation.status == "Pending"
    assert fake.sleeps == [7.0]
    keys = {r.headers["Idempotency-Key"] for r in handler.requests}
    assert len(handler.requests) == 2 and len(keys) == 1


async def test_429_retry_after_as_http_date() -> None:
    when = datetime.fromtimestamp(NOW + 30, UTC)
    handler = Scripted(
        httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)}),
        ok(COMPANY_JSON),
    )
    fake = FakeTime()
    client = make_client(handler, fake)

    await client.get_company(COMPANY)

    assert fake.sleeps == [30.0]


async def test_retry_after_longer_than_max_wait_raises_unavailable_at_once() -> None:
    handler = Scripted(httpx.Response(429, headers={"Retry-After": "3600"}), ok(COMPANY_JSON))
    fake = FakeTime()
    client = make_client(handler, fake, max_wait=60)

    with pytest.raises(ProviderUnavailable) as caught:
        await client.get_company(COMPANY)

    assert caught.value.retry_after == 3600
    assert caught.value.status_code == 429
    assert fake.sleeps == [] and len(handler.requests) == 1


async def test_5xx_is_retried_with_jittered_backoff_and_a_stable_idempotency_key() -> None:
    handler = Scripted(
        httpx.Response(503), httpx.Response(502), httpx.Response(500), ok(COMPANY_JSON)
    )
    fake = FakeTime()
    client = make_client(handler, fake, backoff_base=1.0, backoff_cap=3.0)

    company = await client.create_company("Acme Ltd")

    assert company.id == COMPANY
    assert len(handler.requests) == 4
    assert len({r.headers["Idempotency-Key"] for r in handler.requests}) == 1
    # Full jitter: attempt n waits uniform(0, min(cap, base * 2**(n-1))).
    assert len(fake.sleeps) == 3
    for sleep, ceiling in zip(fake.sleeps, [1.0, 2.0, 3.0], strict=True):
        assert 0 <= sleep <= ceiling


async def test_408_is_retried() -> None:
    handler = Scripted(httpx.Response(408), ok(COMPANY_JSON))
    client = make_client(handler)

    await client.get_company(COMPANY)

    assert len(handler.requests) == 2


async def test_5xx_until_attempts_are_exhausted_raises_unavailable() -> None:
    handler = Scripted(codat_error(503, "Service offline", canBeRetried="True"))
    fake = FakeTime()
    client = make_client(handler, fake, max_attempts=3)

    with pytest.raises(ProviderUnavailable) as caught:
        await client.get_connection(COMPANY, CONNECTION)

    error = caught.value
    assert len(handler.requests) == 3
    assert len(fake.sleeps) == 2
    assert error.status_code == 503
    assert error.attempts == 3
    assert error.error == "Service offline"
    assert error.correlation_id == "corr-503"
    assert error.can_be_retried is True


async def test_connection_error_is_retried_then_succeeds() -> None:
    handler = Scripted(httpx.ConnectError("refused"), ok(COMPANY_JSON))
    client = make_client(handler)

    company = await client.get_company(COMPANY)

    assert company.name == "Acme Ltd"
    assert len(handler.requests) == 2


async def test_read_timeouts_until_exhausted_raise_unavailable_without_status() -> None:
    handler = Scripted(httpx.ReadTimeout("slow"))
    client = make_client(handler, max_attempts=2)

    with pytest.raises(ProviderUnavailable) as caught:
        await client.push_create(COMPANY, CONNECTION, "customers", {"customerName": "X"})

    assert caught.value.status_code is None
    assert "ReadTimeout" in str(caught.value)
    assert len({r.headers["Idempotency-Key"] for r in handler.requests}) == 1


# --------------------------------------------------------------------------------------------
# Errors that are not retried
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 422])
async def test_4xx_is_not_retried_and_carries_codat_error_fields(status: int) -> None:
    validation = {
        "errors": [
            {"itemId": "supplierRef", "message": "Supplier not found", "validatorName": "X"}
        ],
        "warnings": [{"itemId": None, "message": "Currency assumed", "validatorName": "X"}],
    }
    handler = Scripted(codat_error(status, "Validation error", validation=validation))
    fake = FakeTime()
    client = make_client(handler, fake)

    with pytest.raises(ProviderRejected) as caught:
        await client.push_create(COMPANY, CONNECTION, "bills", {"reference": "B1"})

    error = caught.value
    assert len(handler.requests) == 1 and fake.sleeps == []
    assert error.status_code == status
    assert error.error == "Validation error"
    assert error.correlation_id == f"corr-{status}"
    assert error.can_be_retried is False
    assert [v.message for v in error.validation_errors] == ["Supplier not found"]
    assert [v.message for v in error.validation_warnings] == ["Currency assumed"]
    assert not isinstance(error, ProviderUnavailable)


async def test_404_is_not_found() -> None:
    handler = Scripted(codat_error(404, "Company not found"))
    client = make_client(handler)

    with pytest.raises(ProviderNotFound) as caught:
        await client.get_company(COMPANY)

    assert caught.value.error == "Company not found"
    assert len(handler.requests) == 1


async def test_401_without_json_body_is_an_auth_error() -> None:
    handler = Scripted(httpx.Response(401, text="Unauthorized"))
    client = make_client(handler)

    with pytest.raises(ProviderAuthError) as caught:
        await client.get_company(COMPANY)

    assert caught.value.status_code == 401
    assert caught.value.error == "Unauthorized"
    assert len(handler.requests) == 1


async def test_undecodable_success_body_is_a_response_error() -> None:
    handler = Scripted(httpx.Response(200, text="<html>gateway</html>"))
    client = make_client(handler)

    with pytest.raises(ProviderResponseError):
        await client.get_company(COMPANY)
    assert len(handler.requests) == 1


# --------------------------------------------------------------------------------------------
# Rate limit headers
# --------------------------------------------------------------------------------------------


async def test_remaining_zero_waits_until_reset_before_the_next_call() -> None:
    exhausted = {
        "X-Rate-Limit-Limit": "1000",
        "X-Rate-Limit-Remaining": "0",
        "X-Rate-Limit-Reset": str(int(NOW + 12)),
    }
    handler = Scripted(ok(COMPANY_JSON, exhausted), ok(COMPANY_JSON))
    fake = FakeTime()
    client = make_client(handler, fake)

    await client.get_company(COMPANY)
    assert fake.sleeps == []
    assert client.rate_limit.remaining == 0

    await client.get_company(COMPANY)

    assert fake.sleeps == [12.0]
    assert len(handler.requests) == 2


async def test_reset_as_http_date_is_understood() -> None:
    reset = format_datetime(datetime.fromtimestamp(NOW + 5, UTC), usegmt=True)
    headers = {"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": reset}
    handler = Scripted(ok(COMPANY_JSON, headers), ok(COMPANY_JSON))
    fake = FakeTime()
    client = make_client(handler, fake)

    await client.get_company(COMPANY)
    await client.get_company(COMPANY)

    assert fake.sleeps == [5.0]


async def test_remaining_above_zero_does_not_wait() -> None:
    headers = {"X-Rate-Limit-Remaining": "3", "X-Rate-Limit-Reset": str(int(NOW + 12))}
    handler = Scripted(ok(COMPANY_JSON, headers))
    fake = FakeTime()
    client = make_client(handler, fake)

    await client.get_company(COMPANY)
    await client.get_company(COMPANY)

    assert fake.sleeps == []


async def test_reset_far_away_raises_unavailable_without_calling() -> None:
    headers = {"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": str(int(NOW + 7200))}
    handler = Scripted(ok(COMPANY_JSON, headers))
    fake = FakeTime()
    client = make_client(handler, fake, max_wait=60)
    await client.get_company(COMPANY)

    with pytest.raises(ProviderUnavailable) as caught:
        await client.get_company(COMPANY)

    assert caught.value.retry_after == pytest.approx(7200)
    assert caught.value.attempts == 0
    assert len(handler.requests) == 1


# --------------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------------


async def test_api_key_never_appears_in_logs_errors_or_repr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = Scripted(httpx.Response(500), codat_error(400, "Bad"))
    client = make_client(handler)
    encoded = EXPECTED_AUTH.split()[1]

    with caplog.at_level(logging.DEBUG):
        with pytest.raises(ProviderRejected) as caught:
            await client.get_company(COMPANY)

    assert "retrying" in caplog.text  # the retry was logged ...
    for secret in (API_KEY, encoded):  # ... without the key
        assert secret not in caplog.text
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value.__dict__)
        assert secret not in repr(client)
