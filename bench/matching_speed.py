"""Counterpart matching speed: 10k x 10k, 100k x 100k, 100 changed records against 100k.

Run: `.venv/bin/python -m bench.matching_speed` (from the repository root, with the bench
extra installed: numpy for the floor; about 4 minutes). Each case runs in its own subprocess so
peak RSS figures do not mix; RSS is `getrusage(...).ru_maxrss` of the case process (and of its
largest forked worker). Data: the labelled generator of the quality bench (`bench._data`, seed
11, "uk-heavy" mix, which has the most common surnames). Timed: building the index from the
existing list plus matching every incoming record, plus the garbage collection the matcher
defers (it pauses the cyclic collector while it builds and matches; data generation not
timed). Floor, in the
same run: `rapidfuzz.process.cdist` of the names alone with `fuzz.token_sort_ratio`,
`workers=-1` and `score_cutoff=80` (what a plain all-pairs name comparison costs; it decides
nothing about the other fields); for 100k it is measured on a slice and extrapolated, and says
so. Ratios below 1 mean the matcher is faster than the floor.
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
from rapidfuzz import fuzz, process

from matching import CounterpartIndex, _normalise, match_counterparts

from ._data import LOCALE_MIXES, labelled_counterparts

TARGETS = {"10k": 1.0, "100k": 60.0, "delta": 0.050}
_NAMES: list[str] = []


def _data(n: int) -> tuple[list, list]:
    existing, incoming, _ = labelled_counterparts(
        11, LOCALE_MIXES["uk-heavy"], n, share_with_counterpart=0.8
    )
    return existing[:n], incoming[:n]


def _plain_scan(queries: list[str], choices: list[str], rows: int) -> float:
    """Seconds for `rapidfuzz.process.cdist` of the first `rows` queries against every choice
    (`fuzz.token_sort_ratio`, `workers=-1`, `score_cutoff`=80, uint8 scores), in slices of
    1,000 rows so that the score matrix of a slice fits in memory."""
    t0 = time.perf_counter()
    for start in range(0, rows, 1000):
        process.cdist(
            queries[start : min(start + 1000, rows)],
            choices,
            scorer=fuzz.token_sort_ratio,
            processor=None,
            score_cutoff=80,
            dtype=np.uint8,
            workers=-1,
        )
    return time.perf_counter() - t0


def _cold() -> None:
    """Forget normalisation caches, so every timed run starts cold."""
    from matching import _compare

    for f in (
        _compare._name_features,
        _compare._city_features,
        _compare._address_features,
        _normalise.name_tokens,
        _normalise.country_code,
        _normalise.city_key,
        _normalise.address_parts,
        _normalise.postal_key,
    ):
        f.cache_clear()
    gc.collect()


def _rss_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def _full(n: int, plain_rows: int | None) -> None:
    workers = os.cpu_count() or 1
    t0 = time.perf_counter()
    existing, incoming = _data(n)
    gen = time.perf_counter() - t0
    timings = {}
    for w in (1, -1):
        matches = index = None
        _cold()
        t0 = time.perf_counter()
        index = CounterpartIndex(existing)
        gc.collect()  # the collection the build deferred (matching pauses the collector)
        built = time.perf_counter() - t0
        matches = match_counterparts(incoming, index, workers=w)
        gc.collect()
        timings[w] = (built, time.perf_counter() - t0)
    outcomes = {o: sum(1 for m in matches if m.outcome == o) for o in ("matched", "ambiguous")}
    me, kids = _rss_mb()
    label = f"{n // 1000}k"
    target = TARGETS[label]
    best = timings[-1][1]
    print(
        f"{label} x {label}: {len(existing)} existing, {len(incoming)} incoming "
        f"(generated in {gen:.1f} s, not timed); matched {outcomes['matched']}, "
        f"ambiguous {outcomes['ambiguous']}"
    )
    print(
        f"  index build {timings[1][0]:.2f} s; build + match: workers=1 {timings[1][1]:.2f} s, "
        f"workers=-1 ({workers} processes) {best:.2f} s  "
        f"[target <= {target:.0f} s: {'met' if best <= target else 'MISSED'}]"
    )
    print(f"  peak RSS: case process {me:.0f} MB, largest forked worker {kids:.0f} MB")
    names_in = [r.name for r in incoming]
    names_ex = [r.name for r in existing]
    rows = plain_rows or len(names_in)
    plain = _plain_scan(names_in, names_ex, rows)
    if plain_rows:
        whole = plain * len(names_in) / rows
        print(
            f"  floor: process.cdist(token_sort_ratio, workers=-1, score_cutoff=80) on names "
            f"only: EXTRAPOLATED from {rows} rows measured in {plain:.2f} s -> {whole:.0f} s "
            f"for all {len(names_in)} rows; ours/floor {best / whole:.3f}"
        )
    else:
        print(
            f"  floor: process.cdist(token_sort_ratio, workers=-1, score_cutoff=80) on names "
            f"only, measured: {plain:.2f} s; ours/floor {best / plain:.2f}"
        )


def _delta() -> None:
    existing, incoming = _data(100_000)
    _cold()
    t0 = time.perf_counter()
    index = CounterpartIndex(existing)
    gc.collect()  # the collection the build deferred (matching pauses the collector)
    built = time.perf_counter() - t0
    times = []
    for k in range(20):
        batch = incoming[k * 100 : (k + 1) * 100]
        t0 = time.perf_counter()
        match_counterparts(batch, index)
        times.append(time.perf_counter() - t0)
    me, _ = _rss_mb()
    target = TARGETS["delta"]
    print(
        f"100 changed x 100k existing (index built once in {built:.2f} s, reused): "
        f"20 batches of 100, first {times[0] * 1000:.1f} ms, median "
        f"{statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms  "
        f"[target <= 50 ms: {'met' if max(times) <= target else 'MISSED'}]; "
        f"peak RSS {me:.0f} MB"
    )


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--case":
        case = sys.argv[2]
        if case == "10k":
            _full(10_000, None)
        elif case == "100k":
            _full(100_000, 4000)
        else:
            _delta()
        return
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"matching speed on {os.cpu_count()} CPUs (each case in its own process); "
        f"load average at start {load} (other work on the machine slows every figure)"
    )
    for case in ("10k", "delta", "100k"):
        subprocess.run([sys.executable, "-m", "bench.matching_speed", "--case", case], check=True)


if __name__ == "__main__":
    main()
