"""The service's own Prometheus figures, served on ``/metrics`` beside the HTTP and process
ones: pulls, pushes, webhooks in, jobs, provider calls, events out.

Every family is labelled with bounded values only (data types, object types, outcomes,
reasons, task names, endpoint classes): never an id. Each ``note_*``/``*_done`` function is
what the domain code calls, one line at the point where the thing happens; each is an
increment or an observation in memory (no I/O). The job queue gauges are read from the job
store when ``/metrics`` is scraped (:func:`refresh_jobs`).

Names follow Prometheus' conventions: counters end in ``_total``, durations are seconds.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

#: Pull and push durations: from a fraction of a second to an hour.
_SLOW = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600)
#: Provider calls: milliseconds to the client's time-out.
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

PULL_RUNS = Counter(
    "acctsync_pull_runs_total",
    "Pulls of one data type of one connection, by outcome (ok, failed)",
    ["data_type", "outcome"],
)
PULL_DURATION = Histogram(
    "acctsync_pull_duration_seconds",
    "How long a data type's pull took (every page, matching included)",
    ["data_type"],
    buckets=_SLOW,
)
PULL_READ = Counter(
    "acctsync_pull_records_read_total", "Records read by successful pulls", ["data_type"]
)
PULL_CHANGED = Counter(
    "acctsync_pull_records_changed_total",
    "Records a successful pull created or changed here",
    ["data_type"],
)
PUSH_RUNS = Counter(
    "acctsync_push_attempts_total",
    "Push runs of a synced record (an automatic or manual attempt)",
    ["object_type", "trigger"],
)
PUSH_OUTCOMES = Counter(
    "acctsync_push_outcomes_total",
    "Push results: done, error_retrying (retried automatically), error_waiting (for a person)",
    ["object_type", "outcome"],
)
PUSH_TIME_TO_DONE = Histogram(
    "acctsync_push_time_to_done_seconds",
    "From the object's last change (its status reaching a push status) to its push done",
    ["object_type"],
    buckets=_SLOW,
)
WEBHOOKS = Counter(
    "acctsync_webhooks_received_total",
    "Webhook deliveries: accepted (stored), duplicate (stored before), refused",
    ["outcome"],
)
WEBHOOKS_REFUSED = Counter(
    "acctsync_webhooks_refused_total",
    "Webhook deliveries refused, by reason (signature, malformed, too_large, ...)",
    ["reason"],
)
WEBHOOK_APPLY_LAG = Histogram(
    "acctsync_webhook_apply_lag_seconds",
    "From a webhook's receipt to its event applied",
    buckets=(*_FAST, 120, 300, 900, 3600),
)
WEBHOOKS_APPLIED = Counter(
    "acctsync_webhooks_applied_total",
    "Stored webhook events settled, by outcome (applied, ignored, ...) or failed (retried)",
    ["outcome"],
)
JOBS_ADDED = Counter("acctsync_jobs_added_total", "Jobs queued by this process", ["task"])
JOBS_FINISHED = Counter(
    "acctsync_jobs_finished_total",
    "Jobs run by this process, by outcome (success, error, missed_start_deadline, cancelled)",
    ["task", "outcome"],
)
JOBS_QUEUED = Gauge(
    "acctsync_jobs_queued", "Jobs in the queue not yet started (read at scrape)", ["task"]
)
JOBS_RUNNING = Gauge(
    "acctsync_jobs_running", "Jobs claimed by a worker and running (read at scrape)", ["task"]
)
JOBS_OLDEST_DUE = Gauge(
    "acctsync_jobs_oldest_due_seconds",
    "Age of the oldest job that is due and not started (0: none; read at scrape)",
)
PROVIDER_CALLS = Counter(
    "acctsync_provider_calls_total",
    "HTTP requests to the accounting provider, by endpoint class and status "
    "(2xx, 4xx, 429, 5xx, error for no answer)",
    ["provider", "endpoint", "status"],
)
PROVIDER_LATENCY = Histogram(
    "acctsync_provider_call_duration_seconds",
    "Latency of one HTTP request to the accounting provider",
    ["provider", "endpoint"],
    buckets=_FAST,
)
PROVIDER_RETRIES = Counter(
    "acctsync_provider_retries_total",
    "Provider requests that were retries of a failed one (429, 408, 5xx, no answer)",
    ["provider", "endpoint"],
)
PROVIDER_RATE_LIMITED = Counter(
    "acctsync_provider_rate_limited_total",
    "Provider answers 429 Too Many Requests",
    ["provider", "endpoint"],
)
EVENTS_OUT = Counter(
    "acctsync_events_delivered_total",
    "Outbound event deliveries to partners' endpoints, by outcome",
    ["outcome"],
)

#: The bounded vocabularies: anything else is counted as "other".
DATA_TYPES = frozenset(
    {"accounts", "taxRates", "customers", "suppliers", "items", "invoices", "bills"}
)
OBJECT_TYPES = frozenset({"bill", "receivable", "customer", "vendor", "product"})
#: At most this many endpoint classes per provider are labelled (a safety net).
MAX_ENDPOINTS = 100
_endpoints: dict[str, set[str]] = {}
_ID_LIKE = re.compile(r"^[A-Za-z_-]{1,40}$")


def _one_of(value: Any, allowed: Iterable[str]) -> str:
    text = str(value)
    return text if text in allowed else "other"


def _seconds_since(when: dt.datetime | None) -> float | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (dt.datetime.now(dt.UTC) - when).total_seconds())


def clock() -> float:
    """A start time for the ``duration`` of :func:`pull_done` (monotonic seconds)."""
    return time.monotonic()


def pull_done(data_type: str, ok: bool, started: float, read: int = 0, changed: int = 0) -> None:
    """One data type's pull ended (``started`` from :func:`clock`); counts of a success."""
    label = _one_of(data_type, DATA_TYPES)
    PULL_RUNS.labels(label, "ok" if ok else "failed").inc()
    PULL_DURATION.labels(label).observe(max(0.0, time.monotonic() - started))
    if ok:
        PULL_READ.labels(label).inc(max(0, read))
        PULL_CHANGED.labels(label).inc(max(0, changed))


def push_attempt(object_type: str, manual: bool) -> None:
    """A push run of a synced record starts (``manual``: a person asked)."""
    PUSH_RUNS.labels(_one_of(object_type, OBJECT_TYPES), "manual" if manual else "auto").inc()


def push_done(object_type: str, changed_at: dt.datetime | None) -> None:
    """A push is done; ``changed_at``: when the object last changed (its status reached a
    push status), for the time to done."""
    label = _one_of(object_type, OBJECT_TYPES)
    PUSH_OUTCOMES.labels(label, "done").inc()
    seconds = _seconds_since(changed_at)
    if seconds is not None:
        PUSH_TIME_TO_DONE.labels(label).observe(seconds)


def push_failed(object_type: str, retrying: bool) -> None:
    """A push failed: retried automatically, or waiting for a person."""
    outcome = "error_retrying" if retrying else "error_waiting"
    PUSH_OUTCOMES.labels(_one_of(object_type, OBJECT_TYPES), outcome).inc()


def webhook_received(outcome: str, reason: str | None = None) -> None:
    """A delivery was ``accepted``, a ``duplicate`` or ``refused`` (with its ``reason``:
    ``signature``, ``malformed``, ``too_large``, ``unstorable``)."""
    WEBHOOKS.labels(_one_of(outcome, ("accepted", "duplicate", "refused"))).inc()
    if outcome == "refused":
        WEBHOOKS_REFUSED.labels(
            _one_of(reason, ("signature", "malformed", "too_large", "unstorable"))
        ).inc()


def webhook_applied(outcome: str, received_at: dt.datetime | None) -> None:
    """A stored webhook event was settled with ``outcome`` (or ``failed``: retried later)."""
    WEBHOOKS_APPLIED.labels(str(outcome)[:40] if outcome else "none").inc()
    if outcome != "failed":
        lag = _seconds_since(received_at)
        if lag is not None:
            WEBHOOK_APPLY_LAG.observe(lag)


def job_added(task: str) -> None:
    JOBS_ADDED.labels(str(task)[:60]).inc()


def job_finished(task: str, outcome: str) -> None:
    JOBS_FINISHED.labels(str(task)[:60], str(outcome)[:40]).inc()


def refresh_jobs(jobs: Iterable[Any], now: dt.datetime | None = None) -> None:
    """Set the queue gauges from the job store's jobs (``task_id``, ``acquired_by``,
    ``created_at``, ``scheduled_fire_time``)."""
    now = now or dt.datetime.now(dt.UTC)
    queued: dict[str, int] = {}
    running: dict[str, int] = {}
    oldest = 0.0
    for job in jobs:
        task = str(getattr(job, "task_id", "other"))[:60]
        if getattr(job, "acquired_by", None):
            running[task] = running.get(task, 0) + 1
            continue
        queued[task] = queued.get(task, 0) + 1
        due = getattr(job, "scheduled_fire_time", None) or getattr(job, "created_at", None)
        if due is not None and due <= now:
            oldest = max(oldest, (now - due).total_seconds())
    for gauge, counts in ((JOBS_QUEUED, queued), (JOBS_RUNNING, running)):
        gauge.clear()
        for task, n in counts.items():
            gauge.labels(task).set(n)
    JOBS_OLDEST_DUE.set(oldest)


def endpoint_class(path: str) -> str:
    """A request path's class: its words kept, ids replaced (``/companies/{id}/data/bills``):
    a bounded label."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    return "/" + "/".join(
        p if _ID_LIKE.match(p) and not _looks_like_id(p) else "{id}" for p in parts
    )


def _looks_like_id(part: str) -> bool:
    return len(part) > 24 or (part.count("-") >= 2 and len(part) > 12)


def provider_call(
    provider: str,
    method: str,
    path: str,
    status: int | None,
    seconds: float | None,
    attempt: int = 1,
) -> None:
    """One HTTP request to the provider answered ``status`` (None: no answer) after
    ``seconds``; ``attempt`` > 1 is a retry."""
    endpoint = f"{method} {endpoint_class(path)}"
    seen = _endpoints.setdefault(provider, set())
    if endpoint not in seen:
        if len(seen) >= MAX_ENDPOINTS:
            endpoint = "other"
        else:
            seen.add(endpoint)
    if status is None:
        label = "error"
    elif status == 429:
        label = "429"
        PROVIDER_RATE_LIMITED.labels(provider, endpoint).inc()
    else:
        label = f"{status // 100}xx"
    PROVIDER_CALLS.labels(provider, endpoint, label).inc()
    if seconds is not None:
        PROVIDER_LATENCY.labels(provider, endpoint).observe(max(0.0, seconds))
    if attempt > 1:
        PROVIDER_RETRIES.labels(provider, endpoint).inc()


def event_delivered(outcome: str) -> None:
    """An outbound event delivery ended (``delivered``, ``failed``, ``gave_up``, ...)."""
    EVENTS_OUT.labels(str(outcome)[:40]).inc()
