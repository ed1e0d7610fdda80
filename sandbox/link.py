"""The link pages a user opens in a browser: plain HTML with forms posting back here.

- ``GET /link/companies/{companyId}``: the company's ``redirect`` page; pick a platform
  (``POST /link/companies/{companyId}/platforms/{platformKey}`` creates or reuses a
  PendingAuth connection and redirects to its link page);
- ``GET /link/companies/{companyId}/connections/{connectionId}/start``: the connection's
  ``linkUrl``, with an Authorize and a Deny button;
- ``POST .../authorize``: Linked, data filled, webhooks sent; then a 303 to
  ``config.link_redirect_url?companyId=..&connectionId=..&statusCode=200`` when configured,
  else a confirmation page; ``POST .../deny``: stays PendingAuth with an error.

No API key: like Codat's hosted link, the unguessable ids are the credential.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.response import Redirect

from sandbox.errors import not_found
from sandbox.platforms import BY_KEY, PLATFORMS
from sandbox.state import Company, Connection, SandboxState
from sandbox.web import sandbox_state
from sandbox.webhooks import link_url

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"
    "button{font-size:1rem;padding:.5rem 1.2rem;margin:.3rem}"
    "form{display:inline}.platforms form{display:block}"
)


def _page(title: str, body: str, status_code: int = 200) -> Response:
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(content=html, media_type="text/html", status_code=status_code)


def _company(state: SandboxState, company_id: str) -> Company:
    state.run_due()
    company = state.companies.get(company_id)
    if company is None:
        raise not_found(f"Company {company_id}")
    return company


def _connection(state: SandboxState, company_id: str, connection_id: str) -> tuple:
    company = _company(state, company_id)
    return company, state.connection(company, connection_id)


def _base(state: SandboxState, company_id: str) -> str:
    return f"{state.config.base_url}/link/companies/{company_id}"


@get("/link/companies/{company_id:str}")
async def pick_platform(request: Request, company_id: str) -> Response:
    """The platform picker (the company's ``redirect``)."""
    state = sandbox_state(request)
    company = _company(state, company_id)
    base = _base(state, company.id)
    forms = "".join(
        f"<form method='post' action='{base}/platforms/{p.key}'>"
        f"<button type='submit' name='platformKey' value='{p.key}'>{escape(p.name)}</button>"
        "</form>"
        for p in PLATFORMS
    )
    return _page(
        f"Connect {company.name}",
        f"<p>Choose your accounting software.</p><div class='platforms'>{forms}</div>",
    )


@post("/link/companies/{company_id:str}/platforms/{platform_key:str}", status_code=303)
async def choose_platform(request: Request, company_id: str, platform_key: str) -> Response:
    """Create (or reuse) the PendingAuth connection for the platform; 303 to its link page."""
    state = sandbox_state(request)
    company = _company(state, company_id)
    if platform_key not in BY_KEY:
        raise not_found(f"Platform {platform_key}")
    existing = [
        c
        for c in company.connections.values()
        if c.platform.key == platform_key and c.status == "PendingAuth"
    ]
    connection = existing[0] if existing else state.create_connection(company, platform_key)
    return Redirect(path=link_url(state.config, connection), status_code=303)


@get("/link/companies/{company_id:str}/connections/{connection_id:str}/start")
async def start(request: Request, company_id: str, connection_id: str) -> Response:
    """The connection's link page with Authorize and Deny forms."""
    state = sandbox_state(request)
    company, connection = _connection(state, company_id, connection_id)
    action = f"{_base(state, company.id)}/connections/{connection.id}"
    body = (
        f"<p><b>{escape(company.name)}</b> is asked to share its accounting data from "
        f"<b>{escape(connection.platform.name)}</b>.</p>"
        f"<p>Connection status: <span id='status'>{escape(connection.status)}</span></p>"
        f"<form method='post' action='{action}/authorize'>"
        "<button type='submit' id='authorize'>Authorize</button></form>"
        f"<form method='post' action='{action}/deny'>"
        "<button type='submit' id='deny'>Deny</button></form>"
    )
    return _page(f"Connect to {connection.platform.name}", body)


def _finish(state: SandboxState, company: Company, connection: Connection, code: int) -> Response:
    if state.config.link_redirect_url:
        query = urlencode(
            {"companyId": company.id, "connectionId": connection.id, "statusCode": code}
        )
        separator = "&" if "?" in state.config.link_redirect_url else "?"
        return Redirect(path=f"{state.config.link_redirect_url}{separator}{query}", status_code=303)
    if code == 200:
        return _page(
            "Connected",
            f"<p>{escape(company.name)} is connected to {escape(connection.platform.name)}. "
            f"Status: <span id='status'>{escape(connection.status)}</span>. "
            "You can close this window.</p>",
        )
    return _page(
        "Access denied",
        f"<p>Access to {escape(connection.platform.name)} was denied. "
        f"Status: <span id='status'>{escape(connection.status)}</span>.</p>",
    )


@post("/link/companies/{company_id:str}/connections/{connection_id:str}/authorize")
async def authorize(request: Request, company_id: str, connection_id: str) -> Response:
    """Authorize: Linked, company filled from the platform's data, webhooks sent."""
    state = sandbox_state(request)
    company, connection = _connection(state, company_id, connection_id)
    state.authorize(company, connection)
    return _finish(state, company, connection, 200)


@post("/link/companies/{company_id:str}/connections/{connection_id:str}/deny")
async def deny(request: Request, company_id: str, connection_id: str) -> Response:
    """Deny: the connection stays PendingAuth with a "User cancelled" error."""
    state = sandbox_state(request)
    company, connection = _connection(state, company_id, connection_id)
    state.deny(company, connection)
    return _finish(state, company, connection, 403)


def link_router(middleware: list) -> Router:
    """The browser-facing link pages."""
    return Router(
        path="/",
        middleware=middleware,
        route_handlers=[pick_platform, choose_platform, start, authorize, deny],
    )
