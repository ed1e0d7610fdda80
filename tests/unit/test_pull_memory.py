"""Memory during a pull (issue 17): a stored page's HTTP response and body are freed at once,
not when the raised collector threshold next allows; the counterpart index of a data type is
let go once the pull has moved on to the next."""

from __future__ import annotations

import uuid
import weakref
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from app.sync import ingest_memory
from app.sync import matching as sync_matching


def test_a_stored_pages_response_is_freed_while_a_pull_runs() -> None:
    body = b'{"results": []}' + b" " * 5_000_000
    client = httpx.Client(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    )
    with ingest_memory.pull_gc():
        response = client.get("http://provider.test/companies/c/data/invoices")
        assert len(response.content) == len(body)
        gone = weakref.ref(response)
        del response  # httpx's response refers to itself through its stream: a cycle
        ingest_memory.page_done()
        assert gone() is None
    client.close()


async def test_the_counterpart_index_is_let_go_when_the_pull_moves_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[bool] = []

    async def for_matching(session: Any, entity_id: uuid.UUID, *, customers: bool) -> list[Any]:
        reads.append(customers)
        return []

    monkeypatch.setattr(sync_matching.counterpart_queries, "for_matching", for_matching)
    matcher = sync_matching.PullMatcher(SimpleNamespace(entity_id=uuid.uuid4()))  # type: ignore[arg-type]
    customers = await matcher.counterparts(None, customers=True)  # type: ignore[arg-type]
    assert await matcher.counterparts(None, customers=True) is customers  # kept across pages
    assert reads == [True]
    await matcher(None, "invoices", [])  # type: ignore[arg-type]
    # no longer held: a later use reads the counterparts again and builds a new index
    assert await matcher.counterparts(None, customers=True) is not customers  # type: ignore[arg-type]
    assert reads == [True, True]
