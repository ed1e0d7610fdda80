"""The public entry points: counterparts (`_counterparts`) and products by name; one-to-one,
claimed records and the optional process pool shared by both."""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
from collections.abc import Callable, Collection, Sequence
from typing import Any

import msgspec

from ._counterparts import MAX_CANDIDATES, CounterpartIndex, match_one
from ._gc import gc_paused
from ._index import NameIndex, scored
from ._normalise import product_tokens
from ._types import Candidate, CounterpartRecord, Match, ProductRecord

NAME_MARGIN = 5.0
"""Products: candidates whose name scores within this many points of the best stay in the
running; a name better by more than this wins outright."""
PRODUCT_THRESHOLD = 90.0
"""A product candidate needs a name score of at least this, and the same number tokens."""

_DIGITS = re.compile(r"\d")


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


def _strength(match: Match) -> tuple[float, float]:
    """A claim's strength: the linked candidate's match weight, then its score."""
    for c in match.candidates:
        if c.existing_id == match.existing_id:
            return c.weight, c.score
    return 0.0, match.score


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
    matched on their names, countries, cities and addresses, in that order; a pull never
    creates a counterpart (so `unmatched` creates nothing). Here every field's evidence is
    weighed together (Fellegi-Sunter, as splink does it):

    1. candidates: every existing record reached by a blocking key (name tokens within one
       edit, a rare name token in common, postal code + street number, street number + street
       word, postal code + street word), so one damaged field never loses a pair;
    2. each candidate's fields fall into comparison levels (`LEVELS`: exact, close,
       token subset, ..., different; missing when either side is empty) whose weights,
       log2(m/u) in bits, are estimated from labelled data and shipped (`_model`); the total
       is their sum. A known different country rules a candidate out; a different city,
       address or postal code only weighs against it (a district is not another city);
    3. the best candidate is `matched` when its total is at least `LINK_WEIGHT` and `MARGIN`
       bits ahead of the next; otherwise candidates at `REVIEW_WEIGHT` or more make the record
       `ambiguous` (a person chooses); none is `unmatched`. Ties are broken by the fields in
       Monite's order (name, country, city, address, postal code), and each `Candidate` lists
       every field's level and weight in that order.

    One existing counterpart is never linked to two incoming records: the stronger claim (the
    higher weight) keeps it and the weaker becomes `ambiguous` (equal claims both do).
    `claimed` lists existing ids already linked to other records (earlier pulls); a match to
    one of them is `ambiguous` too. `existing` may be a list or a `CounterpartIndex` built once
    and reused. Raises nothing for odd input (an empty name is `unmatched`).

    `workers` (as rapidfuzz's `cdist`): 1 runs here; -1 (one per CPU) or n split inputs of
    `PARALLEL_MIN` records or more over forked processes. Forking: use it from a process with
    no other threads running (a CLI command or a dedicated worker), not inside the web app.
    """
    index = existing if isinstance(existing, CounterpartIndex) else CounterpartIndex(existing)
    with gc_paused():
        out = _one_to_one(_run(match_one, index, incoming, workers))
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
    with gc_paused():
        out = _one_to_one(_run(_match_one_product, index, incoming, workers))
    if claimed:
        taken = set(claimed)
        out = [_claimed(m, taken) for m in out]
    return out
