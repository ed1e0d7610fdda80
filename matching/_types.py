"""Records in and decisions out: the msgspec structs of the public interface."""

from __future__ import annotations

from typing import Literal

import msgspec

Outcome = Literal["matched", "ambiguous", "unmatched"]
"""`matched`: linked to `Match.existing_id`; `ambiguous`: several candidates, none linked;
`unmatched`: no candidate."""


class CounterpartRecord(msgspec.Struct, frozen=True):
    """A counterpart on either side: an incoming provider contact or an existing counterpart.

    `country` may be a name, alpha-2 or alpha-3 code in any case ("United Kingdom", "UK", "GB",
    "gb"); it is normalised to ISO 3166 alpha-2 with pycountry. Every field but `id` and `name`
    may be None or empty: an empty field neither helps nor hurts a candidate.
    """

    id: str
    name: str
    country: str | None = None
    city: str | None = None
    address: str | None = None
    postal_code: str | None = None


class ProductRecord(msgspec.Struct, frozen=True):
    """A product on either side: an incoming provider item or an existing product."""

    id: str
    name: str


class FieldComparison(msgspec.Struct, frozen=True, kw_only=True):
    """How one field of a candidate compares with the incoming record.

    `field` is one of name, country, city, address, postal_code; `level` the comparison level
    ("exact", "close", "token_subset", "different", ... see `matching.LEVELS`) or "missing"
    when either side is empty; `weight` the level's match weight in bits (log2 of m/u:
    positive is evidence for the same counterpart, negative against, 0 for missing).
    """

    field: str
    level: str
    weight: float


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """One existing record considered for an incoming one, with the evidence that explains why.

    Counterparts (Fellegi-Sunter): `weight` is the total match weight in bits, the sum of the
    fields' weights; `fields` gives each field's comparison level and weight in Monite's order
    (name, country, city, address, postal code); `score` (0-100) is the match probability
    that weight gives against `matching.PRIOR_WEIGHT` (one true pair in about a thousand).
    `name`, `country`, `city`, `address` and `postal_code` are the fields' similarities
    (0-100, rapidfuzz on the normalised values; None where either side is empty). Products:
    `score` and `name` are the name similarity. `excluded_by` says what ruled the candidate
    out: "country" (a known different country), "numbers" (the words holding digits differ:
    "AI Support 2" is not "AI Support"; products too), "weight" (total below the review
    weight), the first field in Monite's order on which the linked record is stronger
    ("name", "city", "address", "postal_code"), or None.
    """

    existing_id: str
    score: float
    name: float
    country: float | None = None
    city: float | None = None
    address: float | None = None
    postal_code: float | None = None
    excluded_by: str | None = None
    weight: float = 0.0
    fields: tuple[FieldComparison, ...] = ()


class Match(msgspec.Struct, frozen=True, kw_only=True):
    """The decision for one incoming record.

    `existing_id` is set only when `outcome == "matched"`. `score` is the linked candidate's
    total score when matched, else the best candidate's (0 when there is none). `candidates`
    holds the best few (at most 5), best first. `reason` is a short English explanation.
    """

    incoming_id: str
    outcome: Outcome
    existing_id: str | None = None
    score: float = 0.0
    candidates: tuple[Candidate, ...] = ()
    reason: str = ""
