"""Codat's ``query`` and ``orderBy`` parameters, parsed and evaluated over plain dicts.

Grammar (Codat: https://docs.codat.io/using-the-api/querying)::

    expr       := and_expr ( "||" and_expr )*
    and_expr   := factor ( "&&" factor )*
    factor     := "{" expr "}" | comparison
    comparison := FIELD OP VALUE          FIELD: dotted path, e.g. metadata.isDeleted
    OP         := "=" | "!=" | "~" | ">" | "<" | ">=" | "<="

A VALUE runs to the next ``&&``, ``||`` or unbalanced ``}``; it may be double-quoted to hold
those characters. Comparison rules:

- a path through a list matches when any element matches (``lineItems.itemRef.id=7``);
- ISO dates compare as datetimes (a value without an offset is UTC), so
  ``modifiedDate>=2024-01-01`` works against ``2024-01-02T00:00:00`` and ``...Z`` alike;
- numbers compare as numbers, booleans as ``true``/``false``, strings case-insensitively;
- ``~`` is "contains" (case-insensitive); ``=null`` matches a missing or null field;
- a missing field is ``!=`` to everything and never ``>``/``<``.

Errors: :class:`QueryError` for any malformed query or orderBy (the API answers 400).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

_FIELD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_DATE_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")
_OPS = (">=", "<=", "!=", "=", "~", ">", "<")
_MISSING = object()


class QueryError(ValueError):
    """A malformed ``query`` or ``orderBy`` string; ``str(err)`` says what and where."""


def parse_datetime(value: str) -> datetime | None:
    """Parse an ISO 8601 date or datetime; naive values are taken as UTC; None if not a date."""
    if not _DATE_RE.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def resolve(record: Any, path: tuple[str, ...]) -> list[Any]:
    """All values at a dotted ``path`` in ``record``, fanning out over lists ([] if none)."""
    current = [record]
    for part in path:
        following: list[Any] = []
        for node in current:
            if isinstance(node, list):
                for element in node:
                    if isinstance(element, dict) and part in element:
                        following.append(element[part])
            elif isinstance(node, dict) and part in node:
                following.append(node[part])
        current = following
        if not current:
            return []
    flat: list[Any] = []
    for value in current:
        if isinstance(value, list):
            flat.extend(value)
        else:
            flat.append(value)
    return flat


def _compare(op: str, field_value: Any, raw: str, raw_date: datetime | None) -> bool:
    """One comparison of a record's value with the query's value (see module rules)."""
    if field_value is None:
        if raw.lower() == "null":
            return op == "="
        return op == "!="
    if raw.lower() == "null":
        return op == "!="
    if isinstance(field_value, bool):
        left: Any = field_value
        right: Any = raw.lower() == "true" if raw.lower() in ("true", "false") else raw
        if not isinstance(right, bool):
            return op == "!="
    elif isinstance(field_value, int | float):
        if op == "~":
            return raw in str(field_value)
        try:
            left, right = float(field_value), float(raw)
        except ValueError:
            return op == "!="
    elif isinstance(field_value, str):
        parsed = parse_datetime(field_value) if raw_date is not None else None
        if parsed is not None and op != "~":
            left, right = parsed, raw_date
        else:
            left, right = field_value.casefold(), raw.casefold()
            if op == "~":
                return right in left
            if _NUMBER_RE.match(field_value) and _NUMBER_RE.match(raw) and op not in ("=", "!="):
                left, right = float(field_value), float(raw)
    else:
        left, right = str(field_value).casefold(), raw.casefold()
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "~":
        return str(right) in str(left)
    try:
        if op == ">":
            return left > right
        if op == "<":
            return left < right
        if op == ">=":
            return left >= right
        return left <= right
    except TypeError:
        return False


def _comparison(path: tuple[str, ...], op: str, raw: str) -> Predicate:
    raw_date = parse_datetime(raw)
    if len(path) == 1:
        key = path[0]

        def single(record: dict[str, Any]) -> bool:
            value = record.get(key, _MISSING)
            if value is _MISSING:
                return op == "!=" or (op == "=" and raw.lower() == "null")
            if isinstance(value, list):
                values = value
                if not values:
                    return op == "!="
                hits = [_compare(op, v, raw, raw_date) for v in values]
                return all(hits) if op == "!=" else any(hits)
            return _compare(op, value, raw, raw_date)

        return single

    def nested(record: dict[str, Any]) -> bool:
        values = resolve(record, path)
        if not values:
            return op == "!=" or (op == "=" and raw.lower() == "null")
        hits = [_compare(op, v, raw, raw_date) for v in values]
        return all(hits) if op == "!=" else any(hits)

    return nested


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str) -> QueryError:
        return QueryError(f"Malformed query {self.text!r}: {message} at position {self.pos}")

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, token: str) -> bool:
        self.skip_ws()
        return self.text.startswith(token, self.pos)

    def parse(self) -> Predicate:
        predicate = self.expr()
        self.skip_ws()
        if self.pos != len(self.text):
            raise self.error(f"unexpected {self.text[self.pos]!r}")
        return predicate

    def expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.peek("||"):
            self.pos += 2
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        return lambda record: any(part(record) for part in parts)

    def and_expr(self) -> Predicate:
        parts = [self.factor()]
        while self.peek("&&"):
            self.pos += 2
            parts.append(self.factor())
        if len(parts) == 1:
            return parts[0]
        return lambda record: all(part(record) for part in parts)

    def factor(self) -> Predicate:
        if self.peek("{"):
            self.pos += 1
            inner = self.expr()
            if not self.peek("}"):
                raise self.error("missing '}'")
            self.pos += 1
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        self.skip_ws()
        match = _FIELD_RE.match(self.text, self.pos)
        if not match:
            raise self.error("expected a field name")
        field = match.group(0)
        self.pos = match.end()
        self.skip_ws()
        op = next((c for c in _OPS if self.text.startswith(c, self.pos)), None)
        if op is None:
            raise self.error(f"expected an operator after {field!r}")
        self.pos += len(op)
        raw = self.value()
        return _comparison(tuple(field.split(".")), op, raw)

    def value(self) -> str:
        self.skip_ws()
        if self.pos < len(self.text) and self.text[self.pos] == '"':
            end = self.text.find('"', self.pos + 1)
            if end < 0:
                raise self.error("unterminated quoted value")
            raw = self.text[self.pos + 1 : end]
            self.pos = end + 1
            return raw
        start = self.pos
        while self.pos < len(self.text):
            if self.text.startswith(("&&", "||"), self.pos) or self.text[self.pos] in "{}":
                break
            self.pos += 1
        raw = self.text[start : self.pos].strip()
        if not raw:
            raise self.error("expected a value")
        return raw


def compile_query(text: str | None) -> Predicate | None:
    """Compile a Codat ``query`` string to a predicate over a record dict (None: no filter).

    Raises QueryError when the string is malformed.
    """
    if text is None or not text.strip():
        return None
    return _Parser(text).parse()


def _sort_value(value: Any) -> tuple[int, Any]:
    if value is None or value is _MISSING:
        return (3, 0)
    if isinstance(value, bool):
        return (0, float(value))
    if isinstance(value, int | float):
        return (0, float(value))
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            return (1, parsed.timestamp())
        return (2, value.casefold())
    return (2, str(value).casefold())


def parse_order_by(text: str | None) -> list[tuple[tuple[str, ...], bool]]:
    """Parse ``orderBy`` (``-modifiedDate``, ``name,-id``) into (path, descending) pairs.

    Raises QueryError on an empty or malformed field.
    """
    if text is None or not text.strip():
        return []
    fields = []
    for part in text.split(","):
        part = part.strip()
        descending = part.startswith("-")
        name = part[1:].strip() if descending else part
        if not _FIELD_RE.fullmatch(name):
            raise QueryError(f"Malformed orderBy {text!r}: bad field {part!r}")
        fields.append((tuple(name.split(".")), descending))
    return fields


def sort_records(records: Iterable[Any], order_by: str | None, key: Callable[[Any], dict]) -> list:
    """Sort ``records`` (objects whose dict ``key(obj)`` is inspected) by ``orderBy``.

    Stable; missing and null values sort last in either direction. Raises QueryError.
    """
    fields = parse_order_by(order_by)
    items = list(records)
    for path, descending in reversed(fields):

        def sort_key(
            item: Any, path: tuple[str, ...] = path, descending: bool = descending
        ) -> tuple[int, Any]:
            values = resolve(key(item), path)
            rank, value = _sort_value(values[0] if values else None)
            return (-1, 0) if rank == 3 and descending else (rank, value)

        items.sort(key=sort_key, reverse=descending)
    return items
