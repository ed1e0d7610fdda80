"""Auth, partner settings and entities: happy paths, bad input, tenant isolation."""

from __future__ import annotations

from sqlalchemy import func, select

from app.db.models import Entity, PartnerSettings


async def test_token_and_entity_roundtrip(partner) -> None:
    entity_id = await partner.create_entity("Acme Ltd")
    response = await partner.client.get(f"/v1/entities/{entity_id}", headers=partner.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["organization"] == {"legal_name": "Acme Ltd"}
    assert body["address"]["country"] == "GB"
    assert body["currency"] == "GBP"
    assert response.headers["x-request-id"]


async def test_missing_or_bad_token_is_401(client) -> None:
    assert (await client.get("/v1/entities")).status_code == 401
    bad = await client.get("/v1/entities", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert "error" in bad.json()


async def test_wrong_secret_is_401(partner) -> None:
    response = await partner.client.post(
        "/v1/auth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": partner.client_id,
            "client_secret": "wrong",
        },
    )
    assert response.status_code == 401
    assert response.json() == {"error": {"message": "Invalid client credentials"}}


async def test_expired_token_is_401(partner, app) -> None:
    import time

    import jwt

    auth = app.state.jwt_auth
    now = int(time.time())
    token = jwt.encode(
        {"sub": str(partner.partner_id), "jti": "x" * 32, "iat": now - 100, "exp": now - 5},
        auth.token_secret,
        algorithm=auth.algorithm,
    )
    response = await partner.client.get(
        "/v1/entities", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


async def test_revoked_token_is_401(partner) -> None:
    assert (await partner.client.get("/v1/entities", headers=partner.headers)).status_code == 200
    response = await partner.client.post(
        "/v1/auth/revoke",
        json={
            "client_id": partner.client_id,
            "client_secret": partner.client_secret,
            "token": partner.token,
        },
    )
    assert response.status_code == 200
    assert (await partner.client.get("/v1/entities", headers=partner.headers)).status_code == 401


async def test_cannot_revoke_another_partners_token(partner, other_partner) -> None:
    response = await partner.client.post(
        "/v1/auth/revoke",
        json={
            "client_id": partner.client_id,
            "client_secret": partner.client_secret,
            "token": other_partner.token,
        },
    )
    assert response.status_code == 400
    ok = await other_partner.client.get("/v1/entities", headers=other_partner.headers)
    assert ok.status_code == 200


async def test_entity_bad_input_is_rejected_and_writes_nothing(partner, sessionmaker) -> None:
    cases = [
        ({"type": "organization"}, "organization"),
        ({"type": "company", "organization": {"legal_name": "X"}}, "type"),
        (
            {"type": "organization", "organization": {"legal_name": "X"}, "currency": "XYZ"},
            "currency",
        ),
        ({"type": "organization", "organization": {"legal_name": "X"}, "colour": "red"}, "colour"),
        (
            {
                "type": "organization",
                "organization": {"legal_name": "X"},
                "address": {"country": "ZZ", "city": "Nowhere"},
            },
            "country",
        ),
    ]
    for body, field in cases:
        response = await partner.client.post("/v1/entities", headers=partner.headers, json=body)
        assert response.status_code == 422, (body, response.text)
        locs = [loc for item in response.json()["detail"] for loc in item["loc"]]
        assert field in locs, (body, response.json())
    malformed = await partner.client.post(
        "/v1/entities",
        headers={**partner.headers, "content-type": "application/json"},
        content=b'{"type": ',
    )
    assert malformed.status_code == 400
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Entity)) == 0


async def test_entities_are_isolated_between_partners(partner, other_partner) -> None:
    entity_id = await partner.create_entity("Acme Ltd")
    other = other_partner.client
    assert (
        await other.get(f"/v1/entities/{entity_id}", headers=other_partner.headers)
    ).status_code == 404
    patched = await other.patch(
        f"/v1/entities/{entity_id}", headers=other_partner.headers, json={"email": "x@y.z"}
    )
    assert patched.status_code == 404
    listed = await other.get("/v1/entities", headers=other_partner.headers)
    assert listed.json()["data"] == []


async def test_entity_update_and_settings(partner) -> None:
    entity_id = await partner.create_entity()
    response = await partner.client.patch(
        f"/v1/entities/{entity_id}",
        headers=partner.headers,
        json={"email": "new@example.com", "organization": {"legal_name": "Acme Holdings"}},
    )
    assert response.status_code == 200
    assert response.json()["organization"]["legal_name"] == "Acme Holdings"
    settings = await partner.client.get(
        f"/v1/entities/{entity_id}/settings", headers=partner.headers
    )
    assert settings.json() == {
        "accounting": {"ledger_account_ids": {"products": None}, "tax_ids": {"deductions": None}}
    }
    unknown = "00000000-0000-4000-8000-000000000000"
    bad = await partner.client.patch(
        f"/v1/entities/{entity_id}/settings",
        headers=partner.headers,
        json={"accounting": {"ledger_account_ids": {"products": unknown}}},
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][-1] == "products"


async def test_entity_list_paginates_both_ways(partner) -> None:
    ids = [await partner.create_entity(f"Entity {i}") for i in range(5)]
    first = (await partner.client.get("/v1/entities?limit=2", headers=partner.headers)).json()
    assert [e["id"] for e in first["data"]] == ids[:2]
    assert first["prev_pagination_token"] is None
    second = (
        await partner.client.get(
            f"/v1/entities?limit=2&pagination_token={first['next_pagination_token']}",
            headers=partner.headers,
        )
    ).json()
    assert [e["id"] for e in second["data"]] == ids[2:4]
    back = (
        await partner.client.get(
            f"/v1/entities?limit=2&pagination_token={second['prev_pagination_token']}",
            headers=partner.headers,
        )
    ).json()
    assert [e["id"] for e in back["data"]] == ids[:2]
    desc = (await partner.client.get("/v1/entities?order=desc", headers=partner.headers)).json()
    assert [e["id"] for e in desc["data"]] == list(reversed(ids))
    bad = await partner.client.get("/v1/entities?limit=0", headers=partner.headers)
    assert bad.status_code == 422
    forged = await partner.client.get("/v1/entities?pagination_token=abc", headers=partner.headers)
    assert forged.status_code == 422


async def test_pagination_token_of_another_partner_is_rejected(partner, other_partner) -> None:
    for i in range(3):
        await partner.create_entity(f"E{i}")
    token = (await partner.client.get("/v1/entities?limit=1", headers=partner.headers)).json()[
        "next_pagination_token"
    ]
    response = await other_partner.client.get(
        f"/v1/entities?pagination_token={token}", headers=other_partner.headers
    )
    assert response.status_code == 422


async def test_partner_settings_token_is_write_only_and_encrypted(partner, sessionmaker) -> None:
    before = await partner.client.get("/v1/settings", headers=partner.headers)
    assert before.json()["accounting"]["token_configured"] is False
    response = await partner.client.patch(
        "/v1/settings",
        headers=partner.headers,
        json={"accounting": {"provider": "codat", "token": "codat-key-123"}},
    )
    assert response.status_code == 200
    assert "codat-key-123" not in response.text
    assert response.json()["accounting"]["token_configured"] is True
    async with sessionmaker() as session:
        row = await session.scalar(select(PartnerSettings))
        assert row is not None and b"codat-key-123" not in row.provider_token_encrypted
    bad = await partner.client.patch(
        "/v1/settings", headers=partner.headers, json={"accounting": {"provider": "plaid"}}
    )
    assert bad.status_code == 422


async def test_health_and_schema(client) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    schema = (await client.get("/schema/openapi.json")).json()
    operation_ids = [
        op["operationId"]
        for path in schema["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert len(operation_ids) == len(set(operation_ids))
    assert "post_auth_token" in operation_ids
