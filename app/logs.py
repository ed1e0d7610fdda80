"""One log format for every part of the process (the service, jobs, Alembic, uvicorn),
configured once by the CLI (:func:`configure`): JSON lines when the output is not a terminal
(a container, a file, a log shipper), ``time LEVEL logger message key=value ...`` when it is.

Each line carries the ids known where it was written, from context variables: the request
id (``x-request-id``), the partner, entity, connection and synced record (:func:`bind`).
Secrets never reach the output: bearer and basic credentials, client secrets, tokens,
passwords, API keys and webhook signing secrets are masked in every message and traceback
(:func:`redact`).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

#: The ids a line may carry, in the order they are written.
CONTEXT_KEYS = ("request_id", "partner_id", "entity_id", "connection_id", "record_id")
_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "acctsync_log_context", default=None
)

_SECRETS = (
    # Authorization: Bearer <jwt> / Basic <base64>
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    # Standard Webhooks signing secrets
    (re.compile(r"whsec_[A-Za-z0-9+/=]+"), "whsec_[redacted]"),
    # key=value, "key": "value", key: value for secret-like keys
    (
        re.compile(
            r"(?i)([\"']?\b(?:client_secret|secret|secret_key|password|passwd|token|"
            r"access_token|refresh_token|api_key|apikey|authorization)\b[\"']?\s*[=:]\s*[\"']?)"
            r"([^\s\"',&}]+)"
        ),
        r"\1[redacted]",
    ),
)


def redact(text: str) -> str:
    """``text`` with credentials masked (see the module's docstring)."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def bind(**ids: Any) -> Callable[[], None]:
    """Add ids (``request_id``, ``partner_id``, ``entity_id``, ``connection_id``,
    ``record_id``) to the lines written from here on in this task; returns a function that
    takes them back (for a middleware's ``finally``). None values are skipped."""
    current = _context.get() or {}
    token = _context.set({**current, **{k: str(v) for k, v in ids.items() if v is not None}})
    return lambda: _context.reset(token)


def context() -> dict[str, str]:
    """The ids bound in this task."""
    return dict(_context.get() or {})


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ids = _context.get() or {}
        for key in CONTEXT_KEYS:
            if key in ids and not hasattr(record, key):
                setattr(record, key, ids[key])
        return True


def _when(record: logging.LogRecord) -> str:
    stamp = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message``, the ids, and
    ``exc`` (the traceback) where there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _when(record),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key in CONTEXT_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2026-11-01T10:00:00.000Z INFO acctsync.pull message request_id=... entity_id=...``."""

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(
            f"{key}={getattr(record, key)}"
            for key in CONTEXT_KEYS
            if getattr(record, key, None) is not None
        )
        line = f"{_when(record)} {record.levelname} {record.name} {redact(record.getMessage())}"
        if ids:
            line = f"{line} {ids}"
        if record.exc_info:
            line = f"{line}\n{redact(self.formatException(record.exc_info))}"
        return line


#: Loggers that install handlers of their own elsewhere: theirs are removed so every line
#: goes through the root's one handler.
_ADOPTED = ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic", "sqlalchemy", "apscheduler")


def configure(
    level: str = "INFO", stream: TextIO | None = None, json_lines: bool | None = None
) -> None:
    """Send every logger's lines to ``stream`` (stderr) in one format: JSON unless ``stream``
    is a terminal (``json_lines`` forces one). httpx's and APScheduler's per-request and
    per-job lines stay below WARNING unless ``level`` is DEBUG."""
    stream = stream or sys.stderr
    if json_lines is None:
        json_lines = not (hasattr(stream, "isatty") and stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _ADOPTED:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True
    quiet = max(logging.WARNING, logging.getLevelName(level))
    logging.getLogger("httpx").setLevel(quiet)
    logging.getLogger("apscheduler").setLevel(quiet)
