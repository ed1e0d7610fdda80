"""Counterparts: blocking on several keys, Fellegi-Sunter weights, the decision.

Candidates come from three kinds of blocking key, so that one damaged field never loses a
pair: the name (tokens within one edit scoring at least `NAME_CANDIDATE`, plus every name that
shares a rare word and holds all of ours or is held by ours: "Katsu" reaches "Restaurant
Katsu"), the postal code alone or with a street number or a street word, and a street number
with a street word. Each candidate is compared field by field (`_compare`); each field's level
carries the weight log2(m/u) shipped in `_model`, and the total decides. At least
`LINK_WEIGHT`, and `MARGIN` bits ahead of the next candidate, links, unless a person must look
(`_needs_person`: names that share no word, or another city with neither the street address
nor the postal code agreeing); at least `REVIEW_WEIGHT` leaves the record for a person
(ambiguous); less is unmatched. A known different country, or another number in the name,
rules a candidate out; every other disagreement only weighs against it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

from ._compare import FIELDS, LEVELS, MISSING, Features, compare
from ._gc import gc_paused
from ._index import NameIndex
from ._model import M_U
from ._normalise import STREET_TYPES
from ._types import Candidate, CounterpartRecord, FieldComparison, Match

LINK_WEIGHT = 11.0
"""Total match weight (bits) a candidate needs to be linked: an exact or close name alone
reaches it; a partial name needs agreeing address or city evidence."""
REVIEW_WEIGHT = 6.0
"""Below `LINK_WEIGHT` but at least this: plausible, left for a person (ambiguous)."""
MARGIN = 5.0
"""The linked candidate leads the next one by at least this many bits (32 times likelier);
otherwise both are left for a person."""
PRIOR_WEIGHT = -10.0
"""log2 prior odds that a candidate is the same counterpart, for `Candidate.score` only."""
NAME_CANDIDATE = 80.0
"""A name scoring at least this (`name_score`, 0-100) makes a candidate."""
RARE_POSTING = 20
"""A name token shared with at most this many existing names makes them all candidates."""
BLOCK_CAP = 20
"""An address blocking key shared by more existing records than this is not used."""
MAX_CANDIDATES = 5
"""How many candidates a `Match` reports (counterparts and products)."""

WEIGHTS: dict[str, tuple[float, ...]] = {
    field: tuple(math.log2(m / u) for m, u in M_U[field]) for field in FIELDS
}
"""field -> weight in bits per comparison level (`LEVELS` order), from `_model.M_U`."""
# Per field, the weights with 0.0 appended, so that level MISSING (-1) weighs nothing.
_W = tuple((*WEIGHTS[f], 0.0) for f in FIELDS)
_WN, _WC, _WCITY, _WA, _WP = _W
# Per field, the public comparison of each level (and of MISSING, last), built once.
_FC = tuple(
    tuple(
        FieldComparison(field=f, level=name, weight=round(w, 2))
        for name, w in zip((*LEVELS[f], "missing"), _W[i], strict=True)
    )
    for i, f in enumerate(FIELDS)
)


def _as_is(tokens: tuple[str, ...]) -> tuple[str, ...]:
    return tokens


def _address_keys(f: Features) -> list[tuple[str, ...]]:
    words = [w for w in f.street if len(w) >= 3 and w not in STREET_TYPES]
    keys: list[tuple[str, ...]] = []
    for n in f.numbers:
        if f.postal:
            keys.append(("p#", f.postal, n))
        keys.extend(("#w", n, w) for w in words)
    if f.postal:
        keys.extend(("pw", f.postal, w) for w in words)
        keys.append(("p", f.postal))
    return keys


class CounterpartIndex:
    """Existing counterparts prepared once for matching: normalised fields and the blocking
    keys (name tokens, postal code + street number, street number + street word, postal code
    + street word). Pass it to `match_counterparts` instead of the list to reuse it across
    calls (the hourly pull of changed records). Immutable once built."""

    __slots__ = ("_address", "features", "names", "records")

    def __init__(self, existing: Sequence[CounterpartRecord]) -> None:
        with gc_paused():
            self._build(existing)

    def _build(self, existing: Sequence[CounterpartRecord]) -> None:
        self.records: tuple[CounterpartRecord, ...] = tuple(existing)
        self.features: list[Features] = [Features(r) for r in self.records]
        # The names' tokens as the features hold them (`name_tokens` of each name): not
        # normalised twice, whatever the normalisation caches still hold.
        self.names = NameIndex((f.name for f in self.features), _as_is)
        address: dict[tuple[str, ...], list[int]] = {}
        for row, f in enumerate(self.features):
            for key in _address_keys(f):
                rows = address.setdefault(key, [])
                if not rows or rows[-1] != row:
                    rows.append(row)
        self._address = address

    def __len__(self) -> int:
        return len(self.records)

    def candidates(self, mine: Features) -> set[int]:
        """Rows reached by any blocking key of `mine`."""
        rows: set[int] = set()
        if mine.name:
            rows.update(self.names.close_rows(mine.name, NAME_CANDIDATE))
            rows |= self.names.rare_rows(mine.name, RARE_POSTING)
        address = self._address
        for key in _address_keys(mine):
            hit = address.get(key)
            if hit and len(hit) <= BLOCK_CAP:
                rows.update(hit)
        return rows


class _Scored:
    __slots__ = ("excluded_by", "key", "levels", "row", "total", "weights")

    def __init__(self, row: int, levels: tuple[tuple[int, float], ...]) -> None:
        self.row = row
        self.levels = levels
        n, c, city, a, p = levels
        self.weights = w = (_WN[n[0]], _WC[c[0]], _WCITY[city[0]], _WA[a[0]], _WP[p[0]])
        if c[0] == 1:
            self.excluded_by: str | None = "country"
            self.total = w[0] + w[2] + w[3] + w[4]
        else:
            self.excluded_by = None
            self.total = w[0] + w[1] + w[2] + w[3] + w[4]
        # Best first; ties broken by the fields in Monite's order (a lower level is
        # stronger; missing, -1, sorts last as 99).
        self.key = (
            c[0] == 1,
            -self.total,
            n[0] if n[0] >= 0 else 99,
            c[0] if c[0] >= 0 else 99,
            city[0] if city[0] >= 0 else 99,
            a[0] if a[0] >= 0 else 99,
        )

    def public(self, records: Sequence[CounterpartRecord]) -> Candidate:
        sims = [None if level == MISSING else round(sim, 2) for level, sim in self.levels]
        return Candidate(
            existing_id=records[self.row].id,
            score=round(100.0 / (1.0 + 2.0 ** -(self.total + PRIOR_WEIGHT)), 2),
            name=sims[0] or 0.0,
            country=sims[1],
            city=sims[2],
            address=sims[3],
            postal_code=sims[4],
            excluded_by=self.excluded_by,
            weight=round(self.total, 2),
            fields=tuple(table[level] for table, (level, _) in zip(_FC, self.levels, strict=True)),
        )


_KEY = operator.attrgetter("key")
_NAME_DIFFERENT = LEVELS["name"].index("different")
_CITY_DIFFERENT = LEVELS["city"].index("different")
_ADDRESS_AGREES = {LEVELS["address"].index(x) for x in ("exact", "number_and_street_close")} | {
    LEVELS["address"].index("street_close")
}


def _needs_person(best: _Scored) -> str | None:
    """Why the best candidate, however heavy, is not linked without a person: its name shares
    no word with ours (an address alone never links two names: a building holds many
    businesses), or it is in another city and neither its street address nor its postal code
    agrees (a district for a city is fine when the street is the same; a bare name elsewhere
    may be another company)."""
    (name, _), _, (city, _), (address, _), (postal, _) = best.levels
    if name == MISSING:
        return "the best candidate has no name"
    if name >= _NAME_DIFFERENT:
        return "the best candidate agrees on everything but the name"
    if city == _CITY_DIFFERENT and address not in _ADDRESS_AGREES and postal != 0:
        return "the best candidate is in another city and no address or postal code agrees"
    return None


def _lost_on(loser: _Scored, winner: _Scored) -> str:
    """The first field in Monite's order on which `winner` weighs more than `loser`."""
    for field, mine, theirs in zip(FIELDS, loser.weights, winner.weights, strict=True):
        if theirs > mine + 1e-9:
            return field
    return "weight"


def match_one(index: CounterpartIndex, record: CounterpartRecord) -> tuple[Match, int | None]:
    """The decision for one incoming record and the linked row (None unless matched)."""
    mine = Features(record)
    if not mine.name:  # nothing to match on: a pull never links, a push never guesses
        return Match(incoming_id=record.id, outcome="unmatched", reason="no name"), None
    rows = index.candidates(mine)
    feats = index.features
    scored = []
    for row in rows:
        theirs = feats[row]
        c = _Scored(row, compare(mine, theirs))
        if c.excluded_by is None and mine.name_numbers != theirs.name_numbers:
            # "AI Support" / "AI Support 2", "A1 Design" / "A2 Design": another number in the
            # name is another company, however alike the rest (as for products).
            c.excluded_by = "numbers"
            c.key = (True, *c.key[1:])
        scored.append(c)
    scored.sort(key=_KEY)
    alive = [c for c in scored if c.excluded_by is None and c.total >= REVIEW_WEIGHT]
    for c in scored:
        if c.excluded_by is None and c.total < REVIEW_WEIGHT:
            c.excluded_by = "weight"
    records = index.records

    def shown() -> tuple[Candidate, ...]:
        # The plausible ones (within MARGIN of the review weight, or with the same or a close
        # name), at least the best one.
        floor = REVIEW_WEIGHT - MARGIN
        top = [
            c
            for c in scored
            if c.total >= floor or (c.levels[0][0] <= 1 and c.excluded_by != "country")
        ][:MAX_CANDIDATES] or scored[:1]
        return tuple(c.public(records) for c in top)

    if not alive:
        reason = (
            "every candidate is in another country"
            if scored and all(c.excluded_by == "country" for c in scored)
            else "no candidate weighs enough"
        )
        best = scored[0].public(records).score if scored else 0.0
        return Match(
            incoming_id=record.id,
            outcome="unmatched",
            score=best,
            candidates=shown(),
            reason=reason if scored else "no candidate",
        ), None
    best = alive[0]
    runner_up = alive[1] if len(alive) > 1 else None
    blocked = _needs_person(best)
    if (
        best.total >= LINK_WEIGHT
        and blocked is None
        and (runner_up is None or best.total - runner_up.total >= MARGIN)
    ):
        for c in alive[1:]:
            c.excluded_by = _lost_on(c, best)
        out = shown()
        return Match(
            incoming_id=record.id,
            outcome="matched",
            existing_id=records[best.row].id,
            score=out[0].score,
            candidates=out,
            reason=f"match weight {best.total:.1f} bits"
            + (f", {best.total - runner_up.total:.1f} ahead of the next" if runner_up else ""),
        ), best.row
    close = [c for c in alive if best.total - c.total < MARGIN]
    if len(close) > 1:
        reason = f"{len(close)} candidates within {MARGIN:g} bits of each other"
    elif blocked is not None:
        reason = f"{blocked}: needs a person"
    else:
        reason = f"best match weight {best.total:.1f} bits is below {LINK_WEIGHT:g}: needs a person"
    out = shown()
    return Match(
        incoming_id=record.id,
        outcome="ambiguous",
        score=out[0].score,
        candidates=out,
        reason=reason,
    ), None
