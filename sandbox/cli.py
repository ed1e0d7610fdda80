"""Command line for running the sandbox alone: ``python -m sandbox --port 8001``.

``add_arguments(parser)`` and ``config_from_args(namespace)`` let another CLI (the service's
``acctsync sandbox``) offer the same flags.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from sandbox.config import DEFAULT_WEBHOOK_SECRET, FaultConfig, SandboxConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox's flags (each also read from an ``ACCTSYNC_SANDBOX_*`` variable)."""

    def env(name: str, default: str | None = None) -> str | None:
        return os.environ.get(f"ACCTSYNC_SANDBOX_{name}", default)

    parser.add_argument("--host", default=env("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("PORT", "8001") or 8001))
    parser.add_argument(
        "--public-url", default=env("PUBLIC_URL"), help="base URL (default http://host:port)"
    )
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help="accepted API key (repeat; default 'sandbox')",
    )
    parser.add_argument("--webhook-url", default=env("WEBHOOK_URL"))
    parser.add_argument(
        "--webhook-envelope",
        choices=("current", "legacy"),
        default=env("WEBHOOK_ENVELOPE", "current"),
    )
    parser.add_argument("--webhook-secret", default=env("WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET))
    parser.add_argument("--webhook-authorization", default=env("WEBHOOK_AUTHORIZATION"))
    parser.add_argument(
        "--webhook-retry-delays",
        default=env("WEBHOOK_RETRY_DELAYS", "5,300,1800,7200,18000,36000,36000"),
        help="comma-separated seconds between delivery attempts",
    )
    parser.add_argument("--push-delay", type=float, default=float(env("PUSH_DELAY", "0.2") or 0))
    parser.add_argument("--seed-examples", action="store_true")
    parser.add_argument("--link-redirect-url", default=env("LINK_REDIRECT_URL"))
    parser.add_argument(
        "--state-path",
        default=env("STATE_PATH"),
        help="JSON file the state is kept in between runs (default: memory only)",
    )
    parser.add_argument("--rate-429", type=float, default=0.0)
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument("--rate-5xx", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--push-timeout-rate", type=float, default=0.0)
    parser.add_argument("--push-timeout-record-rate", type=float, default=0.8)
    parser.add_argument("--webhook-drop-rate", type=float, default=0.0)
    parser.add_argument("--webhook-duplicate-rate", type=float, default=0.0)
    parser.add_argument("--webhook-reorder", action="store_true")
    parser.add_argument("--fault-seed", type=int, default=None)


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """A :class:`SandboxConfig` from parsed flags."""
    delays = tuple(float(x) for x in str(args.webhook_retry_delays).split(",") if x.strip())
    return SandboxConfig(
        public_url=args.public_url or f"http://{args.host}:{args.port}",
        api_keys=tuple(args.api_keys or ("sandbox",)),
        webhook_url=args.webhook_url,
        webhook_envelope=args.webhook_envelope,
        webhook_secret=args.webhook_secret,
        webhook_authorization=args.webhook_authorization,
        webhook_retry_delays=delays,
        push_delay_s=args.push_delay,
        seed_examples=args.seed_examples,
        link_redirect_url=args.link_redirect_url,
        state_path=args.state_path,
        faults=FaultConfig(
            rate_429=args.rate_429,
            retry_after=args.retry_after,
            rate_5xx=args.rate_5xx,
            latency_ms=args.latency_ms,
            push_timeout_rate=args.push_timeout_rate,
            push_timeout_record_rate=args.push_timeout_record_rate,
            webhook_drop_rate=args.webhook_drop_rate,
            webhook_duplicate_rate=args.webhook_duplicate_rate,
            webhook_reorder=args.webhook_reorder,
            seed=args.fault_seed,
        ),
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Parse flags and serve the sandbox under uvicorn."""
    import uvicorn

    from sandbox.app import create_sandbox_app

    parser = argparse.ArgumentParser(prog="sandbox", description="Codat-compatible sandbox")
    add_arguments(parser)
    args = parser.parse_args(argv)
    uvicorn.run(create_sandbox_app(config_from_args(args)), host=args.host, port=args.port)
