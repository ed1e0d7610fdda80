"""Python load generator of ``bench.api`` (used only when ``wrk`` is not installed), run in its
own process.

``python -m bench._api_client URL SECONDS CONNECTIONS [HEADER ...]`` sends ``GET URL`` over
``CONNECTIONS`` keep-alive connections (pre-built HTTP/1.1 requests on asyncio streams, uvloop
when installed) for ``SECONDS`` seconds after a 2 s warm-up, and prints one JSON line:
``{"requests", "elapsed_s", "rps", "p50_ms", "p99_ms", "non_2xx"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

WARMUP_S = 2.0


async def _worker(
    host: str, port: int, request: bytes, deadline: float, latencies: list[float], bad: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if head[9:10] != b"2":
                bad[0] += 1
    finally:
        writer.close()


async def run(url: str, seconds: float, connections: int, headers: list[str]) -> dict[str, object]:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {path} HTTP/1.1\r\nhost: {parts.netloc}\r\n"
        + "".join(f"{h}\r\n" for h in headers)
        + "\r\n"
    ).encode()
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    result: dict[str, object] = {}
    for phase, length in (("warmup", WARMUP_S), ("measured", seconds)):
        latencies: list[float] = []
        bad = [0]
        started = time.perf_counter()
        deadline = started + length
        await asyncio.gather(
            *(_worker(host, port, request, deadline, latencies, bad) for _ in range(connections))
        )
        elapsed = time.perf_counter() - started
        if phase == "measured":
            latencies.sort()

            def pct(p: float, latencies: list[float] = latencies) -> float:
                return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

            result = {
                "requests": len(latencies),
                "elapsed_s": elapsed,
                "rps": len(latencies) / elapsed,
                "p50_ms": pct(0.50) if latencies else 0.0,
                "p99_ms": pct(0.99) if latencies else 0.0,
                "non_2xx": bad[0],
            }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("seconds", type=float)
    parser.add_argument("connections", type=int)
    parser.add_argument("headers", nargs="*")
    args = parser.parse_args()
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(run(args.url, args.seconds, args.connections, args.headers))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
