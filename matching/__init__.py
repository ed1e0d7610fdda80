"""Matching of provider records to the entity's own: counterparts and products. Pure: no I/O.

Rules (Monite's accounting integration):

- Monite: counterparts are matched on their names, countries, cities and addresses; a pull
  never creates a counterpart. Monite's order (name, country, city, address, postal code) is
  the order in which fields break ties and in which a decision is explained.
- Monite: products are matched on names alone; a product is created and linked where none
  matches; several matches link nothing and report an error.

Counterparts (`match_counterparts`), record linkage as Fellegi and Sunter defined it and splink
computes it:

- Normalisation: case, accents, punctuation, `&`/"and", legal forms at the end (Ltd, GmbH,
  S.A., Pty Ltd, ...), a leading or trailing "The", common abbreviations; countries to ISO
  3166 alpha-2 with pycountry; addresses split into house numbers and street words.
- Blocking (`_counterparts`): a candidate is any existing record reached by the name (words
  within one edit), a rare word one name holds all of, the postal code, or a street number
  with a street word, so one damaged field never loses a pair.
- Comparison levels per field (`LEVELS`: exact / close / similar / token subset / token shared
  / different for names, exact / close / different for cities and postal codes, six for
  addresses; missing when either side is empty, weight 0), each with a weight log2(m/u) in
  bits (`WEIGHTS`). m and u were estimated from labelled data (febrl1-2, the Fodor's/Zagat
  restaurant guides, one generator seed) by `python -m bench.calibrate_matching` and are
  shipped fixed (`_model`).
- Decision: the best candidate links when its total reaches `LINK_WEIGHT` and leads the next by
  `MARGIN` bits, unless its name shares no word with ours (an address alone never links two
  names) or it is in another city with neither street address nor postal code agreeing; from
  `REVIEW_WEIGHT` up a person decides (`ambiguous`); below, `unmatched`. A known different
  country, or another number in the name ("AI Support 2"), rules a candidate out.
- One-to-one: one existing counterpart is never linked to two incoming records.

Products (`match_products`): `fuzz.ratio` of token-sorted names at least `PRODUCT_THRESHOLD`,
the same number tokens, within `NAME_MARGIN` of the best.

Quality on public labelled data: `python -m bench.matching_quality`; speed against
`rapidfuzz.process.cdist`: `python -m bench.matching_speed`. Build a `CounterpartIndex` /
`ProductIndex` once to match the hourly pull's changed records against it.
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
