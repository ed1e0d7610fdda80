"""What every part of the push shares: the timing knobs, the two ways a run stops early
(``_Wait``: come back later; ``_Failed``: the record goes to ``error``) and ``_set_error``
with its capped, jittered backoff.

The other modules read the knobs from here at call time (``common.POLL_AFTER``), so a test or
a benchmark sets them here. ``POLL_AFTER``, ``DEPENDENCY_WAIT``, ``WAIT_RETRY`` and
``RESEND_AFTER`` may also be overridden per process through ``JobContext.extras``
(``push_poll_after`` etc., see ``_knob``).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from app import metrics
from app.db.models import SyncedRecord
from app.jobs import JobContext

#: Failed attempts in a row (transient errors) before a record waits for a person.
MAX_ATTEMPTS = 5
#: Seconds before polling a push operation no webhook has settled.
POLL_AFTER = 10.0
#: Seconds a document job waits in-job for a counterpart/item push to settle.
DEPENDENCY_WAIT = 2.0
#: Seconds before a document job tries again when a dependency is busy or in flight.
WAIT_RETRY = 1.0
#: Seconds before pushing again after a TimedOut push whose record did not land.
RESEND_AFTER = 0.5
#: Backoff of transient failures: RETRY_BASE x 2^(n-1) seconds, capped at RETRY_CAP.
RETRY_BASE = 30.0
RETRY_CAP = 3600.0
DOC_TYPES = ("bill", "receivable")
DEPENDENCY_TYPES = ("vendor", "customer", "product")
DATA_TYPE = {
    "bill": "bills",
    "receivable": "invoices",
    "vendor": "suppliers",
    "customer": "customers",
    "product": "items",
}
NAME_FIELD = {"suppliers": "supplierName", "customers": "customerName", "items": "name"}
WHAT = {"vendor": "supplier", "customer": "customer", "product": "item"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _knob(ctx: JobContext | None, name: str) -> float:
    default = globals()[name.upper()]
    if ctx is None:
        return default
    return float(ctx.extras.get(f"push_{name}", default))


def backoff(attempt: int) -> float:
    """Seconds before retry ``attempt`` (1-based): ``RETRY_BASE`` x 2^(n-1), capped at
    ``RETRY_CAP``, jittered to 50-100% (AWS "Exponential Backoff And Jitter")."""
    return random.uniform(0.5, 1.0) * min(RETRY_CAP, RETRY_BASE * 2 ** max(0, attempt - 1))


class _Wait(Exception):
    """Nothing failed, but the job must come back in ``delay`` seconds (a dependency is busy
    or in flight, a push timed out and is to be sent again, the document changed)."""

    def __init__(self, delay: float):
        super().__init__(f"again in {delay} s")
        self.delay = delay


class _Failed(Exception):
    """The push cannot go on: ``message`` and ``details`` go on the synced record;
    ``waiting_for`` names the dependency's synced record a person must decide first."""

    def __init__(
        self,
        message: str,
        details: list[Any] | None = None,
        transient: bool = False,
        waiting_for: uuid.UUID | None = None,
    ):
        super().__init__(message)
        self.message, self.details, self.transient = message, details or [], transient
        self.waiting_for = waiting_for


def _set_error(
    ctx: JobContext | None,
    record: SyncedRecord,
    message: str,
    details: list[Any],
    transient: bool,
    retry_after: float | None = None,
) -> None:
    """Put the record in ``error``; a transient failure is retried automatically after a
    backoff unless it is the ``MAX_ATTEMPTS``-th failed run in a row (counted in
    ``errors.failures``, reset by a success, a status change or a manual retry)."""
    failures = int((record.errors or {}).get("failures") or 0) + 1
    record.sync_status = "error"
    record.push_operation_key = None
    record.errors = {"message": message, "details": details, "failures": failures}
    if transient and failures < MAX_ATTEMPTS:
        delay = backoff(failures)
        record.next_attempt_at = now() + dt.timedelta(seconds=max(delay, retry_after or 0.0))
        record.errors["retry"] = (
            f"retrying automatically (failed attempt {failures} of {MAX_ATTEMPTS})"
        )
    else:
        record.next_attempt_at = None
    metrics.push_failed(record.object_type, record.next_attempt_at is not None)
