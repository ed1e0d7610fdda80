"""A partner's webhook receiver on loopback, with faults: for the event delivery bench and
its test (tests/e2e/test_event_delivery.py).

Each request's signature is verified with the ``standardwebhooks`` library (and, when
``svix_check`` is set, Svix's). Then the receiver draws its answer: ``fail_5xx`` of the
requests get a 503, ``fail_429`` a 429 with ``Retry-After``, ``fail_timeout`` are processed
but answered only after ``timeout_sleep`` seconds (the sender gives up first: the outcome is
unknown to it, so it sends again: the only source of duplicates besides a killed worker), the
rest are processed and get a 204. ``processed`` lists what a partner's handler would have
acted on: (arrival time, event id, sequence, subscription id).
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook


@dataclass
class Faults:
    fail_5xx: float = 0.0
    fail_429: float = 0.0
    fail_timeout: float = 0.0
    retry_after: str = "0.05"
    timeout_sleep: float = 0.5


@dataclass
class Receiver:
    """Receives webhooks at ``url`` (after :meth:`start`) signed with ``secret``."""

    faults: Faults = field(default_factory=Faults)
    seed: int = 18
    secret: str = ""
    #: Secrets by subscription id, where several subscriptions point here.
    secrets: dict[str, str] = field(default_factory=dict)
    svix_check: bool = False
    processed: list[tuple[float, str, int, str]] = field(default_factory=list)
    requests: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    bad_signatures: int = 0
    #: Requests processed but answered too late (the sender saw a timeout).
    slow: int = 0
    url: str = ""
    #: Answers to give first, in order (e.g. ``[429, 204]``), before the faults' draws.
    script: list[int] = field(default_factory=list)
    _server: Any = None
    _task: Any = None
    _thread: Any = None

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests += 1
        status, extra = await self._handle(body, headers)
        self.answers[str(status)] = self.answers.get(str(status), 0) + 1
        await send({"type": "http.response.start", "status": status, "headers": extra})
        await send({"type": "http.response.body", "body": b""})

    async def _handle(self, body: bytes, headers: dict[str, str]) -> tuple[int, list[Any]]:
        try:
            subscription = json.loads(body).get("webhook_subscription_id", "")
            secret = self.secrets.get(subscription, self.secret)
            Webhook(secret).verify(body, headers)
            if self.svix_check:
                from svix.webhooks import Webhook as SvixWebhook

                SvixWebhook(secret).verify(body, headers)
        except Exception:
            self.bad_signatures += 1
            return 401, []
        event = json.loads(body)
        record = (time.time(), event["id"], event["sequence"], event["webhook_subscription_id"])
        if self.script:
            status = self.script.pop(0)
            if status < 300:
                self.processed.append(record)
            return status, [(b"retry-after", self.faults.retry_after.encode())]
        draw = self._random.random()
        f = self.faults
        if draw < f.fail_5xx:
            return 503, []
        if draw < f.fail_5xx + f.fail_429:
            return 429, [(b"retry-after", f.retry_after.encode())]
        self.processed.append(record)
        if draw < f.fail_5xx + f.fail_429 + f.fail_timeout:
            self.slow += 1
            await asyncio.sleep(f.timeout_sleep)
        return 204, []

    async def start(self) -> str:
        """Serve on 127.0.0.1 (a free port); returns the URL to subscribe."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:  # noqa: ASYNC110 (uvicorn offers no event)
            await asyncio.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}/hooks"
        return self.url

    async def stop(self) -> None:
        if self._thread is not None:
            self._server.should_exit = True
            await asyncio.to_thread(self._thread.join)
            return
        if self._server is not None:
            self._server.should_exit = True
            await self._task

    async def start_in_thread(self) -> str:
        """:meth:`start` in a thread with an event loop of its own (a bench's receiver must
        not compete with the service for its event loop); returns the URL."""
        ready = threading.Event()
        url: list[str] = []

        def serve() -> None:
            async def main() -> None:
                url.append(await self.start())
                ready.set()
                await self._task

            asyncio.run(main())

        self._thread = threading.Thread(target=serve, name="event-receiver", daemon=True)
        self._thread.start()
        await asyncio.to_thread(ready.wait, 10)
        return url[0]

    def figures(self, expected: dict[str, tuple[int, float]]) -> dict[str, Any]:
        """Delivered/duplicated/missing against ``expected`` (event id: (sequence, created
        at, epoch seconds)), whether successes kept their order per subscription, and the
        p50/p99 delay from an event's creation to its first processing (seconds)."""
        first: dict[str, float] = {}
        for at, event_id, _seq, _sub in self.processed:
            first.setdefault(event_id, at)
        seen = set(first)
        ordered = True
        last: dict[str, int] = {}
        for _at, _event_id, seq, sub in self.processed:
            if seq < last.get(sub, 0):
                ordered = False
            last[sub] = max(seq, last.get(sub, 0))
        delays = sorted(first[e] - created for e, (_s, created) in expected.items() if e in first)

        def pct(p: float) -> float:
            return delays[min(len(delays) - 1, int(p * len(delays)))] if delays else float("nan")

        return {
            "expected": len(expected),
            "delivered": len(seen & set(expected)),
            "duplicated": len(self.processed) - len(seen),
            "missing": len(set(expected) - seen),
            "unexpected": len(seen - set(expected)),
            "order_kept": ordered,
            "p50_s": pct(0.50),
            "p99_s": pct(0.99),
            "requests": self.requests,
            "answers": dict(sorted(self.answers.items())),
            "bad_signatures": self.bad_signatures,
        }
