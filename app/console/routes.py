"""``/console``: the support console, server-rendered (Jinja2, autoescaped), no script.

Every page and button goes through the services the API uses (``app.synced_records.service``,
``app.connections.service``, the push engine's ``run_push``), scoped to the signed-in
partner's entities: another partner's entity or record is a 404, as in the API. Every form
carries the session's CSRF token (checked before any handler runs); a POST without it is a
403 that changes nothing. Actions answer with a redirect (303) to the page, which shows
what happened.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.connections import service as connection_service
from app.console import session as console_session
from app.console import views
from app.db.models import Entity, SyncedRecord
from app.entities import service as entity_service
from app.errors import ApiError, Unprocessable
from app.pagination import Cursor, paginate
from app.sync.push import run_push
from app.synced_records import queries as record_queries
from app.synced_records import service as record_service
from app.synced_records.schemas import ResolveBody

log = logging.getLogger("acctsync.console")

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
PAGE_SIZE = 25
_FILTERS = (
    "object_type",
    "sync_status",
    "object_id",
    "created_from",
    "created_to",
    "updated_from",
    "updated_to",
)


class SignInRequired(Exception):
    """No valid sign-in: the page sends the browser to the sign-in form."""


def _flash(request: Request[Any, Any, Any], message: str, kind: str = "info") -> None:
    request.session.setdefault("flash", []).append({"kind": kind, "message": message[:2000]})


def _page(
    request: Request[Any, Any, Any],
    name: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    session = request.session
    flashes = session.pop("flash", []) if isinstance(session, dict) else []
    return Template(
        template_name=name,
        context={
            "csrf_field": console_session.CSRF_FIELD,
            "csrf_token": console_session.csrf_token(session),
            "flashes": flashes,
            "when": views.when,
            **context,
        },
        status_code=status_code,
    )


async def _partner(request: Request[Any, Any, Any], db: AsyncSession) -> uuid.UUID:
    """The signed-in partner; raises :class:`SignInRequired` when there is none."""
    found = await console_session.principal(db, request.app.state.jwt_auth, request.session)
    if found is None:
        raise SignInRequired
    request.scope.setdefault("state", {})["partner_id"] = str(found.partner_id)
    return found.partner_id


async def _entity(
    request: Request[Any, Any, Any], db: AsyncSession, entity_id: uuid.UUID
) -> Entity:
    """One of the signed-in partner's entities (404 otherwise, as in the API)."""
    partner_id = await _partner(request, db)
    return await entity_service.get(db, partner_id, entity_id)


async def check_csrf(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Refuse (403, nothing done) a POST whose form lacks the session's CSRF token."""
    if request.method != "POST":
        return None
    form = await request.form()
    if console_session.csrf_ok(request.session, form.get(console_session.CSRF_FIELD)):
        return None
    log.warning("console: form refused without a valid CSRF token (%s)", request.url.path)
    return Response(
        "Refused: this form's security token is missing or out of date. "
        "Go back, reload the page and try again.",
        status_code=403,
        media_type="text/plain",
    )


#: Headers on every console answer: no script, style or form target but the console's own,
#: never framed (clickjacking), nothing cached (a shared browser), no URL leaked onwards.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


async def security_headers(response: Response[Any]) -> Response[Any]:
    """Add :data:`SECURITY_HEADERS` to a console answer."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _to_sign_in(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return Redirect(path="/console/login", status_code=303)


def _error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An error as a page: the message of a 4xx; for anything else a 500 that is logged with
    its traceback. The request id is shown, for a support ticket."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status >= 500:
        log.error("console: unhandled error on %s", request.url.path, exc_info=exc)
    message = (
        exc.detail
        if isinstance(exc, HTTPException) and status < 500
        else ("Something went wrong; the error is logged.")
    )
    request_id = (request.scope.get("state") or {}).get("request_id", "")
    response = Template(
        template_name="error.html",
        context={"status": status, "message": message, "signed_in": True, "request_id": request_id},
        status_code=status,
    )
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


@get("/login", name="console:login")
async def login_form(request: Request[Any, Any, Any]) -> Template:
    """The sign-in form (it carries a CSRF token: the session starts here)."""
    return _page(request, "login.html", signed_in=False)


@post("/login", status_code=303)
async def login(
    request: Request[Any, Any, Any], db_session: AsyncSession, state: State
) -> Response[Any]:
    """Client credentials -> the API's access token in a new session (401 page otherwise)."""
    form = await request.form()
    client_id = str(form.get("client_id") or "").strip()
    client_secret = str(form.get("client_secret") or "")
    try:
        contents = await console_session.sign_in(
            db_session, state.jwt_auth, state.settings, client_id, client_secret
        )
    except ApiError:
        log.info("console: sign-in refused")
        return _page(
            request,
            "login.html",
            status_code=401,
            signed_in=False,
            error="Those client credentials were not accepted.",
            client_id=client_id,
        )
    request.set_session(contents)
    return Redirect(path="/console/", status_code=303)


@post("/logout", status_code=303)
async def logout(
    request: Request[Any, Any, Any], db_session: AsyncSession, state: State
) -> Response[Any]:
    """Revoke the session's token and clear the cookie."""
    await console_session.sign_out(db_session, state.jwt_auth, request.session)
    await db_session.commit()
    request.clear_session()
    return Redirect(path="/console/login", status_code=303)


@get("/")
async def home(request: Request[Any, Any, Any], db_session: AsyncSession) -> Template:
    """The signed-in partner's entities with their connections."""
    partner_id = await _partner(request, db_session)
    entities = await views.entities(db_session, partner_id)
    return _page(request, "entities.html", signed_in=True, entities=entities)


@get("/entities/{entity_id:uuid}")
async def entity_page(
    request: Request[Any, Any, Any], db_session: AsyncSession, state: State, entity_id: uuid.UUID
) -> Template:
    """An entity: its connection's health, data types, problems; records counted by status."""
    entity = await _entity(request, db_session, entity_id)
    view = await views.entity_page(db_session, entity, state.settings.pull_interval_seconds)
    return _page(
        request,
        "entity.html",
        signed_in=True,
        view=view,
        object_types=views.OBJECT_TYPES,
        pushed_types=views.PUSHED_TYPES,
    )


@post("/entities/{entity_id:uuid}/connections/{connection_id:uuid}/sync", status_code=303)
async def sync_now(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    state: State,
    entity_id: uuid.UUID,
    connection_id: uuid.UUID,
) -> Response[Any]:
    """``POST /v1/accounting_connections/{id}/sync``: counted against the daily quota."""
    entity = await _entity(request, db_session, entity_id)
    back = Redirect(path=f"/console/entities/{entity.id}", status_code=303)
    settings: Settings = state.settings
    try:
        quota = await connection_service.take_manual_sync(
            db_session, entity.id, connection_id, settings.manual_sync_daily_limit
        )
    except ApiError as exc:
        _flash(request, str(exc.detail), "error")
        return back
    if not quota.allowed:
        _flash(
            request,
            f"The daily limit of {quota.limit} manual syncs of this connection is reached; it "
            "resets at midnight UTC (scheduled pulls continue).",
            "error",
        )
        return back
    await db_session.commit()
    jobs = state.get("jobs")
    if jobs is not None:
        await jobs.enqueue("pull_connection", connection_id=str(connection_id))
    _flash(request, f"Sync queued ({quota.remaining} of {quota.limit} manual syncs left today).")
    return back


@get("/entities/{entity_id:uuid}/records")
async def records(
    request: Request[Any, Any, Any], db_session: AsyncSession, state: State, entity_id: uuid.UUID
) -> Template:
    """Synced records of one type, Monite's filters, newest first, paged."""
    entity = await _entity(request, db_session, entity_id)
    params = {k: str(request.query_params.get(k) or "").strip() for k in _FILTERS}
    object_type = params["object_type"] if params["object_type"] in views.OBJECT_TYPES else "bill"
    params["object_type"] = object_type
    token = request.query_params.get("pagination_token") or None
    page = None
    error = None
    try:
        filters = record_service.parse_filters(
            {
                "object_id": params["object_id"] or None,
                "sync_status": params["sync_status"]
                if params["sync_status"] in ("pending", "error", "done")
                else None,
                **views.day_filters(params),
            }
        )
        query = {"object_type": object_type, "order": "desc", "sort": "created_at", **filters}

        def statement(query: dict[str, Any], cursor: Cursor | None) -> Any:
            seek = None
            if cursor is not None:
                seek = record_service.seek_bound(cursor.value, cursor.direction, "desc")
            return record_queries.list_stmt(entity.id, query["object_type"], query, seek)

        page = await paginate(
            db_session,
            state.paginator,
            statement,
            list_name="synced_records",
            scope=entity.id,
            model=SyncedRecord,
            query=query,
            limit=PAGE_SIZE,
            token=token,
            out=record_service.to_out,
        )
    except Unprocessable as exc:
        error = exc.detail
    rows = []
    for record in page.data if page else []:
        rows.append((record, await views.object_label(db_session, entity.id, record)))
    return _page(
        request,
        "records.html",
        status_code=422 if error else 200,
        signed_in=True,
        entity=entity,
        entity_name=views.entity_name(entity),
        params=params,
        object_types=views.OBJECT_TYPES,
        pushed_types=views.PUSHED_TYPES,
        rows=rows,
        page=page,
        error=error,
    )


@get("/entities/{entity_id:uuid}/records/{record_id:uuid}")
async def record_page(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    entity_id: uuid.UUID,
    record_id: uuid.UUID,
) -> Template:
    """A record with every attempt; the candidates of a match left to a person."""
    entity = await _entity(request, db_session, entity_id)
    record = await record_service.with_attempts(db_session, entity.id, record_id)
    return _page(
        request,
        "record.html",
        signed_in=True,
        entity=entity,
        entity_name=views.entity_name(entity),
        record=record,
        label=await views.object_label(db_session, entity.id, record),
        candidates=await views.candidates(db_session, entity.id, record),
        pushed=record.object_type in views.PUSHED_TYPES,
        summary=views.summary,
    )


@post("/entities/{entity_id:uuid}/records/{record_id:uuid}/retry", status_code=303)
async def retry(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    state: State,
    entity_id: uuid.UUID,
    record_id: uuid.UUID,
) -> Response[Any]:
    """``POST /v1/accounting_synced_records/{id}/push``: re-validate and push now."""
    entity = await _entity(request, db_session, entity_id)
    back = Redirect(path=f"/console/entities/{entity.id}/records/{record_id}", status_code=303)
    try:
        await record_service.prepare_retry(db_session, entity.id, record_id)
    except ApiError as exc:
        if exc.status_code == 404:
            raise
        _flash(request, str(exc.detail), "error")
        return back
    await db_session.commit()
    jobs = state.get("jobs")
    if jobs is not None:
        await run_push(jobs.context, record_id, manual=True)
    db_session.expire_all()
    record = await record_service.get(db_session, entity_id, record_id)
    if record.sync_status == "error":
        _flash(request, "Retried: it failed again (see the error below).", "error")
    else:
        _flash(request, f"Retried: the record is {record.sync_status}.")
    return back


@post("/entities/{entity_id:uuid}/records/{record_id:uuid}/resolve", status_code=303)
async def resolve(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    state: State,
    entity_id: uuid.UUID,
    record_id: uuid.UUID,
) -> Response[Any]:
    """``PATCH /v1/accounting_synced_records/{id}``: link this one, or create it."""
    entity = await _entity(request, db_session, entity_id)
    back = Redirect(path=f"/console/entities/{entity.id}/records/{record_id}", status_code=303)
    form = await request.form()
    try:
        object_id = uuid.UUID(form["object_id"]) if form.get("object_id") else None
    except ValueError:
        _flash(request, "That is not one of the candidates.", "error")
        return back
    body = ResolveBody(
        object_id=object_id,
        provider_object_id=str(form.get("provider_object_id") or "")[:200] or None,
        create_new=form.get("create_new") == "true",
    )
    try:
        record, waiting = await record_service.resolve(db_session, entity, record_id, body)
    except (ApiError, Unprocessable) as exc:
        if isinstance(exc, ApiError) and exc.status_code == 404:
            raise
        _flash(request, str(exc.detail), "error")
        return back
    status = record.sync_status
    await db_session.commit()
    jobs = state.get("jobs")
    if jobs is not None:
        for waiting_id in waiting:
            await jobs.enqueue("push_synced_record", synced_record_id=str(waiting_id))
    done = "linked" if status == "done" else "to be created at the next push"
    more = f"; {len(waiting)} document(s) that waited for it queued" if waiting else ""
    _flash(request, f"Decided: {done}{more}.")
    return back


@post("/entities/{entity_id:uuid}/retry", status_code=303)
async def bulk_retry(
    request: Request[Any, Any, Any], db_session: AsyncSession, state: State, entity_id: uuid.UUID
) -> Response[Any]:
    """``POST /v1/accounting_synced_records/push``: every failed record of one type (up to
    1,000, oldest first)."""
    entity = await _entity(request, db_session, entity_id)
    form = await request.form()
    object_type = str(form.get("object_type") or "")
    if object_type not in views.PUSHED_TYPES:
        _flash(request, "Only bills and receivables are retried.", "error")
        return Redirect(path=f"/console/entities/{entity.id}", status_code=303)
    back = Redirect(
        path=f"/console/entities/{entity.id}/records?object_type={object_type}&sync_status=error",
        status_code=303,
    )
    ids = await record_service.queue_bulk(db_session, entity.id, object_type, 1000)
    await db_session.commit()
    jobs = state.get("jobs")
    if jobs is not None:
        for record_id in ids:
            await jobs.enqueue("push_synced_record", synced_record_id=str(record_id))
    _flash(request, f"{len(ids)} failed {object_type} record(s) queued for a retry.")
    return back


def console_router(settings: Settings) -> Router:
    """The console's routes (outside the bearer guard: the console's own session signs in)
    and its static files."""
    return Router(
        path="/console",
        route_handlers=[
            login_form,
            login,
            logout,
            home,
            entity_page,
            sync_now,
            records,
            record_page,
            retry,
            resolve,
            bulk_retry,
            create_static_files_router(
                path="/static", directories=[STATIC], include_in_schema=False, opt={}
            ),
        ],
        middleware=[console_session.session_middleware(settings)],
        before_request=check_csrf,
        after_request=security_headers,
        exception_handlers={
            SignInRequired: _to_sign_in,
            NotAuthorizedException: _to_sign_in,
            HTTPException: _error_page,
            Exception: _error_page,
        },
        opt={"exclude_from_auth": True},
        include_in_schema=False,
    )
