import resource
import time

from bench._data import LOCALE_MIXES, labelled_counterparts
from matching import CounterpartIndex, match_counterparts

t = time.perf_counter()
ex, inc, truth = labelled_counterparts(
    11, LOCALE_MIXES["uk-heavy"], 100000, share_with_counterpart=0.8
)
print("gen", time.perf_counter() - t, len(ex), len(inc))
t = time.perf_counter()
idx = CounterpartIndex(ex)
t1 = time.perf_counter()
ms = match_counterparts(inc[:100000], idx)
t2 = time.perf_counter()
print(
    f"build {t1 - t:.2f} match {t2 - t1:.2f} rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
)
