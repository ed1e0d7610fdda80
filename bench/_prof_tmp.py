import time

from bench._data import LOCALE_MIXES, labelled_counterparts
from matching import NAME_THRESHOLD, CounterpartIndex, match_counterparts
from matching._index import scored
from matching._normalise import name_tokens

ex, inc, truth = labelled_counterparts(
    11, LOCALE_MIXES["uk-heavy"], 100000, share_with_counterpart=0.8
)
inc = inc[:20000]
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
t4 = time.perf_counter()
ms = match_counterparts(inc, idx, workers=2)
print("workers=2", time.perf_counter() - t4)
