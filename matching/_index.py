"""Candidate generation: a token index over normalised names, scored with rapidfuzz.

Blocking: every name token is indexed under itself and, for tokens of 4 characters or more,
under each of its one-character deletions (a SymSpell-style deletion neighbourhood). Two tokens
within one edit (insertion, deletion, substitution or adjacent swap) share a key, so an incoming
name reaches every existing name that has a token within one edit of one of its own tokens.
Tokens that reach a large share of the existing names ("smith", "group", "van") are not used
when the name has a rarer token. A true pair is lost only when every usable token carries two
or more typos, which mostly pushes the score below the threshold anyway; the quality bench
prints what blocking loses against a full scan (a few pairs in 3,000).

The reached postings (names, token-sorted and in their own order) are concatenated and scored
in one `rapidfuzz.process.extract` call per order with `fuzz.ratio` and `score_cutoff`: the
cheap scorer. The finer scorer (`name_score`, optimal string alignment) runs on the survivors
only. Memory is O(existing): no score matrix is ever built, incoming records stream through
one at a time. rapidfuzz's `process.cdist` is not used: it needs numpy, which is not installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from ._normalise import sorted_key

CHEAP_CUTOFF = 70.0
"""Cheap-scorer cut-off (`fuzz.ratio`, i.e. Indel similarity, 0-100, of the normalised names
token-sorted or in their own order) for a candidate to reach the finer name scorer. A pair the
finer scorer puts at 80 or more passes, except short names whose difference is swapped letters
(a swap costs 2 here and 1 there)."""
COMMON_SHARE = 0.005
COMMON_FLOOR = 100
"""A token reaching more than max(COMMON_FLOOR, COMMON_SHARE x existing) names is common: it
is not used to find candidates when the name has a rarer token. This loses a true pair only
when every rare token of the name carries two or more typos (the quality bench counts it)."""
INITIALS_CUTOFF = 50.0
"""The cheap cut-off when either name has one-letter initials ("J Smith" is 67 against
"Jonathan Smith" before the finer scorer expands the initial)."""


def _deletions(token: str) -> list[str]:
    return [token[:i] + token[i + 1 :] for i in range(len(token))]


class NameIndex:
    """Token-sorted normalised names of the existing side, with the blocking index."""

    __slots__ = (
        "_deletion_keys",
        "_near_cache",
        "_pool_cache",
        "_posting_initials",
        "_posting_keys",
        "_posting_plain",
        "_posting_rows",
        "_vocab",
        "initials",
        "keys",
        "plain",
        "tokens",
    )

    def __init__(self, names: Iterable[str], tokenise: Callable[[str], tuple[str, ...]]) -> None:
        self.tokens: list[tuple[str, ...]] = [tokenise(n) for n in names]
        self.keys: list[str] = [sorted_key(t) for t in self.tokens]
        self.plain: list[str] = [" ".join(t) for t in self.tokens]
        self.initials: list[bool] = [any(len(x) == 1 for x in t) for t in self.tokens]
        self._vocab: dict[str, int] = {}
        self._posting_rows: list[list[int]] = []
        self._posting_keys: list[list[str]] = []
        self._posting_plain: list[list[str]] = []
        self._posting_initials: list[list[int]] = []  # rows whose names have initials
        self._deletion_keys: dict[str, list[int]] = {}
        self._near_cache: dict[str, tuple[int, frozenset[int]]] = {}
        self._pool_cache: dict[str, tuple[list[int], list[str], list[str], list[int]]] = {}
        vocab = self._vocab
        for row, (toks, key, plain) in enumerate(
            zip(self.tokens, self.keys, self.plain, strict=True)
        ):
            has_initial = self.initials[row]
            for tok in set(toks):
                vid = vocab.get(tok)
                if vid is None:
                    vid = vocab[tok] = len(self._posting_rows)
                    self._posting_rows.append([])
                    self._posting_keys.append([])
                    self._posting_plain.append([])
                    self._posting_initials.append([])
                    self._add_key(tok, vid)
                    if len(tok) >= 4:
                        for d in _deletions(tok):
                            self._add_key(d, vid)
                self._posting_rows[vid].append(row)
                self._posting_keys[vid].append(key)
                self._posting_plain[vid].append(plain)
                if has_initial:
                    self._posting_initials[vid].append(row)

    def _add_key(self, key: str, vid: int) -> None:
        bucket = self._deletion_keys.get(key)
        if bucket is None:
            self._deletion_keys[key] = [vid]
        elif bucket[-1] != vid:
            bucket.append(vid)

    def __len__(self) -> int:
        return len(self.keys)

    def _near(self, tok: str) -> tuple[int, frozenset[int]]:
        """(names reached, vocabulary ids) of the indexed tokens within one edit of `tok`."""
        got = self._near_cache.get(tok)
        if got is not None:
            return got
        keys = self._deletion_keys
        vids: set[int] = set(keys.get(tok, ()))
        if len(tok) >= 4:
            for d in _deletions(tok):
                hit = keys.get(d)
                if hit:
                    vids.update(hit)
        posting = self._posting_rows
        got = (sum(len(posting[v]) for v in vids), frozenset(vids))
        if len(self._near_cache) >= 100_000:
            self._near_cache.clear()
        self._near_cache[tok] = got
        return got

    def rare_rows(self, tokens: tuple[str, ...], limit: int) -> set[int]:
        """Rows whose name holds every word of `tokens` or whose words are all in `tokens`
        (a word dropped or added: "Katsu" / "Restaurant Katsu", "White" / "Mitchell White"),
        found through a word of `tokens` (3 letters or more) that at most `limit` names hold."""
        rows: set[int] = set()
        vocab, posting, names = self._vocab, self._posting_rows, self.tokens
        mine = set(tokens)
        for tok in mine:
            vid = vocab.get(tok)
            if vid is not None and len(tok) >= 3 and len(posting[vid]) <= limit:
                for row in posting[vid]:
                    theirs = names[row]
                    if mine.issuperset(theirs) or mine.issubset(theirs):
                        rows.add(row)
        return rows

    def _near_pool(self, tok: str) -> tuple[list[int], list[str], list[str], list[int]]:
        """The postings of the tokens within one edit of `tok`, concatenated once and cached:
        rows, token-sorted names, names in order, rows whose names have initials."""
        got = self._pool_cache.get(tok)
        if got is None:
            _, vids = self._near(tok)
            rows: list[int] = []
            keys_pool: list[str] = []
            plain_pool: list[str] = []
            rows_i: list[int] = []
            for vid in vids:
                rows += self._posting_rows[vid]
                keys_pool += self._posting_keys[vid]
                plain_pool += self._posting_plain[vid]
                rows_i += self._posting_initials[vid]
            if len(self._pool_cache) >= 50_000:
                self._pool_cache.clear()
            got = self._pool_cache[tok] = (rows, keys_pool, plain_pool, rows_i)
        return got

    def _pools(
        self, tokens: tuple[str, ...]
    ) -> tuple[list[int], list[str], list[str], list[int]] | None:
        """The postings reached by `tokens` within one edit (common tokens skipped when the
        name has a rarer one), concatenated: rows, token-sorted names, names in order, and the
        rows whose names have one-letter initials; None when nothing is reached. A row reached
        through two tokens is listed twice (scored twice, kept once)."""
        sized = [(self._near(t)[0], t) for t in set(tokens)]
        sized = [st for st in sized if st[0]]
        if not sized:
            return None
        common = max(COMMON_FLOOR, int(len(self.keys) * COMMON_SHARE))
        use = [t for size, t in sized if size <= common] or [min(sized)[1]]
        if len(use) == 1:
            return self._near_pool(use[0])
        rows: list[int] = []
        keys_pool: list[str] = []
        plain_pool: list[str] = []
        rows_i: list[int] = []
        for t in use:
            r, k, p, i = self._near_pool(t)
            rows += r
            keys_pool += k
            plain_pool += p
            rows_i += i
        return rows, keys_pool, plain_pool, rows_i

    def close_rows(self, tokens: tuple[str, ...], threshold: float) -> dict[int, float]:
        """Rows whose name scores at least `threshold` (0-100, `name_score`) against `tokens`,
        row -> score: the reached postings scored in two `process.extract` calls with the
        optimal-string-alignment similarity (token-sorted and in order); names with initials
        are scored pair by pair (`name_score` expands them)."""
        if any(len(t) == 1 for t in tokens):
            return scored(self, tokens, threshold)
        pools = self._pools(tokens)
        if pools is None:
            return {}
        rows, keys_pool, plain_pool, rows_i = pools
        out: dict[int, float] = {}
        cut = threshold / 100.0
        extract = process.extract
        sim = OSA.normalized_similarity
        for query, pool in ((sorted_key(tokens), keys_pool), (" ".join(tokens), plain_pool)):
            for _, score, i in extract(query, pool, scorer=sim, score_cutoff=cut, limit=None):
                r = rows[i]
                score *= 100.0
                if score > out.get(r, 0.0):
                    out[r] = score
        theirs = self.tokens
        for r in set(rows_i):
            score = name_score(tokens, theirs[r])
            if score >= threshold:
                out[r] = score
        return out

    def candidates(self, tokens: tuple[str, ...], cutoff: float = CHEAP_CUTOFF) -> set[int]:
        """Rows sharing a token within one edit with `tokens` whose name scores at least
        `cutoff` with `fuzz.ratio` (token-sorted or in order; `INITIALS_CUTOFF` when either
        name has one-letter initials, which the finer scorer expands)."""
        key = sorted_key(tokens)
        plain = " ".join(tokens)
        initials = any(len(t) == 1 for t in tokens)
        pools = self._pools(tokens)
        if pools is None:
            return set()
        # The reached postings, concatenated, scored in two extract calls, token-sorted and in
        # order; a row reached twice is scored twice.
        rows, keys_pool, plain_pool, rows_i = pools
        keys_i = [self.keys[r] for r in rows_i]
        plain_i = [self.plain[r] for r in rows_i]
        if initials:
            cutoff = INITIALS_CUTOFF
        found: set[int] = set()
        extract = process.extract
        for pool_rows, cut, pools in (
            (rows, cutoff, ((key, keys_pool), (plain, plain_pool))),
            (rows_i, INITIALS_CUTOFF, ((key, keys_i), (plain, plain_i))),
        ):
            if not pool_rows:
                continue
            for query, pool in pools:
                for _, _, i in extract(
                    query, pool, scorer=fuzz.ratio, score_cutoff=cut, limit=None
                ):
                    found.add(pool_rows[i])
        return found


def _expand_initials(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    """`a` with each one-letter token replaced by an unused token of `b` starting with it."""
    used: set[int] = set()
    out = []
    for tok in a:
        if len(tok) == 1:
            for j, other in enumerate(b):
                if j not in used and len(other) > 1 and other[0] == tok:
                    used.add(j)
                    tok = other
                    break
        out.append(tok)
    return tuple(out)


def name_score(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """The finer name score, 0-100: the optimal-string-alignment similarity (an insertion,
    deletion, substitution or swap of adjacent letters costs 1) of the names token-sorted or
    in their own order, whichever is higher; one-letter initials are first expanded from the
    other name ("J Smith" scores 100 against "John Smith")."""
    if any(len(t) == 1 for t in a) or any(len(t) == 1 for t in b):
        a, b = _expand_initials(a, b), _expand_initials(b, a)
    sim = OSA.normalized_similarity
    return 100.0 * max(sim(sorted_key(a), sorted_key(b)), sim(" ".join(a), " ".join(b)))


def scored(index: NameIndex, tokens: tuple[str, ...], threshold: float) -> dict[int, float]:
    """Rows of `index` whose finer name score against `tokens` is at least `threshold`
    (0-100): row -> score. The cheap stage (`NameIndex.candidates`) picks the rows; the finer
    scorer runs on those only, in two `process.extract` calls (token-sorted and in order) unless
    a name has initials, which are scored pair by pair."""
    rows = list(index.candidates(tokens))
    if not rows:
        return {}
    out: dict[int, float] = {}
    theirs = index.tokens
    if any(len(t) == 1 for t in tokens):
        for r in rows:
            score = name_score(tokens, theirs[r])
            if score >= threshold:
                out[r] = score
        return out
    cut = threshold / 100.0
    extract = process.extract
    sim = OSA.normalized_similarity
    for query, pool in (
        (sorted_key(tokens), index.keys),
        (" ".join(tokens), index.plain),
    ):
        for _, score, i in extract(
            query, [pool[r] for r in rows], scorer=sim, score_cutoff=cut, limit=None
        ):
            r = rows[i]
            score *= 100.0
            if score > out.get(r, 0.0):
                out[r] = score
    flags = index.initials
    for r in rows:
        if flags[r]:
            score = name_score(tokens, theirs[r])
            if score >= threshold:
                out[r] = score
    return out
