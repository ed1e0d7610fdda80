"""Connecting an entity to Smarty Accounting: the page the service serves where the user
gives their Smarty credentials, and the same URL answering a partner's JSON.

``POST /v1/accounting_connections {"platform": "smarty_accounting"}`` makes a
``pending_auth`` connection whose ``connection_url`` is ``{public}/v1/smarty/connect/{token}``
(the token is the connection id signed with a key derived from the secret key: the URL is the
capability, as a provider's link URL). There:

- ``GET``: an HTML form (Smarty user email and password; the organisation when the user has
  several);
- ``POST``: the form, or JSON ``{"username", "password", "organisation_id"?}`` or
  ``{"refresh_token", "organisation_id"?}`` (a partner that already holds a refresh token).
  The service asks Smarty for tokens (OAuth "Step 2"/"Step 3"), keeps only the tokens
  (encrypted in ``provider_credentials``; the password is never stored), reads the user's
  organisations and connects to the one named, or the only one. The connection becomes
  ``connected`` and its first pull is queued. A deauthorized connection is re-authorised the
  same way. Refused credentials: 400 and nothing changes; Smarty unreachable: 503.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import time
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.connections import queries as connection_queries
from app.connections.service import apply_provider_status, carry_over
from app.connections.smarty_link import LINK_PATH, PLATFORM, connection_of_token
from app.db.models import AccountingConnection
from app.providers import ProviderAuthError, ProviderError, ProviderUnavailable
from app.providers.smarty import (
    MemoryTokenStore,
    SmartyProvider,
    oauth_call,
    store_tokens,
    tokens_from,
)


def _page(title: str, body: str, status: int = 200) -> Response[str]:
    return Response(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:32em;margin:3em auto}label{display:block;"
        "margin:.6em 0}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
        media_type="text/html",
    )


def _form(action: str, error: str = "", organisations: list[dict[str, Any]] | None = None) -> str:
    choice = ""
    if organisations:
        options = "".join(
            f"<option value='{html.escape(str(o.get('organisation_id')))}'>"
            f"{html.escape(str(o.get('name')))}</option>"
            for o in organisations
        )
        choice = f"<label>Organisation <select name='organisation_id'>{options}</select></label>"
    warn = f"<p role='alert'>{html.escape(error)}</p>" if error else ""
    return (
        f"{warn}<p>Sign in with your Smarty Accounting user to connect your books. Only the "
        "access tokens Smarty issues are kept; your password is not stored.</p>"
        f"<form method='post' action='{html.escape(action)}'>"
        "<label>Email <input name='username' type='email' required></label>"
        "<label>Password <input name='password' type='password' required></label>"
        f"{choice}<button type='submit'>Connect</button></form>"
    )


@get(f"{LINK_PATH}/{{token:str}}", exclude_from_auth=True, include_in_schema=False)
async def connect_page(token: str, state: State, db_session: AsyncSession) -> Response[str]:
    """The page asking for the user's Smarty credentials."""
    settings: Settings = state.settings
    connection_id = connection_of_token(settings, token)
    c = await db_session.get(AccountingConnection, connection_id) if connection_id else None
    if c is None or c.platform != PLATFORM:
        return _page("Link not found", "<p>This connection link is not valid.</p>", 404)
    if c.status in ("connected", "disconnected"):
        return _page("Smarty Accounting", f"<p>This connection is {html.escape(c.status)}.</p>")
    return _page("Connect Smarty Accounting", _form(f"{LINK_PATH}/{token}"))


async def _arguments(request: Request[Any, Any, Any]) -> dict[str, str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            value = json.loads(await request.body() or b"{}")
        except ValueError:
            return {}
        if not isinstance(value, dict):
            return {}
        return {k: str(v) for k, v in value.items() if v not in (None, "")}
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str) and v}


@post(
    f"{LINK_PATH}/{{token:str}}", exclude_from_auth=True, include_in_schema=False, status_code=200
)
async def connect_submit(
    token: str, request: Request[Any, Any, Any], state: State, db_session: AsyncSession
) -> Response[Any]:
    """Exchange the credentials (or a refresh token) for tokens and connect."""
    settings: Settings = state.settings
    wants_json = request.headers.get("content-type", "").startswith("application/json")
    action = f"{LINK_PATH}/{token}"

    def answer(code: int, message: str, **extra: Any) -> Response[Any]:
        status = code
        if wants_json:
            body: dict[str, Any] = {"error": {"message": message}} if status >= 400 else {}
            return Response(body | extra, status_code=status, media_type="application/json")
        organisations = extra.get("organisations")
        if status >= 400 or organisations:
            return _page("Connect Smarty Accounting", _form(action, message, organisations), status)
        return _page("Smarty Accounting connected", f"<p>{html.escape(message)}</p>", status)

    connection_id = connection_of_token(settings, token)
    c = await db_session.get(AccountingConnection, connection_id) if connection_id else None
    if c is None or c.platform != PLATFORM:
        return answer(404, "This connection link is not valid")
    if c.status in ("connected", "disconnected"):
        return answer(409, f"This connection is {c.status}")
    args = await _arguments(request)
    client_auth = {
        "client_id": settings.smarty_client_id,
        "client_secret": settings.smarty_client_secret,
    }
    providers = state.providers
    try:
        if args.get("refresh_token"):
            reply = await oauth_call(
                providers.http,
                f"{settings.smarty_oauth_base}/authenticate/refreshtoken",
                client_auth | {"refresh_token": args["refresh_token"]},
            )
        elif args.get("username") and args.get("password"):
            reply = await oauth_call(
                providers.http,
                f"{settings.smarty_oauth_base}/authenticate/accesstoken",
                client_auth | {"username": args["username"], "password": args["password"]},
            )
        else:
            return answer(400, "Give the Smarty user's email and password (or a refresh_token)")
        tokens = tokens_from(reply, time.time())
        smarty = SmartyProvider(providers.smarty_client(MemoryTokenStore(tokens)))
        organisations = await smarty.list_organisations()
    except ProviderAuthError:
        return answer(400, "Smarty Accounting refused these credentials")
    except ProviderUnavailable:
        return answer(503, "Smarty Accounting cannot be reached; try again shortly")
    except ProviderError as exc:
        return answer(502, f"Smarty Accounting answered unexpectedly: {exc}")
    wanted = args.get("organisation_id")
    chosen = [o for o in organisations if wanted and str(o.get("organisation_id")) == wanted]
    if not chosen and not wanted and len(organisations) == 1:
        chosen = organisations
    if not chosen:
        listed = [
            {"organisation_id": str(o.get("organisation_id")), "name": o.get("name")}
            for o in organisations
        ]
        if wanted:
            return answer(400, f"The user is not in organisation {wanted}", organisations=listed)
        if not listed:
            return answer(400, "The Smarty user is in no organisation")
        return answer(
            409 if wants_json else 200, "Choose the organisation to connect", organisations=listed
        )
    organisation = str(chosen[0]["organisation_id"])
    # Locked only now (not across Smarty's answers): the status and errors change below.
    c = await connection_queries.locked(db_session, c.id)
    if c is None or c.status in ("connected", "disconnected"):
        return answer(409, f"This connection is {c.status if c else 'gone'}")
    await store_tokens(db_session, state.secret_box, c.id, tokens)
    c.provider_company_id = organisation
    c.provider_connection_id = organisation
    if apply_provider_status(c, "Linked", occurred_at=dt.datetime.now(dt.UTC)):
        await carry_over(db_session, c)
    await db_session.commit()
    providers.forget_smarty(c.id)
    jobs = state.get("jobs")
    if jobs is not None:
        await jobs.ensure_pull_schedule(c.id)
        await jobs.enqueue("pull_connection", connection_id=str(c.id))
    return answer(
        200,
        f"Connected to {chosen[0].get('name')}",
        connection_id=str(c.id),
        organisation_id=organisation,
        status=c.status,
    )
