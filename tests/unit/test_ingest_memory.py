"""GC tuning around pulls (app.sync.ingest_memory): raised while any pull runs, restored
after the last one, memory released only after a large pull with no other pull running."""

from __future__ import annotations

import gc

import pytest

from app.sync import ingest_memory


@pytest.fixture(autouse=True)
def _nothing_frozen(monkeypatch):
    """As in a process that has not frozen its start-up objects (a service started earlier in
    this test process has)."""
    monkeypatch.setattr(ingest_memory, "_long_lived_frozen", False)
    gc.unfreeze()


def test_threshold_raised_while_pulls_run_and_restored_after() -> None:
    before = gc.get_threshold()
    with ingest_memory.pull_gc():
        raised = gc.get_threshold()
        assert raised[0] >= ingest_memory.PULL_GEN0_THRESHOLD
        with ingest_memory.pull_gc():  # a concurrent pull shares the setting
            assert gc.get_threshold() == raised
        assert gc.get_threshold() == raised  # the first pull still runs
        assert not ingest_memory.release_memory(10**6)  # not while a pull runs
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_restored_when_the_pull_fails() -> None:
    before = gc.get_threshold()
    try:
        with ingest_memory.pull_gc():
            raise RuntimeError("provider down")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_release_memory_only_after_a_large_pull() -> None:
    assert not ingest_memory.release_memory(ingest_memory.RELEASE_AFTER_RECORDS - 1)
    trimmed = ingest_memory.release_memory(ingest_memory.RELEASE_AFTER_RECORDS)
    assert trimmed == (ingest_memory._malloc_trim() is not None)
