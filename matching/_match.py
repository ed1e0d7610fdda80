"""The cascade: counterparts by name, country, city and address; products by name."""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
from collections.abc import Callable, Collection, Sequence
from typing import Any

import msgspec
from rapidfuzz import fuzz

from ._index import NameIndex, scored
from ._normalise import (
    address_key,
    city_key,
    country_code,
    name_tokens,
    postal_key,
    product_tokens,
)
from ._types import Candidate, CounterpartRecord, Match, ProductRecord

NAME_THRESHOLD = 80.0
"""A counterpart candidate needs a name score (0-100) of at least this."""
NAME_MARGIN = 5.0
"""Candidates whose name scores within this many points of the best stay in the running; a
name better by more than this wins outright."""
CITY_THRESHOLD = 80.0
"""Two known cities agree when `fuzz.token_set_ratio` of the folded cities is at least this."""
ADDRESS_MARGIN = 10.0
"""When several candidates remain, those whose known address scores more than this many points
below the best known address are dropped."""
ADDRESS_CONFLICT = 60.0
"""Where a city is missing on either side, a candidate whose postal code differs and whose
address scores below this is elsewhere (out)."""
PRODUCT_THRESHOLD = 90.0
"""A product candidate needs a name score of at least this, and the same number tokens."""
MAX_CANDIDATES = 5
"""How many candidates a `Match` reports."""

_WEIGHTS = {"name": 60.0, "country": 10.0, "city": 15.0, "address": 10.0, "postal_code": 5.0}
_DIGITS = re.compile(r"\d")


class _Fields:
    __slots__ = ("address", "city", "country", "postal_code")

    def __init__(self, record: CounterpartRecord) -> None:
        self.country = country_code(record.country)
        self.city = city_key(record.city)
        self.address = address_key(record.address)
        self.postal_code = postal_key(record.postal_code)


class CounterpartIndex:
    """Existing counterparts prepared once for matching (normalised names and the blocking
    index); pass it to `match_counterparts` instead of the list to reuse it across calls (the
    hourly pull of changed records). Other fields are normalised lazily, per candidate.
    Immutable once built; building 100,000 records takes about a second."""

    __slots__ = ("_fields", "names", "records")

    def __init__(self, existing: Sequence[CounterpartRecord]) -> None:
        self.records: tuple[CounterpartRecord, ...] = tuple(existing)
        self.names = NameIndex((r.name for r in self.records), name_tokens)
        self._fields: dict[int, _Fields] = {}

    def __len__(self) -> int:
        return len(self.records)

    def fields(self, row: int) -> _Fields:
        got = self._fields.get(row)
        if got is None:
            got = self._fields[row] = _Fields(self.records[row])
        return got


class ProductIndex:
    """Existing products prepared once for matching; see `CounterpartIndex`."""

    __slots__ = ("names", "records")

    def __init__(self, existing: Sequence[ProductRecord]) -> None:
        self.records: tuple[ProductRecord, ...] = tuple(existing)
        self.names = NameIndex((r.name for r in self.records), product_tokens)

    def __len__(self) -> int:
        return len(self.records)


class _Cand:
    __slots__ = ("address", "city", "country", "excluded_by", "name", "postal_code", "row", "total")

    def __init__(self, row: int, name: float) -> None:
        self.row = row
        self.name = name
        self.country: float | None = None
        self.city: float | None = None
        self.address: float | None = None
        self.postal_code: float | None = None
        self.excluded_by: str | None = None
        self.total = 0.0

    def public(self, records: Sequence[CounterpartRecord] | Sequence[ProductRecord]) -> Candidate:
        return Candidate(
            existing_id=records[self.row].id,
            score=self.total,
            name=round(self.name, 2),
            country=self.country,
            city=None if self.city is None else round(self.city, 2),
            address=None if self.address is None else round(self.address, 2),
            postal_code=self.postal_code,
            excluded_by=self.excluded_by,
        )


def _exclude(cands: list[_Cand], field: str, keep: list[_Cand]) -> list[_Cand]:
    kept = set(map(id, keep))
    for c in cands:
        if id(c) not in kept and c.excluded_by is None:
            c.excluded_by = field
    return keep


def _decide(
    incoming_id: str,
    cands: list[_Cand],
    alive: list[_Cand],
    records: Sequence[CounterpartRecord] | Sequence[ProductRecord],
    why_unmatched: str,
) -> tuple[Match, int | None]:
    cands.sort(key=lambda c: (c.excluded_by is not None, -c.total, -c.name))
    shown = tuple(c.public(records) for c in cands[:MAX_CANDIDATES])
    if len(alive) == 1:
        winner = alive[0]
        return (
            Match(
                incoming_id=incoming_id,
                outcome="matched",
                existing_id=records[winner.row].id,
                score=winner.total,
                candidates=shown,
                reason="one candidate left",
            ),
            winner.row,
        )
    best = cands[0].total if cands else 0.0
    if alive:
        return (
            Match(
                incoming_id=incoming_id,
                outcome="ambiguous",
                score=best,
                candidates=shown,
                reason=f"{len(alive)} candidates left",
            ),
            None,
        )
    return (
        Match(
            incoming_id=incoming_id,
            outcome="unmatched",
            score=best,
            candidates=shown,
            reason=why_unmatched,
        ),
        None,
    )


def _match_one_counterpart(
    index: CounterpartIndex, record: CounterpartRecord
) -> tuple[Match, int | None]:
    hits = scored(index.names, name_tokens(record.name), NAME_THRESHOLD)
    if not hits:
        return Match(
            incoming_id=record.id, outcome="unmatched", reason="no name scores high enough"
        ), None

    mine = _Fields(record)
    w = _WEIGHTS
    cands: list[_Cand] = []
    alive: list[_Cand] = []
    for row, name in hits.items():
        c = _Cand(row, name)
        cands.append(c)
        theirs = index.fields(row)
        num, den = w["name"] * name, w["name"]
        if mine.country and theirs.country:
            c.country = 100.0 if mine.country == theirs.country else 0.0
            num += w["country"] * c.country
            den += w["country"]
        if mine.city and theirs.city:
            c.city = fuzz.token_set_ratio(mine.city, theirs.city)
            num += w["city"] * c.city
            den += w["city"]
        if mine.address and theirs.address:
            c.address = fuzz.token_sort_ratio(mine.address, theirs.address)
            num += w["address"] * c.address
            den += w["address"]
        if mine.postal_code and theirs.postal_code:
            c.postal_code = 100.0 if mine.postal_code == theirs.postal_code else 0.0
            num += w["postal_code"] * c.postal_code
            den += w["postal_code"]
        c.total = round(num / den, 2)
        # A known, different country or city is another company of the same name: out. Where
        # a city is missing, a different postal code together with a different address is too.
        if c.country == 0.0:
            c.excluded_by = "country"
        elif c.city is not None and c.city < CITY_THRESHOLD:
            c.excluded_by = "city"
        elif (
            c.city is None
            and c.postal_code == 0.0
            and c.address is not None
            and c.address < ADDRESS_CONFLICT
        ):
            c.excluded_by = "address"
        else:
            alive.append(c)
    if not alive:
        return _decide(record.id, cands, [], index.records, "every candidate is elsewhere")
    if len(alive) > 1:
        # Names first: a clearly better name wins.
        best = max(c.name for c in alive)
        alive = _exclude(cands, "name", [c for c in alive if c.name >= best - NAME_MARGIN])
    # Then postal code and address, only to separate several candidates.
    if len(alive) > 1 and mine.postal_code:
        keep = [c for c in alive if c.postal_code != 0.0]
        if keep:
            alive = _exclude(cands, "postal_code", keep)
    if len(alive) > 1 and mine.address:
        known = [c.address for c in alive if c.address is not None]
        if known:
            floor = max(known) - ADDRESS_MARGIN
            alive = _exclude(
                cands, "address", [c for c in alive if c.address is None or c.address >= floor]
            )
    return _decide(record.id, cands, alive, index.records, "")


def _strength(match: Match) -> tuple[float, float]:
    """A claim's strength: the total score, then the weight of the fields that agreed or
    disagreed (more evidence at the same score is the stronger claim)."""
    for c in match.candidates:
        if c.existing_id == match.existing_id:
            fields = {
                "country": c.country,
                "city": c.city,
                "address": c.address,
                "postal_code": c.postal_code,
            }
            return match.score, sum(_WEIGHTS[f] for f, v in fields.items() if v is not None)
    return match.score, 0.0


def _one_to_one(results: list[tuple[Match, int | None]]) -> list[Match]:
    """One existing record is never linked to two incoming records: the strongest claim
    (`_strength`) keeps it, weaker and tied claims become ambiguous."""
    claims: dict[int, list[int]] = {}
    for i, (_, row) in enumerate(results):
        if row is not None:
            claims.setdefault(row, []).append(i)
    out = [m for m, _ in results]
    for positions in claims.values():
        if len(positions) < 2:
            continue
        ranked = sorted(positions, key=lambda i: _strength(out[i]), reverse=True)
        top = _strength(out[ranked[0]])
        winner = ranked[0] if _strength(out[ranked[1]]) < top else None
        for i in positions:
            if i != winner:
                m = out[i]
                out[i] = Match(
                    incoming_id=m.incoming_id,
                    outcome="ambiguous",
                    score=m.score,
                    candidates=m.candidates,
                    reason=f"{m.existing_id} is claimed by another incoming record"
                    + (" as strongly" if winner is None else " more strongly"),
                )
    return out


PARALLEL_MIN = 2000
"""With `workers` other than 1, inputs smaller than this still run in this process."""

_Decision = tuple[Match, int | None]
_JOB: tuple[Callable[[Any, Any], _Decision], Any, Sequence[Any]] | None = None


def _work(bounds: tuple[int, int]) -> bytes:
    assert _JOB is not None
    one, index, incoming = _JOB
    start, end = bounds
    return msgspec.msgpack.encode([one(index, incoming[i]) for i in range(start, end)])


def _run(
    one: Callable[[Any, Any], _Decision], index: Any, incoming: Sequence[Any], workers: int
) -> list[_Decision]:
    """`one(index, record)` for every incoming record, in order; with `workers` != 1 (-1: one
    per CPU) large inputs are split over forked processes that inherit the prepared index
    (rapidfuzz's `extract` holds the GIL, so threads would not help)."""
    n = (os.cpu_count() or 1) if workers < 0 else workers
    n = min(n, len(incoming) // (PARALLEL_MIN // 2) or 1)
    if n <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [one(index, r) for r in incoming]
    global _JOB
    _JOB = (one, index, incoming)
    gc.freeze()  # the workers then share the existing objects instead of copying them
    try:
        step = -(-len(incoming) // n)
        bounds = [(i, min(i + step, len(incoming))) for i in range(0, len(incoming), step)]
        with multiprocessing.get_context("fork").Pool(n) as pool:
            parts = pool.map(_work, bounds)
    finally:
        _JOB = None
        gc.unfreeze()
    decoder = msgspec.msgpack.Decoder(list[tuple[Match, int | None]])
    out: list[_Decision] = []
    for part in parts:
        out.extend(decoder.decode(part))
    return out


def _claimed(match: Match, claimed: Collection[str]) -> Match:
    if match.outcome != "matched" or match.existing_id not in claimed:
        return match
    return Match(
        incoming_id=match.incoming_id,
        outcome="ambiguous",
        score=match.score,
        candidates=match.candidates,
        reason=f"{match.existing_id} is already linked to another record",
    )


def match_counterparts(
    incoming: Sequence[CounterpartRecord],
    existing: Sequence[CounterpartRecord] | CounterpartIndex,
    *,
    claimed: Collection[str] = (),
    workers: int = 1,
) -> list[Match]:
    """Match incoming counterparts (provider contacts) to existing ones.

    Returns one `Match` per incoming record, in the same order. Monite: counterparts are
    matched on their names, countries, cities and addresses, in that order, until there is one
    match; a pull never creates a counterpart (so `unmatched` creates nothing). The cascade:

    1. candidates: existing names scoring at least `NAME_THRESHOLD` (see `name_score`:
       optimal-string-alignment similarity of normalised names, token-sorted or in order,
       initials expanded), found through the blocking index (`_index`);
    2. a candidate whose country (ISO alpha-2) or city is known on both sides and differs is
       out: the same name elsewhere is another company (the issue's narrowing by country and
       city, applied even to a single candidate, for precision); where a city is missing, a
       known different postal code together with an address scoring below
       `ADDRESS_CONFLICT` rules a candidate out the same way;
    3. of the rest, those within `NAME_MARGIN` of the best name survive;
    4. if several survive, a known different postal code, then a known address more than
       `ADDRESS_MARGIN` below the best known address, rule candidates out;
    5. exactly one survivor is `matched`; several are `ambiguous`; none is `unmatched`.

    An empty field neither helps nor hurts (it never rules a candidate out). One existing
    counterpart is never linked to two incoming records: the stronger claim keeps it (higher
    total score, then more fields compared) and the weaker becomes `ambiguous` (equal claims
    both do). `claimed` lists existing ids already linked to other records (earlier pulls); a
    match to one of them is `ambiguous` too. `existing` may be a list or a `CounterpartIndex`
    built once and reused. Raises nothing for odd input (an empty name is `unmatched`).

    `workers` (as rapidfuzz's `cdist`): 1 runs here; -1 (one per CPU) or n split inputs of
    `PARALLEL_MIN` records or more over forked processes. Forking: use it from a process with
    no other threads running (a CLI command or a dedicated worker), not inside the web app.
    """
    index = existing if isinstance(existing, CounterpartIndex) else CounterpartIndex(existing)
    results = _run(_match_one_counterpart, index, incoming, workers)
    out = _one_to_one(results)
    if claimed:
        taken = set(claimed)
        out = [_claimed(m, taken) for m in out]
    return out


def _numbers(tokens: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t for t in tokens if _DIGITS.search(t))


def _match_one_product(index: ProductIndex, record: ProductRecord) -> tuple[Match, int | None]:
    tokens = product_tokens(record.name)
    numbers = _numbers(tokens)
    names = index.names.tokens
    cands: list[_Cand] = []
    for row, score in scored(index.names, tokens, PRODUCT_THRESHOLD).items():
        c = _Cand(row, score)
        c.total = round(score, 2)
        if _numbers(names[row]) != numbers:
            c.excluded_by = "numbers"
        cands.append(c)
    alive = [c for c in cands if c.excluded_by is None]
    if alive:
        best = max(c.name for c in alive)
        alive = _exclude(cands, "name", [c for c in alive if c.name >= best - NAME_MARGIN])
    return _decide(record.id, cands, alive, index.records, "no product name scores high enough")


def match_products(
    incoming: Sequence[ProductRecord],
    existing: Sequence[ProductRecord] | ProductIndex,
    *,
    claimed: Collection[str] = (),
    workers: int = 1,
) -> list[Match]:
    """Match incoming products (provider items) to existing products by name alone.

    Returns one `Match` per incoming record, in the same order. Monite: products are matched on
    names alone; where none matches a product is created and linked (the caller does that for
    `unmatched`), and several matches link nothing and report an error (`ambiguous`).

    A candidate needs a name score of at least `PRODUCT_THRESHOLD` (token-sorted `fuzz.ratio`
    of names folded for case, accents, punctuation and whitespace) and the same tokens that
    hold digits ("Licence 2024" never matches "Licence 2025"); those within `NAME_MARGIN` of
    the best survive. One existing product is never linked to two incoming items (the weaker
    claim becomes `ambiguous`); `claimed` and `workers` as in `match_counterparts`.
    """
    index = existing if isinstance(existing, ProductIndex) else ProductIndex(existing)
    out = _one_to_one(_run(_match_one_product, index, incoming, workers))
    if claimed:
        taken = set(claimed)
        out = [_claimed(m, taken) for m in out]
    return out
