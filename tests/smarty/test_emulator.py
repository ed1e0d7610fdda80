"""The Smarty Accounting emulator answers the reference's requests: OAuth, the envelope, every
list with pagination and search, create / get / update / delete, document states, the error
codes, the generator and the faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from smarty_sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    EXAMPLE_USERS,
    SmartyConfig,
    create_smarty_app,
)

CLIENT = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
USER, PASSWORD = EXAMPLE_USERS[0]


class Api:
    def __init__(self, http: httpx.AsyncClient, app: Any) -> None:
        self.http, self.app = http, app
        self.token = ""
        self.org = ""

    async def login(self, user: str = USER, password: str = PASSWORD) -> dict[str, Any]:
        r = await self.http.post(
            "/oauth/authenticate/accesstoken",
            json=CLIENT | {"username": user, "password": password},
        )
        assert r.status_code == 200, r.text
        self.token = r.json()["access_token"]
        orgs = await self.call("GET", "/organisations", org=False)
        self.org = str(orgs.json()["organisations"][0]["organisation_id"])
        return r.json()

    async def call(
        self, method: str, path: str, *, org: bool = True, params: dict | None = None, **kw: Any
    ) -> httpx.Response:
        query = dict(params or {})
        if org:
            query["organization_id"] = self.org
        return await self.http.request(
            method, f"/api/v1{path}", params=query, headers={"Access-Token": self.token}, **kw
        )


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    app = create_smarty_app(SmartyConfig())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://smarty.test"
    ) as http:
        yield Api(http, app)


async def test_oauth_tokens_expire_and_refresh(api: Api) -> None:
    bad = await api.http.post(
        "/oauth/authenticate/accesstoken", json=CLIENT | {"username": USER, "password": "no"}
    )
    assert bad.status_code == 401 and bad.json()["status"] == "error"
    wrong_client = await api.http.post(
        "/oauth/authenticate/accesstoken",
        json={"client_id": "x", "client_secret": "y", "username": USER, "password": PASSWORD},
    )
    assert wrong_client.status_code == 401
    tokens = await api.login()
    assert tokens["expires_in"] == 3600 and tokens["refresh_token"]
    assert (await api.call("GET", "/contacts")).status_code == 200
    api.app.state.smarty.store.expire_access_tokens()
    expired = await api.call("GET", "/contacts")
    assert expired.status_code == 401 and expired.json()["status"] == "error"
    fresh = await api.http.post(
        "/oauth/authenticate/refreshtoken", json=CLIENT | {"refresh_token": tokens["refresh_token"]}
    )
    assert fresh.status_code == 200
    api.token = fresh.json()["access_token"]
    assert (await api.call("GET", "/contacts")).status_code == 200
    await api.http.post("/_admin/revoke", json={})
    refused = await api.http.post(
        "/oauth/authenticate/refreshtoken", json=CLIENT | {"refresh_token": tokens["refresh_token"]}
    )
    assert refused.status_code == 401
    assert (await api.call("GET", "/contacts")).status_code == 401
    assert (await api.http.get("/api/v1/contacts")).status_code == 401  # no Access-Token


async def test_organisation_id_required_and_checked(api: Api) -> None:
    await api.login(*EXAMPLE_USERS[1])
    orgs = (await api.call("GET", "/organisations", org=False)).json()["organisations"]
    assert [o["name"] for o in orgs] == ["Harbour Coffee Roasters Ltd"]
    assert (await api.call("GET", "/contacts", org=False)).status_code == 400
    other = max(api.app.state.smarty.store.organisations)
    r = await api.call("GET", "/contacts", org=False, params={"organization_id": other})
    assert r.status_code == 403
    r = await api.call("GET", "/contacts", org=False, params={"organization_id": "abc"})
    assert r.status_code == 400
    detail = await api.call("GET", f"/organisations/{api.org}", org=False)
    assert detail.json()["organisation"]["currency"] == "GBP"


@pytest.mark.parametrize(
    ("path", "node", "total"),
    [
        ("/contacts", "contacts", 7),
        ("/items", "items", 4),
        ("/accounts", "accounts", 13),
        ("/vatrates", "vat_rates", 7),
        ("/invoices", "invoices", 3),
        ("/bills", "bills", 3),
    ],
)
async def test_lists_paginate_and_sort(api: Api, path: str, node: str, total: int) -> None:
    await api.login()
    default = (await api.call("GET", path)).json()
    assert default["status"] == "success"
    assert default["page_setting"] == {"page": 1, "size": 10, "total": total}
    assert len(default[node]) == min(10, total)
    seen = []
    for page in (1, 2, 3):
        body = (
            await api.call("GET", path, params={"page_number": page, "page_size": 3,
                                               "sort_type": "asc"})
        ).json()  # fmt: skip
        seen += body[node]
    ids = [next(iter(r.values())) for r in seen]
    assert ids == sorted(ids) and len(ids) == min(9, total)
    desc = (await api.call("GET", path, params={"sort_type": "desc", "page_size": 200})).json()
    assert [next(iter(r.values())) for r in desc[node]] == sorted(
        ids + [next(iter(r.values())) for r in desc[node] if r not in seen], reverse=True
    )
    for bad in ({"page_size": 0}, {"page_size": 201}, {"page_number": 0},
                {"sort_type": "up"}, {"sort_column": "nope"}, {"page_number": "x"}):  # fmt: skip
        r = await api.call("GET", path, params=bad)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["status"] == "error" and r.json()["message"]


async def test_search_text_and_filters(api: Api) -> None:
    await api.login()
    found = (await api.call("GET", "/contacts", params={"search_text": "kettle"})).json()
    assert [c["display_name"] for c in found["contacts"]] == ["The Copper Kettle"]
    suppliers = (await api.call("GET", "/contacts", params={"contact_type": "Supplier"})).json()
    assert suppliers["page_setting"]["total"] == 3
    by_ref = (await api.call("GET", "/invoices", params={"search_text": "PO-4411"})).json()
    assert [i["reference"] for i in by_ref["invoices"]] == ["PO-4411"]
    drafts = (await api.call("GET", "/invoices", params={"search_states": "Draft"})).json()
    assert {i["state"] for i in drafts["invoices"]} == {"Draft"}


async def test_contacts_create_update_delete(api: Api) -> None:
    await api.login()
    body = {"display_name": "Spencer_Ford", "contact_type": "Customer", "email": "s@f.example",
            "contact_city": "London", "contact_country": "UK"}  # fmt: skip
    created = await api.call("POST", "/contacts", json=body)
    assert created.status_code == 201 and created.json()["status"] == "success"
    contact = created.json()["contact"]
    cid = contact["contact_id"]
    got = (await api.call("GET", f"/contacts/{cid}")).json()["contact"]
    assert got == contact
    updated = await api.call("PUT", f"/contacts/{cid}", json=body | {"contact_city": "Leeds"})
    assert updated.json()["contact"]["contact_city"] == "Leeds"
    form = await api.call(
        "POST",
        "/contacts",
        data={"JSONString": '{"display_name": "Form Ltd", "contact_type": "Supplier"}'},
    )
    assert form.status_code == 201 and form.json()["contact"]["display_name"] == "Form Ltd"
    for bad in ({"contact_type": "Customer"}, {"display_name": "x", "contact_type": "Friend"},
                {"display_name": "x" * 201, "contact_type": "Customer"}):  # fmt: skip
        r = await api.call("POST", "/contacts", json=bad)
        assert r.status_code == 400, r.text
    assert (await api.call("POST", "/contacts", content=b"{nope")).status_code == 400
    assert (await api.call("DELETE", f"/contacts/{cid}")).status_code == 200
    assert (await api.call("GET", f"/contacts/{cid}")).status_code == 404
    assert (await api.call("GET", "/contacts/abc")).status_code == 404
    used = (await api.call("GET", "/invoices")).json()["invoices"][0]["contact_id"]
    assert (await api.call("DELETE", f"/contacts/{used}")).status_code == 400


async def test_items_accounts_vat_rates(api: Api) -> None:
    await api.login()
    accounts = (await api.call("GET", "/accounts", params={"page_size": 200})).json()["accounts"]
    sales = next(a["account_id"] for a in accounts if a["account_code"] == "4000")
    item = await api.call("POST", "/items", json={
        "item_name": "Cell phone", "item_type": "Goods", "sale_price": "300.00",
        "sale_account_id": sales, "sale_vat": "20% (VAT on Income)"})  # fmt: skip
    assert item.status_code == 201 and item.json()["item"]["sale_price"] == "300.00"
    assert (await api.call("POST", "/items", json={"item_name": "x", "item_type": "Gadget"})
            ).status_code == 400  # fmt: skip
    assert (
        await api.call(
            "POST", "/items", json={"item_name": "x", "item_type": "Goods", "sale_vat": "99% nope"}
        )
    ).status_code == 400
    rate = await api.call(
        "POST", "/vatrates", json={"vat_type": "Sales", "vat_rate": "12", "vat_name": "12% test"}
    )
    assert rate.status_code == 201 and rate.json()["vat_rate"]["vat_rate"] == "12"
    assert (
        await api.call(
            "POST", "/vatrates", json={"vat_type": "Sales", "vat_rate": "150", "vat_name": "x"}
        )
    ).status_code == 400
    account = await api.call("POST", "/accounts", json={
        "account_type": "Revenue", "account_name": "New Account", "account_code": "4020",
        "account_vat": "20% (VAT on Income)"})  # fmt: skip
    assert account.json()["account"]["account_name_formatted"] == "4020 - New Account"
    dup = await api.call("POST", "/accounts", json={
        "account_type": "Revenue", "account_name": "Again", "account_code": "4020",
        "account_vat": "No VAT"})  # fmt: skip
    assert dup.status_code == 400


async def test_invoices_and_bills_with_states(api: Api) -> None:
    await api.login()
    contacts = (await api.call("GET", "/contacts", params={"page_size": 50})).json()["contacts"]
    customer = next(c for c in contacts if c["contact_type"] == "Customer")["contact_id"]
    accounts = (await api.call("GET", "/accounts", params={"page_size": 200})).json()["accounts"]
    sales = next(a["account_id"] for a in accounts if a["account_code"] == "4000")
    body = {
        "invoice_number": "INV_9000",
        "date": "2026-11-02",
        "due_date": "2026-12-02",
        "contact_id": customer,
        "currency": "GBP",
        "exchange_rate": "1",
        "tax_mode": "Exclusive",
        "reference": "acctsync:x",
        "items": [
            {"account_id": sales, "quantity": "2", "price": 100, "vat": "20% (VAT on Income)"},
            {"account_id": sales, "quantity": "1", "price": "12.50", "vat": "No VAT"},
        ],
    }
    created = await api.call("POST", "/invoices", json=body)
    assert created.status_code == 201, created.text
    inv = created.json()["invoice"]
    assert (inv["state"], inv["subtotal"], inv["tax"], inv["total"]) == (
        "Draft",
        "212.50",
        "40.00",
        "252.50",
    )
    iid = inv["invoice_id"]
    sent = await api.call("GET", f"/invoices/{iid}/state/sent")
    assert sent.json()["invoice"]["state"] == "Sent"
    assert (await api.call("GET", f"/invoices/{iid}/state/sent")).status_code == 400
    assert (await api.call("GET", f"/invoices/{iid}/state/draft")).status_code == 400
    assert (await api.call("GET", f"/invoices/{iid}/state/void")).json()["invoice"]["state"] == (
        "Void"
    )
    assert (await api.call("PUT", f"/invoices/{iid}", json=body)).status_code == 400
    assert (await api.call("GET", f"/invoices/{iid}/state/draft")).json()["invoice"]["state"] == (
        "Draft"
    )
    assert (await api.call("GET", f"/invoices/{iid}/state/fly")).status_code == 404
    for bad in ({"contact_id": 1}, {"items": []}, {"tax_mode": "Some"}, {"date": "02/11/2026"},
                {"due_date": "2026-01-01"}, {"currency": "pounds"}):  # fmt: skip
        r = await api.call("POST", "/invoices", json=body | bad)
        assert r.status_code == 400, (bad, r.text)
    bill = await api.call(
        "POST",
        "/bills",
        json={k: v for k, v in body.items() if k != "invoice_number"} | {"state": "Approve"},
    )
    assert bill.status_code == 201 and bill.json()["bill"]["state"] == "Sent"
    assert bill.json()["bill"]["bill_number"].startswith("EXP_")
    assert (await api.call("GET", f"/bills/{bill.json()['bill']['bill_id']}/state/writeoff")
            ).status_code == 404  # fmt: skip


async def test_unknown_urls_and_methods(api: Api) -> None:
    await api.login()
    nope = await api.call("GET", "/nothing")
    assert nope.status_code == 404 and nope.json() == {
        "status": "error",
        "message": "URL not found: /nothing",
        "code": 404,
    }
    assert (await api.call("PATCH", "/contacts")).status_code == 405
    assert (await api.call("PUT", "/organisations", org=False)).status_code == 405


async def test_faults_and_generator(api: Api) -> None:
    await api.login()
    r = await api.http.put("/_admin/faults", json={"rate_5xx": 1.0})
    assert r.status_code == 200
    assert (await api.call("GET", "/contacts")).status_code in (500, 503)
    await api.http.put("/_admin/faults", json={"rate_429": 1.0, "retry_after": 2})
    limited = await api.call("GET", "/contacts")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    await api.http.put("/_admin/faults", json={"timeout_rate": 1.0})
    timed_out = await api.call(
        "POST", "/contacts", json={"display_name": "Slow Ltd", "contact_type": "Customer"}
    )
    assert timed_out.status_code == 504
    await api.http.put("/_admin/faults", json={})
    landed = (await api.call("GET", "/contacts", params={"search_text": "Slow Ltd"})).json()
    assert landed["page_setting"]["total"] == 1  # the write landed all the same
    assert (await api.http.put("/_admin/faults", json={"rate_5xx": 2})).status_code == 400
    made = await api.http.post("/_admin/organisations", json={
        "name": "Big Ltd", "contacts": 300, "items": 20, "invoices": 250, "bills": 50,
        "users": [USER]})  # fmt: skip
    assert made.status_code == 201
    api.org = str(made.json()["organisation"]["organisation_id"])
    page = (await api.call("GET", "/invoices", params={"page_size": 200, "page_number": 2})
            ).json()  # fmt: skip
    assert page["page_setting"]["total"] == 250 and len(page["invoices"]) == 50


async def test_state_kept_in_a_file_across_restarts(tmp_path) -> None:
    path = str(tmp_path / "smarty-state.json")
    first = create_smarty_app(SmartyConfig(state_path=path))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=first), base_url="http://smarty.test"
    ) as http:
        api = Api(http, first)
        tokens = await api.login()
        made = await api.call(
            "POST", "/contacts", json={"display_name": "Kept Ltd", "contact_type": "Customer"}
        )
        assert made.status_code == 201
    again = create_smarty_app(SmartyConfig(state_path=path))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=again), base_url="http://smarty.test"
    ) as http:
        api = Api(http, again)
        api.token, api.org = tokens["access_token"], str(made.json()["contact"]["contact_id"])
        orgs = (await api.call("GET", "/organisations", org=False)).json()["organisations"]
        api.org = str(orgs[0]["organisation_id"])
        found = (await api.call("GET", "/contacts", params={"search_text": "Kept"})).json()
        assert [c["display_name"] for c in found["contacts"]] == ["Kept Ltd"]
        created = await api.call(
            "POST", "/contacts", json={"display_name": "Next Ltd", "contact_type": "Supplier"}
        )
        assert created.json()["contact"]["contact_id"] > made.json()["contact"]["contact_id"]
