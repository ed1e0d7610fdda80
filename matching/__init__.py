"""Matching of provider records to the entity's own: counterparts and products. Pure: no I/O.

Rules (Monite's accounting integration):

- Monite: counterparts are matched on their names, countries, cities and addresses, in that
  order, until there is one match; a pull never creates a counterpart.
- Monite: products are matched on names alone; a product is created and linked where none
  matches; several matches link nothing and report an error.

How (`match_counterparts`, `match_products`):

- Names are normalised before scoring: case, accents, punctuation, whitespace, `&`/"and",
  legal forms at the end (Ltd, Limited, LLC, Inc, GmbH, S.A., B.V., Pty Ltd, ...), a leading
  "The", common abbreviations (Intl, Bros, Mfg, ...). Countries become ISO 3166 alpha-2 with
  pycountry ("United Kingdom", "UK", "GB" and "gb" are one country).
- Cheap scorer (finds candidates): `fuzz.ratio` of the normalised names, token-sorted and in
  order, cut-off 70, over the names that share a token within one edit (blocking).
- Finer scorer (on those only): optimal-string-alignment similarity (a typo or a swap of two
  letters costs 1) of the names token-sorted or in order, whichever is higher, with one-letter
  initials expanded from the other name ("J Smith" ~ "John Smith").
- Thresholds (0-100): counterpart names `NAME_THRESHOLD` = 80, products `PRODUCT_THRESHOLD`
  = 90 with equal number tokens; names within `NAME_MARGIN` = 5 of the best stay in the
  running; cities agree at `CITY_THRESHOLD` = 80 (`token_set_ratio`); addresses separate
  candidates by more than `ADDRESS_MARGIN` = 10. One configuration for every data set: the
  quality bench reaches precision >= 0.999 and recall >= 0.98 on nine labelled sets.
- A known, different country or city rules a candidate out (the same name in another city is
  another company); an empty field never does.
- Outcomes: `matched` (exactly one candidate left), `ambiguous` (several left, or the existing
  record is claimed more strongly by another incoming record), `unmatched` (none).

Speed: names are blocked by tokens within one edit (see `_index`) and scored with rapidfuzz
`process.extract` in C loops (`process.cdist` would need numpy, which is not a dependency);
no score matrix is built, memory is O(existing). `workers=-1` splits large inputs over forked
processes. Build a `CounterpartIndex` / `ProductIndex` once to match the hourly pull's
changed records against it. Figures: `python -m bench.matching_speed`; quality on labelled
data: `python -m bench.matching_quality`.
"""

from ._compare import FIELDS, LEVELS
from ._counterparts import (
    LINK_WEIGHT,
    MARGIN,
    PRIOR_WEIGHT,
    REVIEW_WEIGHT,
    WEIGHTS,
    CounterpartIndex,
)
from ._match import NAME_MARGIN, PRODUCT_THRESHOLD, ProductIndex, match_counterparts, match_products
from ._normalise import country_code, name_tokens
from ._types import Candidate, CounterpartRecord, FieldComparison, Match, Outcome, ProductRecord

__all__ = [
    "FIELDS",
    "LEVELS",
    "LINK_WEIGHT",
    "MARGIN",
    "NAME_MARGIN",
    "PRIOR_WEIGHT",
    "PRODUCT_THRESHOLD",
    "REVIEW_WEIGHT",
    "WEIGHTS",
    "Candidate",
    "CounterpartIndex",
    "CounterpartRecord",
    "FieldComparison",
    "Match",
    "Outcome",
    "ProductIndex",
    "ProductRecord",
    "country_code",
    "match_counterparts",
    "match_products",
    "name_tokens",
]
