"""Field comparisons: each pair of values falls into one comparison level of its field.

Levels per field, strongest agreement first (`LEVELS`); a field empty on either side is
`missing` and carries no weight. The weight of each level (its log2 Bayes factor, m over u) is
in `_model`. Splink's comparison levels are the model (exact / close / token subset / ... /
else); the similarity functions are rapidfuzz's.
"""

from __future__ import annotations

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from ._index import name_score
from ._normalise import (
    STREET_TYPES,
    address_parts,
    city_key,
    compact,
    country_code,
    name_tokens,
    postal_key,
)
from ._types import CounterpartRecord

LEVELS: dict[str, tuple[str, ...]] = {
    "name": ("exact", "close", "similar", "token_subset", "token_shared", "different"),
    "country": ("exact", "different"),
    "city": ("exact", "close", "different"),
    "address": (
        "exact",
        "number_and_street_close",
        "street_close",
        "street_close_other_number",
        "number_only",
        "different",
    ),
    "postal_code": ("exact", "close", "different"),
}
"""Each field's comparison levels, in order from strongest agreement to disagreement."""

FIELDS = ("name", "country", "city", "address", "postal_code")
"""Monite's order: the order in which fields break ties and in which a decision is explained."""

MISSING = -1
"""The level index of a field empty on either side."""


class Features:
    """One record's normalised fields, computed once (an index keeps them per row)."""

    __slots__ = ("city", "city_compact", "country", "name", "numbers", "postal", "street")

    def __init__(self, record: CounterpartRecord) -> None:
        self.name: tuple[str, ...] = name_tokens(record.name) if record.name else ()
        self.country = country_code(record.country)
        self.city = city_key(record.city)
        self.city_compact = compact(self.city)
        self.numbers, self.street = address_parts(record.address)
        self.postal = postal_key(record.postal_code)


def _same_token(a: str, b: str) -> bool:
    """Two name tokens are one word: equal, one edit apart (4 letters or more), or one a
    prefix of the other of 3 letters or more ("deli" / "delicatessen")."""
    if a == b:
        return True
    if len(a) >= 4 and len(b) >= 4 and OSA.distance(a, b, score_cutoff=1) <= 1:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 3 and long.startswith(short)


def _covered(short: tuple[str, ...], long: tuple[str, ...]) -> int:
    """How many tokens of `short` have their own matching token in `long`."""
    used: set[int] = set()
    hits = 0
    for tok in short:
        for j, other in enumerate(long):
            if j not in used and _same_token(tok, other):
                used.add(j)
                hits += 1
                break
    return hits


def name_level(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[int, float]:
    """(level, similarity 0-100) of two normalised names. Levels: exact (100 after token sort
    and initials), close (>= 90), similar (>= 80; `name_score`, optimal string alignment),
    token_subset (every word of the shorter name is in the longer: "Katsu" / "Restaurant
    Katsu", "White" / "Mitchell White", "Arts Deli" / "Arts Delicatessen"), token_shared (a
    word of 4 letters or more in common), different."""
    if not a or not b:
        return MISSING, 0.0
    score = name_score(a, b)
    if score >= 99.999:
        return 0, score
    if score >= 90.0:
        return 1, score
    if score >= 80.0:
        return 2, score
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    hits = _covered(short, long)
    if hits == len(short) and max(map(len, short)) >= 3:
        return 3, score
    if hits and any(len(t) >= 4 and any(_same_token(t, o) for o in long) for t in short):
        return 4, score
    return 5, score


def compare(mine: Features, theirs: Features) -> tuple[tuple[int, float], ...]:
    """(level, similarity 0-100) per field of `FIELDS`; level `MISSING` where either side is
    empty. A known different country is level 1 ("different"): the caller rules it out."""
    name = name_level(mine.name, theirs.name)

    if mine.country and theirs.country:
        same = mine.country == theirs.country
        country = (0 if same else 1, 100.0 if same else 0.0)
    else:
        country = (MISSING, 0.0)

    if mine.city_compact and theirs.city_compact:
        if mine.city_compact == theirs.city_compact:
            city = (0, 100.0)
        else:
            sim = 100.0 * OSA.normalized_similarity(mine.city_compact, theirs.city_compact)
            subset = fuzz.token_set_ratio(mine.city, theirs.city) == 100.0
            city = (1 if sim >= 80.0 or subset else 2, sim)
    else:
        city = (MISSING, 0.0)

    address = _address_level(mine, theirs)

    if mine.postal and theirs.postal:
        if mine.postal == theirs.postal:
            postal = (0, 100.0)
        else:
            near = len(mine.postal) == len(theirs.postal) and (
                OSA.distance(mine.postal, theirs.postal, score_cutoff=1) <= 1
            )
            postal = (1 if near else 2, 0.0)
    else:
        postal = (MISSING, 0.0)
    return name, country, city, address, postal


def _address_level(mine: Features, theirs: Features) -> tuple[int, float]:
    if not (mine.numbers or mine.street) or not (theirs.numbers or theirs.street):
        return MISSING, 0.0
    if mine.numbers and theirs.numbers:
        numbers = 1 if mine.numbers & theirs.numbers else -1
    else:
        numbers = 0
    if mine.street and theirs.street:
        a, b = " ".join(mine.street), " ".join(theirs.street)
        sim = fuzz.token_sort_ratio(a, b)
        if sim < 90.0 and _informative_overlap(mine.street, theirs.street):
            sim = max(sim, fuzz.token_set_ratio(a, b))
    else:
        sim = 0.0 if mine.street or theirs.street else -1.0
    if sim < 0:  # numbers only on both sides
        return (0, 100.0) if numbers == 1 else (5, 0.0)
    if numbers == 1:
        if sim >= 90.0:
            return 0, sim
        return (1, sim) if sim >= 60.0 else (4, sim)
    if sim >= 85.0:
        return (2, sim) if numbers == 0 else (3, sim)
    return 5, sim


def _informative_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The streets share a word that is not a street type ("st", "rd", "ave", ...)."""
    shared = set(a) & set(b)
    return any(len(t) >= 3 and t not in STREET_TYPES for t in shared)
