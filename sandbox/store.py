"""Record collections: one per (company, data type), with pre-encoded JSON pages.

Records are plain dicts exactly as the platform would return them (every original field
kept). Each record's JSON is encoded once with msgspec and cached until it changes, so a
5000-record page is a join of cached bytes, not a re-serialisation of the collection.
Filtered and sorted views are cached per (query, orderBy) until the collection changes.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import msgspec

from sandbox.query import compile_query, sort_records

_encoder = msgspec.json.Encoder()
_VIEW_CACHE_SIZE = 16


class Collection:
    """An ordered set of records keyed by ``id`` (insertion order is the default order)."""

    __slots__ = ("_encoded", "_index", "_records", "_views", "version")

    def __init__(self, records: list[dict[str, Any]] | None = None) -> None:
        self._records: list[dict[str, Any]] = []
        self._encoded: list[bytes | None] = []
        self._index: dict[str, int] = {}
        self._views: OrderedDict[tuple[str | None, str | None], tuple[int, list[int]]] = (
            OrderedDict()
        )
        self.version = 0
        for record in records or ():
            self.put(record)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._index

    def get(self, record_id: str) -> dict[str, Any] | None:
        """The record with ``id`` ``record_id``, or None."""
        position = self._index.get(str(record_id))
        return None if position is None else self._records[position]

    def all(self) -> list[dict[str, Any]]:
        """Every record in insertion order (do not mutate; use :meth:`put`)."""
        return self._records

    def put(self, record: dict[str, Any]) -> None:
        """Insert or replace the record with the same ``id``."""
        record_id = str(record.get("id"))
        position = self._index.get(record_id)
        if position is None:
            self._index[record_id] = len(self._records)
            self._records.append(record)
            self._encoded.append(None)
        else:
            self._records[position] = record
            self._encoded[position] = None
        self.version += 1

    def encoded(self, position: int) -> bytes:
        """The cached JSON bytes of the record at ``position``."""
        data = self._encoded[position]
        if data is None:
            data = _encoder.encode(self._records[position])
            self._encoded[position] = data
        return data

    def view(self, query: str | None, order_by: str | None) -> list[int]:
        """Positions of records matching ``query``, ordered by ``orderBy``.

        Raises QueryError for a malformed query or orderBy.
        """
        cache_key = (query or None, order_by or None)
        cached = self._views.get(cache_key)
        if cached is not None and cached[0] == self.version:
            self._views.move_to_end(cache_key)
            return cached[1]
        predicate = compile_query(query)
        records = self._records
        if predicate is None:
            positions = list(range(len(records)))
        else:
            positions = [i for i, record in enumerate(records) if predicate(record)]
        if order_by:
            positions = sort_records(positions, order_by, key=records.__getitem__)
        self._views[cache_key] = (self.version, positions)
        if len(self._views) > _VIEW_CACHE_SIZE:
            self._views.popitem(last=False)
        return positions

    def page(
        self, query: str | None, order_by: str | None, page: int, page_size: int
    ) -> tuple[int, list[bytes]]:
        """(totalResults, encoded records of 1-based ``page``). Raises QueryError."""
        positions = self.view(query, order_by)
        start = (page - 1) * page_size
        return len(positions), [self.encoded(i) for i in positions[start : start + page_size]]
