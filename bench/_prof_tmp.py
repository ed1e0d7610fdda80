import gc
import time

from bench._data import LOCALE_MIXES, labelled_counterparts
from matching import CounterpartIndex, match_counterparts

ex, inc, truth = labelled_counterparts(
    11, LOCALE_MIXES["uk-heavy"], 100000, share_with_counterpart=0.8
)
inc = inc[:30000]
for label, w, freeze in [
    ("serial", 1, False),
    ("serial-gcfreeze", 1, True),
    ("w2", 2, False),
    ("w2-gcfreeze", 2, True),
]:
    idx = CounterpartIndex(ex)
    if freeze:
        gc.freeze()
    t = time.perf_counter()
    match_counterparts(inc, idx, workers=w)
    print(label, round(time.perf_counter() - t, 2), gc.get_stats()[2])
    if freeze:
        gc.unfreeze()
