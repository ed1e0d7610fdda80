"""The support console in a real browser (Debian's chromium, driven by Selenium through the
system chromedriver; no browser download): sign in, find a failed bill, read its error, fix
the line through the API, retry from the page and see it done; resolve an ambiguous match
by clicking; another partner's record in the URL is a 404; a counterpart named
``<script>alert(1)</script>`` is shown as text; a form posted without its CSRF token is
refused. Screenshots of each main page go to ``var/test-artifacts/console/``.

The service (with the sandbox behind it, as in ``tests/e2e``) is served by uvicorn on a free
local port in the test's event loop; the browser runs in a worker thread. One browser session
for the whole tour. Without chromium this test fails (CI installs it), it never skips.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from app.console import routes as console_routes
from tests.conftest import make_partner
from tests.e2e.conftest import World

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "test-artifacts" / "console"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1100",
)
XSS = "<script>alert(1)</script>"


def _browser(profile: str) -> WebDriver:
    for path in (CHROMIUM, CHROMEDRIVER):
        assert Path(path).exists(), (
            f"{path} is missing: apt-get install -y chromium chromium-driver (.ci/run does)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _eventually(check: Callable[[], Any], what: str, limit: float = 30.0) -> Any:
    deadline = time.monotonic() + limit
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


async def _failed_bill(world: World, h: dict[str, str]) -> dict[str, str]:
    """A vendor named like a script, and two bills of it without a ledger account on their
    line, pushed at submission: their synced records fail validation and wait for a person."""
    r = await world.client.patch(
        "/v1/accounting_sync_rules",
        headers=h,
        json={"push_statuses": {"payable": ["approve_in_progress", "waiting_to_be_paid"]}},
    )
    assert r.status_code == 200, r.text
    accounts = (await world.client.get("/v1/ledger_accounts", headers=h)).json()["data"]
    rate = (await world.client.get("/v1/accounting_tax_rates", headers=h)).json()["data"][0]
    vendor = await world.client.post(
        "/v1/counterparts",
        headers=h,
        json={
            "type": "organization",
            "organization": {
                "legal_name": XSS,
                "is_vendor": True,
                "address": {"country": "GB", "city": "York", "line1": "3 Wall St"},
            },
        },
    )
    assert vendor.status_code == 201, vendor.text
    bills = []
    for number in ("INV-CONSOLE-1", "INV-CONSOLE-2"):
        payable = await world.client.post(
            "/v1/payables",
            headers=h,
            json={
                "currency": "GBP",
                "counterpart_id": vendor.json()["id"],
                "issued_at": "2026-11-01",
                "document_id": number,
            },
        )
        assert payable.status_code == 201, payable.text
        pid = payable.json()["id"]
        line = await world.client.post(
            f"/v1/payables/{pid}/line_items",
            headers=h,
            json={
                "name": "Paper",
                "quantity": 2,
                "unit_price": 1000,
                "tax": rate["effective_tax_rate"] if "effective_tax_rate" in rate else 2000,
                "accounting_tax_rate_id": rate["id"],
            },
        )
        assert line.status_code == 201, line.text
        r = await world.client.post(f"/v1/payables/{pid}/submit_for_approval", headers=h)
        assert r.status_code == 200, r.text

        async def failed(pid: str = pid) -> dict[str, Any] | None:
            r = await world.client.get(
                f"/v1/accounting_synced_records?object_type=bill&object_id={pid}", headers=h
            )
            data = r.json()["data"]
            return data[0] if data and data[0]["sync_status"] == "error" else None

        record = await world.wait_for(failed, what="the bill's failed validation")
        bills.append((pid, line.json()["id"], record["id"]))
    account = next((a for a in accounts if not a.get("is_bank_account")), accounts[0])
    (payable, line, record), (payable2, line2, record2) = bills
    return {
        "payable": payable,
        "line": line,
        "record": record,
        "payable2": payable2,
        "line2": line2,
        "record2": record2,
        "account": account["id"],
    }


async def _ambiguous_vendor(world: World) -> tuple[str, str, list[str]]:
    """Sage 50 (UK)'s McNally Computer Supplies against two McNallys of ours that nothing
    tells apart: the pulled supplier's record waits for a person. Returns (entity, record,
    the two counterpart ids)."""
    entity = await world.partner.create_entity("Books Ltd", currency="GBP")
    h = world.partner.entity_headers(entity)
    ours = []
    for name in ("McNally Computer Supplies", "MCNALLY COMPUTER SUPPLIES LTD"):
        r = await world.client.post(
            "/v1/counterparts",
            headers=h,
            json={"type": "organization", "organization": {"legal_name": name, "is_vendor": True}},
        )
        assert r.status_code == 201, r.text
        ours.append(r.json()["id"])
    await world.connect(entity, "sage_50_uk")
    r = await world.client.get("/v1/accounting_synced_records?object_type=vendor", headers=h)
    record = next(v for v in r.json()["data"] if v["platform_object_id"] == "MCN001")
    assert record["sync_status"] == "error", record
    return entity, record["id"], ours


async def _other_partners_record(world: World, sessionmaker: Any) -> tuple[str, str]:
    """Another partner's entity and one of its synced records: a bill pushed at submission
    while the entity's connection is disconnected (its record waits in ``error``)."""
    other = await make_partner(world.client, sessionmaker, "Other partner")
    r = await world.client.patch(
        "/v1/settings",
        headers=other.headers,
        json={"accounting": {"provider": "codat", "token": "sandbox"}},
    )
    assert r.status_code == 200, r.text
    entity = await other.create_entity("Their Ltd")
    h = other.entity_headers(entity)
    made = await world.client.post(
        "/v1/accounting_connections", headers=h, json={"platform": "xero"}
    )
    assert made.status_code == 201, made.text
    r = await world.client.post(
        f"/v1/accounting_connections/{made.json()['id']}/disconnect", headers=h
    )
    assert r.status_code == 200, r.text
    r = await world.client.patch(
        "/v1/accounting_sync_rules",
        headers=h,
        json={"push_statuses": {"payable": ["approve_in_progress", "waiting_to_be_paid"]}},
    )
    assert r.status_code == 200, r.text
    vendor = await world.client.post(
        "/v1/counterparts",
        headers=h,
        json={"type": "organization", "organization": {"legal_name": "Theirs", "is_vendor": True}},
    )
    assert vendor.status_code == 201, vendor.text
    payable = await world.client.post(
        "/v1/payables",
        headers=h,
        json={"currency": "GBP", "counterpart_id": vendor.json()["id"], "issued_at": "2026-11-01"},
    )
    assert payable.status_code == 201, payable.text
    pid = payable.json()["id"]
    r = await world.client.post(
        f"/v1/payables/{pid}/line_items",
        headers=h,
        json={"name": "Paper", "quantity": 1, "unit_price": 1000, "tax": 0},
    )
    assert r.status_code == 201, r.text
    r = await world.client.post(f"/v1/payables/{pid}/submit_for_approval", headers=h)
    assert r.status_code == 200, r.text

    async def record() -> str | None:
        r = await world.client.get(
            f"/v1/accounting_synced_records?object_type=bill&object_id={pid}", headers=h
        )
        return (r.json()["data"] or [{}])[0].get("id")

    return entity, await world.wait_for(record, what="the other partner's synced record")


def _tour(base: str, api: dict[str, Any]) -> None:
    """Everything a support person does, in one browser session (runs in a worker thread)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="acctsync-chromium-")
    driver = _browser(profile)
    driver.implicitly_wait(2)

    def shot(name: str) -> None:
        driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))

    def text() -> str:
        return driver.find_element(By.TAG_NAME, "body").text

    def go(element: WebElement) -> None:
        """Click a link or a form's button and wait for the next page."""
        page = driver.find_element(By.TAG_NAME, "html")
        element.click()

        def left(_: Any) -> bool:
            try:
                page.is_enabled()
            except WebDriverException:  # stale, or (mid-navigation) not in the document
                return True
            return False

        WebDriverWait(driver, 30).until(left)

    def no_alert() -> None:
        try:
            _ = driver.switch_to.alert
        except NoAlertPresentException:
            return
        raise AssertionError("a script ran: an alert is open")

    try:
        # Sign in with the partner's client credentials.
        driver.get(f"{base}/console/")
        assert driver.current_url.endswith("/console/login"), driver.current_url
        driver.find_element(By.NAME, "client_id").send_keys(api["client_id"])
        driver.find_element(By.NAME, "client_secret").send_keys(api["client_secret"])
        shot("01-sign-in")
        go(driver.find_element(By.CSS_SELECTOR, "#sign-in button"))
        assert "Entities" in driver.find_element(By.TAG_NAME, "h1").text, text()
        assert "Retry Ltd" in text() and "Books Ltd" in text() and "Their Ltd" not in text()
        shot("02-entities")

        # The entity: its connection's health, then its failed bills.
        go(driver.find_element(By.LINK_TEXT, "Retry Ltd"))
        assert "connected" in text() and "taxRates" in text(), text()
        # Sync now: queued, counted against the daily quota of manual syncs.
        go(driver.find_element(By.CSS_SELECTOR, "button.sync-now"))
        assert "Sync queued (19 of 20 manual syncs left today)" in text(), text()
        shot("03-entity")
        go(driver.find_element(By.CSS_SELECTOR, "table.counts a.status.error"))
        assert "Synced records: bill" in text()
        shot("04-failed-bills")
        rows = driver.find_elements(By.CSS_SELECTOR, "table.records tbody tr")
        assert len(rows) == 2 and all("error" in r.text for r in rows), [r.text for r in rows]
        assert all(XSS in r.text for r in rows), rows[0].text  # the vendor's name, as text
        no_alert()
        go(next(r for r in rows if "INV-CONSOLE-1" in r.text).find_element(By.TAG_NAME, "a"))

        # The record: the error as a person reads it.
        error = driver.find_element(By.ID, "record-error").text
        assert "ledger account" in error.lower(), error
        assert driver.find_element(By.ID, "sync-status").text == "error"
        assert XSS in driver.find_element(By.CSS_SELECTOR, "h1 .label").text
        no_alert()
        shot("05-failed-bill")

        # The fix, through the API, then the retry from the page.
        h = {**api["headers"], "x-monite-entity-id": api["entity"]}
        fixed = httpx.patch(
            f"{base}/v1/payables/{api['payable']}/line_items/{api['line']}",
            headers=h,
            json={"ledger_account_id": api["account"]},
            timeout=30,
        )
        assert fixed.status_code == 200, fixed.text
        go(driver.find_element(By.ID, "retry"))

        def done() -> bool:
            if driver.find_element(By.ID, "sync-status").text == "done":
                return True
            driver.refresh()
            return False

        _eventually(done, "the bill pushed")
        assert "create: done" in text(), text()
        no_alert()
        shot("06-bill-done")

        # The other bill, fixed the same way, then every failed bill retried at once.
        fixed = httpx.patch(
            f"{base}/v1/payables/{api['payable2']}/line_items/{api['line2']}",
            headers=h,
            json={"ledger_account_id": api["account"]},
            timeout=30,
        )
        assert fixed.status_code == 200, fixed.text
        driver.get(f"{base}/console/entities/{api['entity']}/records?object_type=bill")
        go(driver.find_element(By.ID, "bulk-retry"))
        assert "1 failed bill record(s) queued for a retry" in text(), text()
        driver.get(f"{base}/console/entities/{api['entity']}/records/{api['record2']}")
        _eventually(done, "the second bill pushed by the bulk retry")

        # The ambiguous supplier: two candidates, field by field; link the second one.
        driver.get(f"{base}/console/entities/{api['books']}/records/{api['ambiguous']}")
        candidates = driver.find_elements(By.CSS_SELECTOR, "table.candidates tbody tr")
        assert len(candidates) == 2, text()
        assert "name: exact" in candidates[0].text, candidates[0].text
        assert "McNally" in driver.find_element(By.CSS_SELECTOR, "h1 .label").text  # pulled name
        shot("07-ambiguous")
        chosen = next(c for c in candidates if api["chosen"] in c.text)
        go(chosen.find_element(By.CSS_SELECTOR, "button.link-this"))
        assert driver.find_element(By.ID, "sync-status").text == "done", text()
        assert "Decided: linked" in text()
        assert api["chosen"] in driver.find_element(By.CSS_SELECTOR, "dl.fields").text

        # The products list, newest first, in pages (two rows a page in this test).
        driver.get(f"{base}/console/entities/{api['entity']}/records?object_type=product")
        first = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table.records tbody tr")]
        go(driver.find_element(By.CSS_SELECTOR, "a[rel=next]"))
        second = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table.records tbody tr")]
        assert len(first) == 2 and second and not set(first) & set(second), (first, second)
        assert first[-1][:23] >= second[0][:23]  # created at, newest first
        assert driver.find_elements(By.CSS_SELECTOR, "a[rel=prev]")

        # Another partner's record, under our entity or theirs: 404.
        for path in (
            f"/console/entities/{api['entity']}/records/{api['their_record']}",
            f"/console/entities/{api['their_entity']}/records/{api['their_record']}",
        ):
            driver.get(base + path)
            assert driver.find_element(By.TAG_NAME, "h1").text == "Not found", text()
        shot("08-not-found")

        # A form posted without its CSRF token: refused, nothing done.
        driver.get(f"{base}/console/entities/{api['entity']}")
        driver.execute_script(
            "const f = document.createElement('form'); f.method = 'post';"
            "f.action = arguments[0]; document.body.appendChild(f); f.submit();",
            f"/console/entities/{api['entity']}/retry",
        )
        _eventually(lambda: "Refused" in text(), "the refusal")
        driver.get(f"{base}/console/")
        assert "Entities" in text()  # still signed in: nothing else happened

        # Sign out: back to the sign-in form; the console is closed again.
        go(driver.find_element(By.ID, "sign-out"))
        assert driver.current_url.endswith("/console/login")
        driver.get(f"{base}/console/entities/{api['entity']}")
        assert driver.current_url.endswith("/console/login")
    except BaseException:
        shot("failure")
        (ARTIFACTS / "failure.html").write_text(driver.page_source)
        raise
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


async def test_support_console_in_a_browser(world: World, sessionmaker, monkeypatch) -> None:
    monkeypatch.setattr(console_routes, "PAGE_SIZE", 2)
    entity = await world.partner.create_entity("Retry Ltd", currency="GBP")
    await world.connect(entity, "xero")
    h = world.partner.entity_headers(entity)
    bill = await _failed_bill(world, h)
    books, ambiguous, ours = await _ambiguous_vendor(world)
    their_entity, their_record = await _other_partners_record(world, sessionmaker)

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            world.service, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "uvicorn did not start"
            await asyncio.sleep(0.02)
        api = {
            "client_id": world.partner.client_id,
            "client_secret": world.partner.client_secret,
            "headers": world.partner.headers,
            "entity": entity,
            **bill,
            "books": books,
            "ambiguous": ambiguous,
            "chosen": ours[1],
            "their_entity": their_entity,
            "their_record": their_record,
        }
        await asyncio.to_thread(_tour, f"http://127.0.0.1:{port}", api)
    finally:
        server.should_exit = True
        await serving
