"""Input no route can use gets a clear 4xx and changes nothing, on both databases: JSON nested
thousands of levels deep, NUL characters (PostgreSQL text cannot hold them), bodies that are
not UTF-8, bodies over the size limit. Before, each of these was a 500 somewhere."""

from __future__ import annotations

import pytest

from tests.conftest import PartnerCtx

JSON = {"content-type": "application/json"}
DEEP = "[" * 5000 + "]" * 5000


async def _entities(client, partner: PartnerCtx) -> int:
    r = await client.get("/v1/entities", headers=partner.headers)
    assert r.status_code == 200, r.text
    return len(r.json()["data"])


@pytest.mark.parametrize("path", ["/v1/auth/token", "/v1/entities"])
async def test_deeply_nested_json_is_a_400(client, partner: PartnerCtx, path: str) -> None:
    r = await client.post(path, content=DEEP, headers={**JSON, **partner.headers})
    assert r.status_code == 400, r.text
    assert "nested" in r.json()["error"]["message"]


async def test_a_nul_in_a_body_is_a_400_and_nothing_is_written(client, partner: PartnerCtx) -> None:
    before = await _entities(client, partner)
    body = {"type": "organization", "organization": {"legal_name": "Acme\u0000 Ltd"}}
    r = await client.post("/v1/entities", json=body, headers=partner.headers)
    assert r.status_code == 400, r.text
    assert "NUL" in r.json()["error"]["message"]
    assert await _entities(client, partner) == before
    # The token endpoint too, without a token.
    r = await client.post(
        "/v1/auth/token",
        json={"grant_type": "client_credentials", "client_id": "a\u0000", "client_secret": "x"},
    )
    assert r.status_code == 400, r.text


async def test_a_nul_in_a_query_is_a_400(client, partner: PartnerCtx) -> None:
    entity = await partner.create_entity()
    r = await client.get(
        "/v1/counterparts",
        params={"name__icontains": "a\u0000b"},
        headers=partner.entity_headers(entity),
    )
    assert r.status_code == 400, r.text
    assert "%00" in r.json()["error"]["message"]
    assert "x-request-id" in r.headers


async def test_a_body_that_is_not_utf8_is_a_400(client, partner: PartnerCtx) -> None:
    before = await _entities(client, partner)
    raw = b'{"type": "organization", "organization": {"legal_name": "\xff\xfe"}}'
    r = await client.post("/v1/entities", content=raw, headers={**JSON, **partner.headers})
    assert r.status_code == 400, r.text
    assert "UTF-8" in r.json()["error"]["message"]
    assert await _entities(client, partner) == before


async def test_a_body_over_the_limit_is_a_413(client, partner: PartnerCtx) -> None:
    big = b'{"x": "' + b"a" * (10 * 1024 * 1024 + 10) + b'"}'
    r = await client.post("/v1/entities", content=big, headers={**JSON, **partner.headers})
    assert r.status_code == 413, r.text


async def test_ordinary_text_still_passes(client, partner: PartnerCtx) -> None:
    body = {"type": "organization", "organization": {"legal_name": "Bäckerei Schröder GmbH"}}
    r = await client.post("/v1/entities", json=body, headers=partner.headers)
    assert r.status_code == 201, r.text
    assert r.json()["organization"]["legal_name"] == "Bäckerei Schröder GmbH"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/counterparts",
            {"type": "organization", "organization": {"legal_name": "x" * 5000}},
            "legal_name",
        ),
        (
            "/v1/counterparts",
            {
                "type": "individual",
                "individual": {"first_name": "A", "last_name": "B", "email": "e" * 400},
            },
            "email",
        ),
    ],
)
async def test_an_over_long_value_is_a_422_naming_it(
    client, partner: PartnerCtx, path: str, body: dict, field: str
) -> None:
    entity = await partner.create_entity()
    r = await client.post(path, json=body, headers=partner.entity_headers(entity))
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"][0]["loc"]


async def test_an_over_long_entity_name_is_a_422(client, partner: PartnerCtx) -> None:
    before = await _entities(client, partner)
    body = {"type": "organization", "organization": {"legal_name": "x" * 5000}}
    r = await client.post("/v1/entities", json=body, headers=partner.headers)
    assert r.status_code == 422, r.text
    assert "legal_name" in r.json()["detail"][0]["loc"]
    assert await _entities(client, partner) == before


@pytest.mark.parametrize(
    ("cause", "status"),
    [
        ("database is locked", 503),  # SQLite: another writer held the lock past busy_timeout
        ("FATAL: sorry, too many clients already", 503),  # PostgreSQL out of connections
        ("no such table: entities", 500),  # a broken deployment is not "busy": still a 500
    ],
)
async def test_a_busy_database_is_a_503_to_retry_not_a_500(
    client, partner: PartnerCtx, monkeypatch: pytest.MonkeyPatch, cause: str, status: int
) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from app.entities import queries

    entity = await partner.create_entity()

    async def busy(*args, **kwargs):
        raise OperationalError("SELECT ...", {}, sqlite3.OperationalError(cause))

    monkeypatch.setattr(queries, "read_for_partner", busy)
    r = await client.get(f"/v1/entities/{entity}", headers=partner.headers)
    assert r.status_code == status, r.text
    if status == 503:
        assert r.headers["retry-after"] == "1"
        assert "busy" in r.json()["error"]["message"]
