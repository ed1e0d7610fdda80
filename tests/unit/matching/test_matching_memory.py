"""Memory kept by matching: a long run of distinct contacts (a large pull) leaves the
normalisation caches at a bounded size, not one entry per contact ever seen (issue 17)."""

from __future__ import annotations

import gc
import tracemalloc

from matching import CounterpartIndex, CounterpartRecord, match_counterparts
from matching._normalise import CACHE_SIZE

CP = CounterpartRecord


def _word(i: int, ending: str) -> str:
    return chr(97 + i // 26) + chr(97 + i % 26) + ending


def _contacts(start: int, count: int) -> list[CounterpartRecord]:
    """Distinct contacts whose names draw on a vocabulary of 96 words, as real names do."""
    return [
        CP(
            f"c-{i}",
            f"{_word(i % 32, 'ford')} {_word(i // 32 % 32, 'ley')} {_word(i // 1024, 'wick')} Ltd",
            "GB",
            f"{_word(i % 32, 'ham')}",
            f"{i} Station Road",
            f"AB{i}",
        )
        for i in range(start, start + count)
    ]


def _kept_after_matching(index: CounterpartIndex, incoming: list[CounterpartRecord]) -> int:
    match_counterparts(incoming, index)
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_matching_more_distinct_contacts_keeps_no_more_memory() -> None:
    index = CounterpartIndex(
        [CP("cp-1", "Harrison & Sons Ltd", "GB", "Manchester", "14 Deansgate", "M3 2BW")]
    )
    batch = 16_384
    assert batch >= CACHE_SIZE  # the first batch fills the caches
    first, second = _contacts(0, batch), _contacts(batch, batch)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        after_first = _kept_after_matching(index, first)
        after_second = _kept_after_matching(index, second)
    finally:
        tracemalloc.stop()
    # The caches are full after the first batch; the second batch's contacts replace entries.
    # (Caching every contact kept about 2 KB each: 35 MB more for the second batch.)
    assert after_first > base
    assert after_second - after_first < 2 * 2**20
