"""The started service's long-lived objects are out of the cyclic collector's reach, and a
pull's own freeze, when lifted, leaves them there (issue 17: full collections of the whole
heap held requests for tens of milliseconds)."""

from __future__ import annotations

import gc

from app.sync import ingest_memory


class _Node:
    def __init__(self) -> None:
        self.me = self


def test_frozen_after_start_up_and_after_a_pull(monkeypatch) -> None:
    monkeypatch.setattr(ingest_memory, "_long_lived_frozen", False)
    try:
        kept = [_Node() for _ in range(1000)]
        ingest_memory.freeze_long_lived()
        frozen = gc.get_freeze_count()
        assert frozen >= 1000
        with ingest_memory.pull_gc():
            made_in_pull = [_Node() for _ in range(10)]
        del made_in_pull
        assert gc.get_freeze_count() >= frozen - 50  # start-up objects frozen again
        # garbage cycles made after the freeze are still collected
        gc.collect()
        for _ in range(100):
            _Node()
        assert gc.collect() >= 100
        assert len(kept) == 1000
    finally:
        gc.unfreeze()
