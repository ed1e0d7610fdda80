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


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """One existing record considered for an incoming one, with the scores that explain why.

    Scores are 0-100. A field score is None when either side has the field empty (it neither
    helps nor hurts). `country` is 100 when both sides normalise to the same ISO alpha-2 code
    and 0 otherwise; `postal_code` is 100 or 0 on the normalised codes; `name`, `city` and
    `address` are rapidfuzz similarities of the normalised values. `score` is the weighted mean
    of the available scores (name 60, country 10, city 15, address 10, postal code 5,
    re-weighted over the fields present). `excluded_by` names the field that ruled the candidate
    out ("country", "city", "postal_code", "address", "name" when a better name won, or
    "numbers" for a product whose number tokens differ), else None.
    """

    existing_id: str
    score: float
    name: float
    country: float | None = None
    city: float | None = None
    address: float | None = None
    postal_code: float | None = None
    excluded_by: str | None = None


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
