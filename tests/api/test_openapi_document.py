"""The service's OpenAPI document says what the service answers: the error bodies it sends,
the status codes, refused unknown fields, the media type of ``/metrics``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PartnerCtx

pytestmark = pytest.mark.asyncio

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def document(client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, op


def _ref(response: dict[str, Any]) -> str:
    return response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]


async def test_every_error_is_documented_with_the_body_sent(document) -> None:
    for path, method, op in _operations(document):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                expected = "ValidationErrorBody" if status == "422" else "ErrorBody"
                assert _ref(response) == expected, (method, path, status)
    error = document["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]


async def test_documented_statuses_of_a_product(document, partner: PartnerCtx) -> None:
    item = document["paths"]["/v1/products/{product_id}"]
    assert {"401", "404", "422"} <= set(item["get"]["responses"])
    assert {"400", "401", "404", "409", "422"} <= set(item["patch"]["responses"])
    assert "401" not in document["paths"]["/health/live"]["get"]["responses"]

    entity_id = await partner.create_entity()
    headers = partner.entity_headers(entity_id)
    answer = await partner.client.get(f"/v1/products/{MISSING}", headers=headers)
    assert answer.status_code == 404
    assert set(answer.json()) == {"error"} and answer.json()["error"]["message"]
    answer = await partner.client.get(f"/v1/products/{MISSING}")
    assert answer.status_code == 401
    assert set(answer.json()) == {"error"}


async def test_unknown_request_fields_are_refused_in_the_document_too(
    document, partner: PartnerCtx
) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ProductCreate"]["additionalProperties"] is False
    assert schemas["Price"]["additionalProperties"] is False
    assert "additionalProperties" not in schemas["ProductOut"]
    entity_id = await partner.create_entity()
    answer = await partner.client.post(
        "/v1/products",
        headers=partner.entity_headers(entity_id),
        json={"name": "Pen", "colour": "blue"},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "extra_forbidden"


async def test_malformed_json_is_a_documented_400(document, partner: PartnerCtx) -> None:
    assert "400" in document["paths"]["/v1/products"]["post"]["responses"]
    entity_id = await partner.create_entity()
    answer = await partner.client.post(
        "/v1/products",
        headers={**partner.entity_headers(entity_id), "content-type": "application/json"},
        content=b"{not json",
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["message"]


async def test_metrics_are_documented_as_text(document, client) -> None:
    (content,) = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert content == "text/plain"
    answer = await client.get("/metrics")
    assert answer.headers["content-type"].startswith("text/plain")


async def test_webhook_receiver_documents_the_200_it_answers(document) -> None:
    responses = document["paths"]["/v1/webhooks/codat"]["post"]["responses"]
    assert {"200", "400", "401", "413"} <= set(responses)
    assert "201" not in responses


async def test_swagger_ui_shows_the_described_document(client) -> None:
    page = await client.get("/schema/swagger")
    assert page.status_code == 200
    assert "ValidationErrorBody" in page.text


async def test_an_undeclared_method_is_405_with_allow(partner: PartnerCtx) -> None:
    answer = await partner.client.request("TRACE", "/v1/products", headers=partner.headers)
    assert answer.status_code == 405
    assert {"GET", "POST"} <= set(answer.headers["allow"].replace(" ", "").split(","))
    assert answer.json()["error"]["message"]


async def test_lower_bounds_of_zero_are_documented(document) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["LineItemUpdate"]["properties"]["tax"]["minimum"] == 0
    assert schemas["LineItem"]["properties"]["tax_rate_value"]["minimum"] == 0
    assert schemas["ProductCreate"]["properties"]["smallest_amount"]["minimum"] == 0
    assert (
        schemas["payables_schemas_PartiallyPaid"]["properties"]["amount_paid"]["exclusiveMinimum"]
        == 0
    )
