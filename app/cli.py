"""The ``acctsync`` command line.

acctsync serve [--host H] [--port P]   API (+ jobs and the embedded sandbox on the default)
acctsync worker                        scheduler + job worker (multi-node)
acctsync sandbox [--host H] [--port P] the Codat-compatible sandbox alone
acctsync db upgrade | db revision -m M  migrations
acctsync partner create --name N       a partner and its client credentials (shown once)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

from app.config import ConfigError, Settings, ensure_secret_key, load_settings, served_at

log = logging.getLogger("acctsync")


def _with_secret(settings: Settings) -> Settings:
    """``settings`` with the development default's generated secret key (see
    `ensure_secret_key`), for the commands that run the service; exit 2 when it cannot be
    kept."""
    try:
        return ensure_secret_key(settings)
    except ConfigError as exc:
        print(f"acctsync: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"acctsync: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _logging(settings: Settings) -> None:
    """One format for the service, jobs, Alembic and uvicorn: JSON lines unless stderr is a
    terminal (``app.logs``). One line per provider request and per job is noise at INFO:
    httpx and APScheduler keep their warnings."""
    from app import logs

    logs.configure(settings.log_level)


def cmd_db(args: argparse.Namespace) -> int:
    from app.db.config import sqlalchemy_config, upgrade_database

    settings = _settings()
    if args.db_command == "upgrade":
        upgrade_database(settings.database_url, args.revision)
        print(f"database upgraded to {args.revision}")
        return 0
    from advanced_alchemy.alembic.commands import AlembicCommands

    AlembicCommands(sqlalchemy_config(settings.database_url)).revision(
        message=args.message, autogenerate=True
    )
    return 0


def cmd_partner(args: argparse.Namespace) -> int:
    from app.auth.service import create_partner
    from app.db.engine import create_engine, create_sessionmaker

    settings = _settings()
    if settings.is_sqlite:
        from app.db.config import upgrade_database

        upgrade_database(settings.database_url)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                created = await create_partner(session, args.name)
        finally:
            await engine.dispose()
        print(f"partner_id={created.partner_id}")
        print(f"client_id={created.client_id}")
        print(f"client_secret={created.client_secret}")
        print("(the secret is shown only once)", file=sys.stderr)

    asyncio.run(run())
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port), as uvicorn would bind it.

    Raises:
        SystemExit(1): the address is in use or not ours to take (with a message naming it).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        print(
            f"acctsync: cannot listen on {host}:{port}: {exc.strerror or exc}"
            " (is another server running there? choose another with --port)",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    return sock


def _server(config: Any) -> Any:
    """A uvicorn server that, stopped by SIGINT/SIGTERM, finishes its shutdown and returns
    (uvicorn re-raises the signal afterwards, which would end the process by the signal or
    a KeyboardInterrupt traceback instead of exit status 0)."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    return Server(config)


async def _serve(server: Any, sock: socket.socket) -> None:
    """Serve until SIGINT/SIGTERM, then leave nothing for ``asyncio.run`` to cancel."""
    from app.runtime import settle_tasks

    host, port = sock.getsockname()[:2]
    log.info("acctsync serving on http://%s:%s (Ctrl+C to stop)", host, port)
    try:
        await server.serve(sockets=[sock])
    finally:
        await settle_tasks(lambda task: True)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.runtime import build_service_app

    settings = _settings()
    _logging(settings)
    sock = _listen(args.host, args.port)
    bound_host, bound_port = sock.getsockname()[:2]
    if bound_host in ("0.0.0.0", "::"):
        bound_host = "127.0.0.1"
    elif ":" in bound_host:
        bound_host = f"[{bound_host}]"
    settings = served_at(_with_secret(settings), f"http://{bound_host}:{bound_port}")
    if settings.is_sqlite:
        from app.db.config import upgrade_database

        upgrade_database(settings.database_url)
    app = build_service_app(settings, freeze_after_start=True)
    _logging(settings)  # again: the embedded sandboxes' Litestar apps set theirs when built
    server = _server(
        uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_level=settings.log_level.lower(),
            access_log=False,
            log_config=None,  # uvicorn's lines go through app.logs' one handler
        )
    )
    try:
        asyncio.run(_serve(server, sock))
    finally:
        sock.close()
    return 0 if server.started else 1


def cmd_worker(args: argparse.Namespace) -> int:
    from app.runtime import run_worker

    settings = _settings()
    _logging(settings)
    if args.metrics_port is not None:
        # The pulls, pushes, jobs and provider calls this worker runs, for Prometheus (the
        # API's /metrics has the job queue, read from the shared store).
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr=args.metrics_host)
        log.info("worker metrics on http://%s:%d/metrics", args.metrics_host, args.metrics_port)
    asyncio.run(run_worker(_with_secret(settings), args.heartbeat_file))
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    import uvicorn

    from app.runtime import build_standalone_sandbox

    settings = _with_secret(_settings())
    _logging(settings)
    app = build_standalone_sandbox(settings, args)
    _logging(settings)  # again: the sandbox's Litestar app sets its own when built
    uvicorn.run(app, host=args.host, port=args.port, log_config=None)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from demo import main as demo_main

    return demo_main(args.platform, args.all_platforms, args.url, args.keep)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acctsync", description=__doc__.split("\n")[0] if __doc__ else None
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API (and jobs + sandbox on the embedded default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run the scheduler and job worker (PostgreSQL)")
    worker.add_argument(
        "--heartbeat-file",
        default=None,
        help="touch this file every 10 s while the jobs run (for a container healthcheck)",
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve this worker's Prometheus figures on this port (/metrics)",
    )
    worker.add_argument("--metrics-host", default="0.0.0.0", help="with --metrics-port")
    worker.set_defaults(func=cmd_worker)

    sandbox = sub.add_parser("sandbox", help="run the Codat-compatible sandbox alone")
    from sandbox.cli import add_arguments

    add_arguments(sandbox)
    sandbox.set_defaults(func=cmd_sandbox)

    demo = sub.add_parser("demo", help="the whole flow on Codat's example data, end to end")
    demo.add_argument("--platform", default="xero")
    demo.add_argument("--all-platforms", action="store_true")
    demo.add_argument("--url", default=None, help="drive a running service instead")
    demo.add_argument(
        "--keep",
        action="store_true",
        help="keep the embedded service's temporary folder (database, sandbox state)",
    )
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    rev = db_sub.add_parser("revision", help="autogenerate a migration (development)")
    rev.add_argument("-m", "--message", required=True)
    db.set_defaults(func=cmd_db)

    partner = sub.add_parser("partner", help="partners")
    partner_sub = partner.add_subparsers(dest="partner_command", required=True)
    create = partner_sub.add_parser("create", help="create a partner and print its credentials")
    create.add_argument("--name", required=True)
    partner.set_defaults(func=cmd_partner)
    return parser


#: The commands that open the database, checked before they start.
DATABASE_COMMANDS = ("serve", "worker", "db", "partner")


def _fail(message: str, status: int, exc: BaseException | None = None) -> SystemExit:
    """Print ``acctsync: message`` on one line (and the traceback of ``exc`` only with
    ACCTSYNC_LOG_LEVEL=DEBUG); the SystemExit to raise with ``status``."""
    if exc is not None and os.environ.get("ACCTSYNC_LOG_LEVEL", "").strip().upper() == "DEBUG":
        traceback.print_exception(exc, file=sys.stderr)
    print(f"acctsync: {message}", file=sys.stderr)
    return SystemExit(status)


def _preflight(args: argparse.Namespace) -> None:
    """Refuse, before anything starts, a command that cannot work with the configuration:
    a role the database cannot serve (exit 2), a database that cannot be opened (exit 2) or
    reached (exit 3), each with one line naming the cause and the fix."""
    from app.db.preflight import DatabaseUnusable, check_database

    if args.command not in DATABASE_COMMANDS:
        return
    settings = _settings()
    if settings.is_sqlite and args.command == "worker":
        raise _fail(
            "acctsync worker needs PostgreSQL, and ACCTSYNC_DATABASE_URL is SQLite (one"
            " process: `acctsync serve` runs the jobs itself); set ACCTSYNC_DATABASE_URL to"
            " postgresql+psycopg://... or run `acctsync serve` alone",
            2,
        )
    if settings.is_sqlite and args.command == "serve" and settings.role == "api":
        raise _fail(
            "ACCTSYNC_ROLE=api needs PostgreSQL (the jobs would wait for a worker, and no"
            " worker runs on SQLite); unset ACCTSYNC_ROLE or set ACCTSYNC_DATABASE_URL to"
            " postgresql+psycopg://...",
            2,
        )
    try:
        check_database(settings.database_url)
    except DatabaseUnusable as exc:
        raise _fail(str(exc), exc.status, exc) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``acctsync`` console script."""
    args = build_parser().parse_args(argv)
    _preflight(args)
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        if args.command not in DATABASE_COMMANDS:
            raise
        # What the checks before the start could not foresee: one line, the traceback on demand.
        first = (str(exc).strip().splitlines() or [""])[0]
        name = " ".join(filter(None, (args.command, getattr(args, "db_command", None))))
        raise _fail(
            f"{name} failed: {type(exc).__name__}: {first}"
            " (ACCTSYNC_LOG_LEVEL=DEBUG shows the traceback)",
            1,
            exc,
        ) from None


if __name__ == "__main__":
    raise SystemExit(main())
