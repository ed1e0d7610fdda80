import sys
import time

from bench._data import LOCALE_MIXES, labelled_counterparts
from matching import NAME_THRESHOLD, CounterpartIndex, match_counterparts
from matching._index import scored
from matching._normalise import name_tokens

ex, inc, truth = labelled_counterparts(
    7, LOCALE_MIXES[sys.argv[1]], 10000, share_with_counterpart=0.8
)
for _ in range(2):
    t = time.perf_counter()
    idx = CounterpartIndex(ex)
    t1 = time.perf_counter()
    toks = [name_tokens(r.name) for r in inc]
    t2 = time.perf_counter()
    n = 0
    for tk in toks:
        n += len(idx.names.candidates(tk))
    t3 = time.perf_counter()
    for tk in toks:
        scored(idx.names, tk, NAME_THRESHOLD)
    t3b = time.perf_counter()
    ms = match_counterparts(inc, idx)
    t4 = time.perf_counter()
    print(
        f"build {t1 - t:.3f} norm {t2 - t1:.3f} cands {t3 - t2:.3f} ({n / len(inc):.1f}/q) "
        f"scored {t3b - t3:.3f} match {t4 - t3b:.3f}"
    )
import cProfile
import pstats

from matching import _normalise as N

for f in (N.address_key, N.city_key, N.postal_key, N.country_code):
    f.cache_clear()
idx = CounterpartIndex(ex)
cProfile.run("match_counterparts(inc, idx)", "/tmp/p.out")
pstats.Stats("/tmp/p.out").sort_stats("tottime").print_stats(16)
