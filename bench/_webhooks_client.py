"""Load generator of the webhook bench, run in its own process.

``python -m bench._webhooks_client URL N CONCURRENCY TIME_CAP SECRET RUN_ID [--client raw|httpx]``
sends ``N`` signed ``bills.write.successful`` events (unique ids) over ``CONCURRENCY``
keep-alive connections, stopping early at ``TIME_CAP`` seconds, and prints one JSON line:
``{"sent", "accepted", "statuses", "elapsed_s", "p50_ms", "p99_ms", "max_ms"}``.

The default ``raw`` client writes pre-built HTTP/1.1 requests on asyncio streams (uvloop when
installed) so that the client, which shares the 2 cores, costs far less than the server;
``httpx`` uses ``httpx.AsyncClient`` instead (heavier: it lowers the figures it measures).
Bodies are built and signed before the clock starts; a warm-up of ``WARMUP`` requests is
not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from urllib.parse import urlsplit

import webhooks

WARMUP = 300


def event_body(message_id: str, index: int) -> bytes:
    """A realistic Codat ``bills.write.successful`` event (current envelope)."""
    return json.dumps(
        {
            "id": message_id,
            "eventType": "bills.write.successful",
            "generatedDate": "2026-11-22T10:00:00.000Z",
            "payload": {
                "id": f"push-{index:08d}-7c1e-4b8f-9a57-2f8e0d3c1b6a",
                "status": "Success",
                "type": "Create",
                "dataType": "bills",
                "connectionId": "51baa045-4836-4317-a42e-3542e991e581",
                "referenceCompany": {
                    "id": "0f7a6d2c-1b4e-4d3a-9c8b-5e6f7a8b9c0d",
                    "name": "Bench Co",
                },
                "record": {"id": f"bill-{index}"},
                "requestedOnUtc": "2026-11-22T09:59:58.000Z",
                "completedOnUtc": "2026-11-22T09:59:59.500Z",
            },
        },
        separators=(",", ":"),
    ).encode()


def build_requests(url: str, count: int, secret: str, run_id: str, start: int) -> list[bytes]:
    """``count`` complete HTTP/1.1 requests (headers + body), each a new signed event."""
    parts = urlsplit(url)
    now = int(time.time())
    out = []
    for i in range(start, start + count):
        message_id = f"msg_{run_id}_{i:07d}"
        body = event_body(message_id, i)
        headers = webhooks.signature_headers(secret, message_id, now, body)
        head = (
            f"POST {parts.path} HTTP/1.1\r\nhost: {parts.netloc}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            + "\r\n"
        )
        out.append(head.encode() + body)
    return out


async def _raw_worker(
    host: str,
    port: int,
    requests: list[bytes],
    cursor: list[int],
    deadline: float,
    latencies: list[float],
    statuses: Counter[int],
    accepted: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while cursor[0] < len(requests) and time.perf_counter() < deadline:
            request = requests[cursor[0]]
            cursor[0] += 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            latencies.append(time.perf_counter() - started)
            status = int(head[9:12])
            statuses[status] += 1
            if status == 200 and b"accepted" in body:
                accepted[0] += 1
    finally:
        writer.close()


async def _httpx_run(
    url: str,
    requests: list[bytes],
    concurrency: int,
    deadline: float,
    latencies: list[float],
    statuses: Counter[int],
    accepted: list[int],
) -> None:
    import httpx

    cursor = [0]
    split = [r.partition(b"\r\n\r\n") for r in requests]
    prepared = []
    for head, _, body in split:
        headers = dict(
            line.decode().split(": ", 1)
            for line in head.split(b"\r\n")[1:]
            if not line.lower().startswith((b"host:", b"content-length:"))
        )
        prepared.append((headers, body))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            while cursor[0] < len(prepared) and time.perf_counter() < deadline:
                headers, body = prepared[cursor[0]]
                cursor[0] += 1
                started = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] += 1
                if response.status_code == 200 and b"accepted" in response.content:
                    accepted[0] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def run(
    url: str, count: int, concurrency: int, time_cap: float, secret: str, run_id: str, kind: str
) -> dict[str, object]:
    """Warm up, then send ``count`` requests; the figures of the measured part."""
    parts = urlsplit(url)
    warm = build_requests(url, WARMUP, secret, run_id + "w", 0)
    measured = build_requests(url, count, secret, run_id, 0)
    result: dict[str, object] = {}
    for phase, requests in (("warmup", warm), ("measured", measured)):
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        accepted = [0]
        started = time.perf_counter()
        deadline = started + time_cap
        if kind == "raw":
            cursor = [0]
            await asyncio.gather(
                *(
                    _raw_worker(
                        parts.hostname or "127.0.0.1",
                        parts.port or 80,
                        requests,
                        cursor,
                        deadline,
                        latencies,
                        statuses,
                        accepted,
                    )
                    for _ in range(concurrency)
                )
            )
        else:
            await _httpx_run(url, requests, concurrency, deadline, latencies, statuses, accepted)
        elapsed = time.perf_counter() - started
        if phase == "measured":
            latencies.sort()

            def pct(p: float, data: list[float] = latencies) -> float:
                return data[min(len(data) - 1, int(p * len(data)))] * 1000 if data else 0.0

            result = {
                "sent": len(latencies),
                "accepted": accepted[0],
                "statuses": dict(statuses),
                "elapsed_s": elapsed,
                "p50_ms": pct(0.50),
                "p99_ms": pct(0.99),
                "max_ms": latencies[-1] * 1000 if latencies else 0.0,
            }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("count", type=int)
    parser.add_argument("concurrency", type=int)
    parser.add_argument("time_cap", type=float)
    parser.add_argument("secret")
    parser.add_argument("run_id")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    args = parser.parse_args()
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(
            run(
                args.url,
                args.count,
                args.concurrency,
                args.time_cap,
                args.secret,
                args.run_id,
                args.client,
            )
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
