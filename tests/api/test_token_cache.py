"""The in-process cache of verified tokens (app.auth.security.TokenCache): a revoke takes
effect at once in the process that handled it, and within the staleness bound in another
process on the same database; nothing expired, revoked or evicted is served from it."""

from __future__ import annotations

import datetime as dt
import time
import uuid

from litestar.security.jwt import Token
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from app.auth.security import REVOCATION_STALENESS_S, TokenCache
from app.auth.service import Principal
from app.db.models import RevokedToken
from app.server import create_app
from tests.conftest import make_partner


def _revoke_body(partner) -> dict[str, str]:
    return {
        "client_id": partner.client_id,
        "client_secret": partner.client_secret,
        "token": partner.token,
    }


async def test_revoke_refuses_a_cached_token_at_once(partner, sessionmaker) -> None:
    for _ in range(3):  # the token is now in the cache
        response = await partner.client.get("/v1/entities", headers=partner.headers)
        assert response.status_code == 200
    revoked = await partner.client.post("/v1/auth/revoke", json=_revoke_body(partner))
    assert revoked.status_code == 200
    response = await partner.client.get("/v1/entities", headers=partner.headers)
    assert response.status_code == 401
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(RevokedToken)) == 1


async def test_another_process_refuses_a_revoked_token_within_the_staleness_bound(
    settings, clean_db, sessionmaker
) -> None:
    """Two apps on one database, as two API nodes: node B has the token cached when node A
    revokes it. B may accept it until its check is REVOCATION_STALENESS_S old, never after."""
    node_a, node_b = create_app(settings, engine=clean_db), create_app(settings, engine=clean_db)
    now = [1000.0]
    cache_b = node_b.state.jwt_auth.token_cache
    cache_b.clock = lambda: now[0]
    assert cache_b.staleness_s == REVOCATION_STALENESS_S
    async with AsyncTestClient(app=node_a) as a, AsyncTestClient(app=node_b) as b:
        partner = await make_partner(a, sessionmaker, "Two nodes")
        assert (await b.get("/v1/entities", headers=partner.headers)).status_code == 200
        assert (await a.post("/v1/auth/revoke", json=_revoke_body(partner))).status_code == 200
        assert (await a.get("/v1/entities", headers=partner.headers)).status_code == 401
        # B's check is younger than the bound: the documented window.
        now[0] += REVOCATION_STALENESS_S - 0.5
        assert (await b.get("/v1/entities", headers=partner.headers)).status_code == 200
        # Once the bound has passed B reads the revocation from the database.
        now[0] += 0.5
        assert (await b.get("/v1/entities", headers=partner.headers)).status_code == 401
        now[0] += 100
        assert (await b.get("/v1/entities", headers=partner.headers)).status_code == 401


async def test_a_new_token_of_a_revoked_partner_client_still_works(partner, client) -> None:
    """Revoking one token refuses that token only (the cache keys on the token's jti)."""
    await partner.client.get("/v1/entities", headers=partner.headers)
    assert (await client.post("/v1/auth/revoke", json=_revoke_body(partner))).status_code == 200
    fresh = await client.post(
        "/v1/auth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": partner.client_id,
            "client_secret": partner.client_secret,
        },
    )
    headers = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert (await client.get("/v1/entities", headers=headers)).status_code == 200
    assert (await client.get("/v1/entities", headers=partner.headers)).status_code == 401


async def test_a_tampered_token_is_refused_even_when_the_real_one_is_cached(partner) -> None:
    assert (await partner.client.get("/v1/entities", headers=partner.headers)).status_code == 200
    head, payload, signature = partner.token.split(".")
    forged = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    response = await partner.client.get(
        "/v1/entities", headers={"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401


def _token(jti: str, exp: dt.datetime) -> tuple[Principal, Token]:
    partner = uuid.uuid4()
    return Principal(partner, "client", jti), Token(sub=str(partner), exp=exp, jti=jti)


def test_cache_bounds() -> None:
    clock, wall = [0.0], [time.time()]
    cache = TokenCache(staleness_s=5, max_tokens=10, clock=lambda: clock[0], wall=lambda: wall[0])
    exp = dt.datetime.fromtimestamp(wall[0] + 60, dt.UTC)
    principal, token = _token("a", exp)
    cache.put("tok-a", principal, token, clock[0])
    assert cache.get("tok-a") is not None
    clock[0] = 5.0  # staleness reached: look it up again
    assert cache.get("tok-a") is None

    cache.put("tok-a", principal, token, clock[0])
    wall[0] += 60  # the token's exp: never served past it
    assert cache.get("tok-a") is None

    wall[0] -= 60
    cache.put("tok-a", principal, token, clock[0])
    cache.revoke("a", wall[0] + 60)
    assert cache.get("tok-a") is None
    # A database check that began before the revoke cannot put the token back.
    cache.put("tok-a", principal, token, clock[0])
    assert cache.get("tok-a") is None

    for i in range(25):  # never more than max_tokens kept
        p, t = _token(f"j{i}", exp)
        cache.put(f"tok-{i}", p, t, clock[0])
        assert len(cache._entries) <= 10
    assert cache.get("tok-24") is not None
