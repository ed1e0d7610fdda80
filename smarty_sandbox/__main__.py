"""``python -m smarty_sandbox [--host H] [--port P] [--rate-5xx R] ...``: the emulator alone."""

from __future__ import annotations

import argparse

import uvicorn

from smarty_sandbox.app import SmartyConfig, SmartyFaults, create_smarty_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m smarty_sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--access-ttl", type=float, default=3600.0)
    parser.add_argument("--rate-5xx", type=float, default=0.0)
    parser.add_argument("--rate-429", type=float, default=0.0)
    parser.add_argument("--timeout-rate", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    faults = SmartyFaults(
        rate_5xx=args.rate_5xx,
        rate_429=args.rate_429,
        timeout_rate=args.timeout_rate,
        latency_ms=args.latency_ms,
        seed=args.seed,
    )
    app = create_smarty_app(SmartyConfig(access_ttl_s=args.access_ttl, faults=faults))
    uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
