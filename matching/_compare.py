"""Field comparisons: each pair of values falls into one comparison level of its field.

Levels per field, strongest agreement first (`LEVELS`); a field empty on either side is
`missing` and carries no weight. The weight of each level (its log2 Bayes factor, m over u) is
in `_model`. Splink's comparison levels are the model (exact / close / token subset / ... /
else); the similarity functions are rapidfuzz's.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from ._index import name_score
from ._normalise import (
    CACHE_SIZE,
    STREET_TYPES,
    address_parts,
    city_key,
    compact,
    country_code,
    fold,
    name_tokens,
    postal_key,
    sorted_key,
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

    __slots__ = (
        "city",
        "city_compact",
        "country",
        "initials",
        "name",
        "name_numbers",
        "name_plain",
        "name_set",
        "name_sorted",
        "numbers",
        "postal",
        "street",
        "street_key",
        "street_words",
    )

    def __init__(self, record: CounterpartRecord) -> None:
        (
            self.name,
            self.name_sorted,
            self.name_plain,
            self.name_set,
            self.name_numbers,
            self.initials,
        ) = _name_features(record.name or "")
        self.country = country_code(record.country)
        self.city, self.city_compact = _city_features(record.city)
        self.numbers, self.street, self.street_key, self.street_words = _address_features(
            record.address
        )
        self.postal = postal_key(record.postal_code)


_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=CACHE_SIZE)
def _name_features(
    name: str,
) -> tuple[tuple[str, ...], str, str, frozenset[str], frozenset[str], bool]:
    tokens = name_tokens(name) if name else ()
    plain = " ".join(tokens)
    numbers = (
        frozenset(t for t in tokens if _DIGIT.search(t)) if _DIGIT.search(plain) else frozenset()
    )
    return (
        tokens,
        sorted_key(tokens),
        plain,
        frozenset(tokens),
        numbers,
        1 in map(len, tokens),
    )


@lru_cache(maxsize=CACHE_SIZE)
def _city_features(city: str | None) -> tuple[str | None, str | None]:
    if not city:
        return None, None
    return city_key(city), compact(fold(city))


@lru_cache(maxsize=CACHE_SIZE)
def _address_features(
    address: str | None,
) -> tuple[frozenset[str], tuple[str, ...], str, frozenset[str]]:
    numbers, street = address_parts(address)
    words = frozenset(t for t in street if len(t) >= 3 and t not in STREET_TYPES)
    return numbers, street, " ".join(street), words


def _same_token(a: str, b: str) -> bool:
    """Two name tokens are one word: equal, one edit apart (4 letters or more), or one a
    prefix of the other of 3 letters or more ("deli" / "delicatessen")."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if la >= 4 and lb >= 4 and -2 < la - lb < 2 and _osa(a, b, score_cutoff=1) <= 1:
        return True
    if la <= lb:
        return la >= 3 and b.startswith(a)
    return lb >= 3 and a.startswith(b)


def _covered(short: tuple[str, ...], long: tuple[str, ...]) -> tuple[int, bool]:
    """(how many tokens of `short` have their own matching token in `long`, whether one of
    those is a word of 4 letters or more)."""
    if set(short).issubset(long) and len(set(short)) == len(short):
        return len(short), any(len(t) >= 4 for t in short)
    used: set[int] = set()
    hits = 0
    long_hit = False
    for tok in short:
        for j, other in enumerate(long):
            if j not in used and _same_token(tok, other):
                used.add(j)
                hits += 1
                long_hit = long_hit or len(tok) >= 4
                break
    return hits, long_hit


def name_level(mine: Features, theirs: Features) -> tuple[int, float]:
    """(level, similarity 0-100) of two names. Levels: exact (100 after token sort and
    initials), close (>= 90), similar (>= 80; `name_score`, optimal string alignment),
    token_subset (every word of the shorter name is in the longer: "Katsu" / "Restaurant
    Katsu", "White" / "Mitchell White", "Arts Deli" / "Arts Delicatessen"), token_shared (a
    word of 4 letters or more in common), different."""
    a, b = mine.name, theirs.name
    if not a or not b:
        return MISSING, 0.0
    if mine.name_sorted == theirs.name_sorted:
        return 0, 100.0
    if mine.initials or theirs.initials:
        score = name_score(a, b)
    else:
        score = 100.0 * max(
            _osa_sim(mine.name_sorted, theirs.name_sorted),
            _osa_sim(mine.name_plain, theirs.name_plain),
        )
    if score >= 90.0:
        return (0 if score >= 99.999 else 1), score
    if score >= 80.0:
        return 2, score
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    hits, long_hit = _covered(short, long)
    if hits == len(short) and max(map(len, short)) >= 3:
        return 3, score
    return (4 if long_hit else 5), score


def compare(mine: Features, theirs: Features) -> tuple[tuple[int, float], ...]:
    """(level, similarity 0-100) per field of `FIELDS`; level `MISSING` where either side is
    empty. A known different country is level 1 ("different"): the caller rules it out."""
    name = name_level(mine, theirs)

    if mine.country and theirs.country:
        country = (0, 100.0) if mine.country == theirs.country else (1, 0.0)
    else:
        country = _MISSING

    a, b = mine.city_compact, theirs.city_compact
    if a and b:
        if a == b:
            city = (0, 100.0)
        else:
            sim = 100.0 * _osa_sim(a, b)
            if sim >= 80.0 or _token_set(mine.city, theirs.city) == 100.0:
                city = (1, sim)
            else:
                city = (2, sim)
    else:
        city = _MISSING

    address = _address_level(mine, theirs)

    a, b = mine.postal, theirs.postal
    if a and b:
        if a == b:
            postal = (0, 100.0)
        elif len(a) == len(b) and _osa(a, b, score_cutoff=1) <= 1:
            postal = (1, 0.0)
        else:
            postal = (2, 0.0)
    else:
        postal = _MISSING
    return name, country, city, address, postal


_MISSING = (MISSING, 0.0)
_osa = OSA.distance
_osa_sim = OSA.normalized_similarity
_token_set = fuzz.token_set_ratio


def _address_level(mine: Features, theirs: Features) -> tuple[int, float]:
    if not (mine.numbers or mine.street) or not (theirs.numbers or theirs.street):
        return _MISSING
    if mine.numbers and theirs.numbers:
        numbers = 1 if not mine.numbers.isdisjoint(theirs.numbers) else -1
    else:
        numbers = 0
    a, b = mine.street_key, theirs.street_key
    if a and b:
        sim = 100.0 if a == b else fuzz.token_sort_ratio(a, b)
        if sim < 90.0 and not mine.street_words.isdisjoint(theirs.street_words):
            sim = max(sim, _token_set(a, b))
    elif a or b:
        sim = 0.0
    else:  # numbers only on both sides
        return (0, 100.0) if numbers == 1 else (5, 0.0)
    if numbers == 1:
        if sim >= 90.0:
            return 0, sim
        return (1, sim) if sim >= 60.0 else (4, sim)
    if sim >= 85.0:
        return (2, sim) if numbers == 0 else (3, sim)
    return 5, sim
