"""The support console over HTTP (no browser): sign-in and its cookie, CSRF, scoping to the
signed-in partner, sign-out. The browser tests (``test_console_browser.py``) drive the flows."""

from __future__ import annotations

import re
import uuid

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import make_partner

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, html
    return found.group(1)


@pytest.fixture
async def https_client(app):
    """The console's cookie is Secure outside development: a client on https."""
    async with AsyncTestClient(app=app, base_url="https://console.test") as client:
        yield client


async def _sign_in(client, partner) -> str:
    page = await client.get("/console/login")
    assert page.status_code == 200
    r = await client.post(
        "/console/login",
        data={
            "csrf_token": _csrf(page.text),
            "client_id": partner.client_id,
            "client_secret": partner.client_secret,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/console/"
    return r.headers["set-cookie"]


async def test_sign_in_cookie_scoping_and_sign_out(https_client, sessionmaker) -> None:
    client = https_client
    partner = await make_partner(client, sessionmaker, "Console A")
    other = await make_partner(client, sessionmaker, "Console B")
    mine = await partner.create_entity("Mine Ltd")
    theirs = await other.create_entity("<script>alert(1)</script> Ltd")

    # Signed out: every page sends the browser to the sign-in form.
    r = await client.get("/console/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/console/login")

    # Wrong secret: refused, no session.
    page = await client.get("/console/login")
    r = await client.post(
        "/console/login",
        data={"csrf_token": _csrf(page.text), "client_id": partner.client_id, "client_secret": "x"},
    )
    assert r.status_code == 401 and "not accepted" in r.text

    cookie = await _sign_in(client, partner)
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")}
    assert {"httponly", "secure", "max-age", "path"} <= attributes, cookie
    assert "samesite=strict" in cookie.lower() and "path=/console" in cookie.lower()

    home = await client.get("/console/")
    assert home.status_code == 200
    assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
    assert "script-src" not in home.headers["content-security-policy"]  # no script at all
    assert home.headers["cache-control"] == "no-store"
    assert "Mine Ltd" in home.text and "alert(1)" not in home.text  # only this partner's
    assert (await client.get(f"/console/entities/{mine}")).status_code == 200
    # Another partner's entity, or a record id that is not ours: 404, as in the API.
    r = await client.get(f"/console/entities/{theirs}", headers={"x-request-id": "ticket-7"})
    assert r.status_code == 404 and "Not found" in r.text and "ticket-7" in r.text
    assert r.headers["x-frame-options"] == "DENY"
    r = await client.get(f"/console/entities/{mine}/records/{uuid.uuid4()}")
    assert r.status_code == 404

    # A form posted without the CSRF token (or with another) is refused and does nothing.
    for data in ({}, {"csrf_token": "forged" * 8}):
        r = await client.post("/console/logout", data=data, follow_redirects=False)
        assert r.status_code == 403
    assert (await client.get("/console/")).status_code == 200  # still signed in

    # Signing out revokes the sign-in: the old cookie no longer opens a page.
    stolen = dict(client.cookies)
    r = await client.post(
        "/console/logout", data={"csrf_token": _csrf(home.text)}, follow_redirects=False
    )
    assert (r.status_code, r.headers["location"]) == (303, "/console/login")
    client.cookies.clear()
    for name, value in stolen.items():
        client.cookies.set(name, value, domain="console.test", path="/console")
    r = await client.get("/console/", follow_redirects=False)
    assert r.status_code == 303


async def test_records_filters_and_bad_input(https_client, sessionmaker) -> None:
    client = https_client
    partner = await make_partner(client, sessionmaker, "Console C")
    entity = await partner.create_entity("Filter Ltd")
    await _sign_in(client, partner)
    base = f"/console/entities/{entity}/records"
    r = await client.get(base, params={"object_type": "bill", "sync_status": "error"})
    assert r.status_code == 200 and "No records." in r.text
    # A malformed filter is a 422 page naming it, never a 500.
    r = await client.get(base, params={"object_type": "bill", "object_id": "nope"})
    assert r.status_code == 422 and "must be a UUID" in r.text
    r = await client.get(base, params={"created_from": "yesterday"})
    assert r.status_code == 422 and "ISO 8601" in r.text
    r = await client.get(base, params={"pagination_token": "garbage"})
    assert r.status_code == 422 and "invalid pagination token" in r.text


async def test_actions_on_what_is_not_there_change_nothing(https_client, sessionmaker) -> None:
    """Every button posted at a record, connection or type that is not there (or not the
    partner's) is a 404 page or a message on the page: never a 500, nothing written."""
    client = https_client
    partner = await make_partner(client, sessionmaker, "Console D")
    entity = await partner.create_entity("Buttons Ltd")
    await _sign_in(client, partner)
    page = await client.get(f"/console/entities/{entity}")
    token = _csrf(page.text)
    missing = uuid.uuid4()
    base = f"/console/entities/{entity}"
    for path, data in (
        (f"{base}/records/{missing}/retry", {}),
        (f"{base}/records/{missing}/resolve", {"object_id": str(uuid.uuid4())}),
        (f"/console/entities/{missing}/retry", {"object_type": "bill"}),
    ):
        r = await client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
        assert r.status_code == 404 and "Not found" in r.text, (path, r.status_code, r.text)
    # A resolve with a malformed id, a bulk retry of a type that is not pushed, a sync of a
    # connection that is not there: the page says why.
    r = await client.post(f"{base}/retry", data={"csrf_token": token, "object_type": "customer"})
    assert r.status_code == 200 and "Only bills and receivables are retried" in r.text
    r = await client.post(f"{base}/connections/{missing}/sync", data={"csrf_token": token})
    assert r.status_code == 200 and "was not found" in r.text, r.text
    r = await client.post(f"{base}/retry", data={"csrf_token": token, "object_type": "bill"})
    assert r.status_code == 200 and "0 failed bill record(s) queued" in r.text
