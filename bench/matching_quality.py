"""Counterpart matching quality on labelled data: precision, recall, F1, ambiguous share.

Run: `.venv/bin/python -m bench.matching_quality` (from the repository root). One matcher
configuration (the package defaults) for every data set; three seeds x three locale mixes.
Also prints how many true pairs the blocking index loses against a full scan with the same
cheap scorer, and a few wrong links to read.
"""

from __future__ import annotations

import sys
import time

from matching import NAME_THRESHOLD, CounterpartIndex, match_counterparts
from matching._index import name_score
from matching._normalise import name_tokens

from ._data import LOCALE_MIXES, labelled_counterparts

TARGET_PRECISION = 0.995
TARGET_RECALL = 0.97


def _blocking_loss(index: CounterpartIndex, incoming, truth) -> tuple[int, int]:
    """(true pairs whose name score reaches NAME_THRESHOLD, of those the blocking index does
    not hand to the scorer): what blocking costs against a full scan."""
    by_id = {r.id: i for i, r in enumerate(index.records)}
    reachable = missed = 0
    for rec in incoming:
        want = truth[rec.id]
        if want is None:
            continue
        tokens = name_tokens(rec.name)
        row = by_id[want]
        if name_score(tokens, index.names.tokens[row]) < NAME_THRESHOLD:
            continue
        reachable += 1
        if row not in index.names.candidates(tokens):
            missed += 1
    return reachable, missed


def run(seed: int, mix: str, n_existing: int, show: int) -> dict[str, float]:
    existing, incoming, truth = labelled_counterparts(seed, LOCALE_MIXES[mix], n_existing)
    t0 = time.perf_counter()
    index = CounterpartIndex(existing)
    matches = match_counterparts(incoming, index)
    elapsed = time.perf_counter() - t0
    tp = fp = ambiguous = 0
    wrong = []
    for m in matches:
        want = truth[m.incoming_id]
        if m.outcome == "matched":
            if m.existing_id == want:
                tp += 1
            else:
                fp += 1
                wrong.append(m)
        elif m.outcome == "ambiguous":
            ambiguous += 1
    positives = sum(1 for v in truth.values() if v is not None)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / positives if positives else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    reachable, missed = _blocking_loss(index, incoming, truth)
    print(
        f"seed={seed:<3} mix={mix:<9} existing={len(existing):>5} incoming={len(incoming):>5} "
        f"(with counterpart {positives:>5})  P={precision:.4f} R={recall:.4f} F1={f1:.4f} "
        f"ambiguous={ambiguous / len(matches):.3f}  FP={fp:<3} blocking lost {missed}/{reachable}"
        f"  ({elapsed * 1000:.0f} ms)"
    )
    inc = {r.id: r for r in incoming}
    ex = {r.id: r for r in existing}
    for m in wrong[:show]:
        want = truth[m.incoming_id]
        print(f"    wrong: {inc[m.incoming_id]}\n        -> {ex[m.existing_id]}")
        print(f"        truth {ex[want] if want else None}")
    return {"precision": precision, "recall": recall, "f1": f1, "ambiguous": ambiguous}


def main() -> None:
    n_existing = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    show = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    print(
        f"matching quality: {n_existing} existing per set, one configuration for all sets; "
        f"target precision >= {TARGET_PRECISION}, recall >= {TARGET_RECALL}"
    )
    results = []
    for seed in (1, 2, 3):
        for mix in LOCALE_MIXES:
            results.append(run(seed, mix, n_existing, show))
    worst_p = min(r["precision"] for r in results)
    worst_r = min(r["recall"] for r in results)
    ok = worst_p >= TARGET_PRECISION and worst_r >= TARGET_RECALL
    print(
        f"worst precision {worst_p:.4f}, worst recall {worst_r:.4f} over {len(results)} sets: "
        f"{'target met' if ok else 'TARGET MISSED'}"
    )


if __name__ == "__main__":
    main()
