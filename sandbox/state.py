"""All sandbox state in one object: :class:`SandboxState` (in memory; a restart loses it).

Companies belong to the API key that created them; every lookup goes through the key, so
another key's company is a 404. Push operations and queued data refreshes are scheduled
callbacks (``due`` on the monotonic clock) run by the app's background loop
(:meth:`SandboxState.run_due`); reads also run whatever is due first, so state never depends
on the loop having woken up.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.config import FaultConfig, SandboxConfig
from sandbox.errors import CodatError, not_found
from sandbox.examples import load_examples
from sandbox.generator import GeneratorSpec, generate_company_data
from sandbox.platforms import BY_KEY, Platform, find_platform
from sandbox.store import Collection

logger = logging.getLogger("sandbox")

READ_TYPES = ("accounts", "taxRates", "items", "customers", "suppliers", "invoices", "bills")
"""Data types served at ``GET /companies/{companyId}/data/{dataType}``."""
PUSH_TYPES = ("bills", "invoices", "customers", "suppliers", "items")
"""Data types accepted at ``POST .../connections/{connectionId}/push/{dataType}``."""
DATASET_NAMES = {"accounts": "chartOfAccounts"}
"""Codat names the accounts data type ``chartOfAccounts`` in data status, queues and webhooks."""
DATASET_TO_READ = {"chartOfAccounts": "accounts"}


def dataset_name(read_type: str) -> str:
    """Codat's data type name for a read path segment (``accounts`` -> ``chartOfAccounts``)."""
    return DATASET_NAMES.get(read_type, read_type)


def utc_now() -> datetime:
    """The current UTC time (aware)."""
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """Codat's datetime format ``2024-01-02T03:04:05.123456Z`` (None stays None)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Connection:
    """A company's data connection to one platform (Codat ``Connection``)."""

    id: str
    company_id: str
    platform: Platform
    created: datetime
    status: str = "PendingAuth"
    last_sync: datetime | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    ever_linked: bool = False


@dataclass
class Company:
    """A company (Codat ``Company``) with its connections, data, pushes and faults."""

    id: str
    api_key: str
    name: str
    description: str | None
    tags: dict[str, str]
    created: datetime
    connections: dict[str, Connection] = field(default_factory=dict)
    data: dict[str, Collection] = field(
        default_factory=lambda: {t: Collection() for t in READ_TYPES}
    )
    filled: bool = False
    last_sync: datetime | None = None
    data_status: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    push_operations: dict[str, PushOperation] = field(default_factory=dict)
    faults: FaultConfig | None = None


@dataclass
class PushOperation:
    """One push (create or update) of one record (Codat ``PushOperation``)."""

    key: str
    company_id: str
    connection_id: str
    data_type: str
    kind: str  # "Create" | "Update"
    body: dict[str, Any]
    record_id: str | None
    requested: datetime
    timeout_in_minutes: int | None
    force_update: bool = False
    status: str = "Pending"
    status_code: int = 202
    completed: datetime | None = None
    error_message: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] | None = None
    data: dict[str, Any] | None = None


@dataclass(order=True)
class _Scheduled:
    due: float
    seq: int
    action: Callable[[], None] = field(compare=False)


class FaultState:
    """A fault configuration plus its seeded random generator."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)

    def hit(self, rate: float) -> bool:
        """True with probability ``rate`` (never draws when rate is 0)."""
        return rate > 0 and self.rng.random() < rate


class RateLimiter:
    """Fixed-window request counter per API key (``X-Rate-Limit-*`` headers)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._windows: dict[str, tuple[float, int]] = {}

    def take(self, api_key: str) -> tuple[int, int, datetime, bool]:
        """Count one request: (limit, remaining, reset time, allowed)."""
        now = time.monotonic()
        start, used = self._windows.get(api_key, (now, 0))
        if now - start >= self.window_s:
            start, used = now, 0
        allowed = used < self.limit
        if allowed:
            used += 1
        self._windows[api_key] = (start, used)
        reset = utc_now() + timedelta(seconds=max(0.0, self.window_s - (now - start)))
        return self.limit, self.limit - used, reset, allowed


class SandboxState:
    """The sandbox's whole state. ``events`` receives webhook events (see ``webhooks.py``)."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.companies: dict[str, Company] = {}
        self.faults = FaultState(config.faults)
        self.company_faults: dict[str, FaultState] = {}
        self.idempotency: dict[tuple[str, str], tuple[str, int, bytes]] = {}
        self.rate_limiter = RateLimiter(config.rate_limit, config.rate_limit_window_s)
        self._schedule: list[_Scheduled] = []
        self._seq = itertools.count()
        self._acting = 0  # scheduled actions running now (see ``busy``)
        self._last_stamp = utc_now()
        self.on_schedule: Callable[[], None] = lambda: None
        self.emit: Callable[[str, Company, dict[str, Any]], None] = lambda kind, company, d: None
        #: Set by anything that may have changed the state (a non-GET request, a scheduled
        #: action); the runtime saves the state when ``config.state_path`` is set.
        self.dirty = False

    # ---- time and scheduling -------------------------------------------------------------

    def stamp(self) -> datetime:
        """A strictly increasing "now", so every change gets a distinct ``modifiedDate``."""
        now = utc_now()
        if now <= self._last_stamp:
            now = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = now
        return now

    def schedule(self, delay_s: float, action: Callable[[], None]) -> None:
        """Run ``action`` once ``delay_s`` seconds from now (by the loop or :meth:`run_due`)."""
        heapq.heappush(
            self._schedule, _Scheduled(time.monotonic() + delay_s, next(self._seq), action)
        )
        self.on_schedule()

    def next_due(self) -> float | None:
        """Monotonic time of the next scheduled action, or None."""
        return self._schedule[0].due if self._schedule else None

    def busy(self) -> bool:
        """Whether an action is scheduled or running now. Safe to call from another thread
        (a test client may run the app on a loop of its own): an action is counted as running
        before it leaves the schedule and until it returns, so the webhook deliveries it
        starts are already in the dispatcher when ``busy`` turns false."""
        return bool(self._schedule) or self._acting > 0

    def run_due(self, *, everything: bool = False) -> int:
        """Run every action that is due (all of them with ``everything``); returns how many.

        Actions are synchronous, so a cancelled loop never leaves one half-applied.
        """
        ran = 0
        now = time.monotonic()
        while self._schedule and (everything or self._schedule[0].due <= now):
            self._acting += 1
            try:
                item = heapq.heappop(self._schedule)
                item.action()
            except Exception:  # one broken action must not stop the others
                logger.exception("sandbox: scheduled action failed")
            finally:
                self._acting -= 1
            ran += 1
        if ran:
            self.dirty = True
        return ran

    # ---- faults ----------------------------------------------------------------------------

    def faults_for(self, company_id: str | None) -> FaultState:
        """The company's fault state when it has one, else the global one."""
        if company_id is not None and company_id in self.company_faults:
            return self.company_faults[company_id]
        return self.faults

    def set_global_faults(self, config: FaultConfig) -> None:
        """Replace the global faults (and reseed their generator)."""
        self.faults = FaultState(config)

    def set_company_faults(self, company: Company, config: FaultConfig | None) -> None:
        """Set (or with None clear) one company's faults."""
        company.faults = config
        if config is None:
            self.company_faults.pop(company.id, None)
        else:
            self.company_faults[company.id] = FaultState(config)

    # ---- companies and connections ---------------------------------------------------------

    def company(self, api_key: str, company_id: str) -> Company:
        """The key's company. Raises CodatError 404 for an unknown or another key's company."""
        self.run_due()
        company = self.companies.get(company_id)
        if company is None or company.api_key != api_key:
            raise not_found(f"Company {company_id}")
        return company

    def companies_of(self, api_key: str) -> list[Company]:
        """The key's companies in creation order."""
        return [c for c in self.companies.values() if c.api_key == api_key]

    def create_company(
        self,
        api_key: str,
        name: str,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        company_id: str | None = None,
    ) -> Company:
        """Create an empty company for ``api_key``."""
        company = Company(
            id=company_id or str(uuid.uuid4()),
            api_key=api_key,
            name=name,
            description=description,
            tags=dict(tags or {}),
            created=self.stamp(),
        )
        self.companies[company.id] = company
        return company

    def connection(self, company: Company, connection_id: str) -> Connection:
        """The company's connection. Raises CodatError 404."""
        connection = company.connections.get(connection_id)
        if connection is None:
            raise not_found(f"Data connection {connection_id}")
        return connection

    def create_connection(self, company: Company, platform_key: str) -> Connection:
        """A new ``PendingAuth`` connection. Raises CodatError 400 for an unknown key."""
        platform = BY_KEY.get(platform_key or "")
        if platform is None:
            raise CodatError(
                400,
                f"Integration with platform key '{platform_key}' was not found or is not enabled.",
                can_be_retried="False",
            )
        connection = Connection(
            id=str(uuid.uuid4()), company_id=company.id, platform=platform, created=self.stamp()
        )
        company.connections[connection.id] = connection
        self.emit("connection.created", company, {"connection": connection})
        return connection

    def authorize(self, company: Company, connection: Connection) -> None:
        """The user clicked Authorize: Linked, data filled, connection + read webhooks."""
        old = connection.status
        if old == "Linked":
            return
        connection.status = "Linked"
        connection.errors = []
        reconnected = connection.ever_linked
        connection.ever_linked = True
        if not company.filled:
            self.fill(company, connection.platform)
        now = self.stamp()
        connection.last_sync = now
        company.last_sync = now
        event = "connection.reconnected" if reconnected else "connection.connected"
        self.emit(event, company, {"connection": connection, "old_status": old})
        for read_type in READ_TYPES:
            self._complete_dataset(company, connection, read_type, now)

    def deny(self, company: Company, connection: Connection) -> None:
        """The user clicked Deny: stays PendingAuth with an error; ``connection.failed``."""
        connection.errors = [
            {
                "statusCode": "403",
                "statusText": "User cancelled linking",
                "errorMessage": "User cancelled",
                "erroredOnUtc": iso(self.stamp()),
                "status": "Active",
            }
        ]
        self.emit(
            "connection.failed", company, {"connection": connection, "old_status": "PendingAuth"}
        )

    def unlink(self, company: Company, connection: Connection) -> None:
        """``PATCH {status: Unlinked}``: the connection stops; ``connection.disconnected``."""
        old = connection.status
        if old == "Unlinked":
            return
        connection.status = "Unlinked"
        self.emit("connection.disconnected", company, {"connection": connection, "old_status": old})

    def deauthorize(self, company: Company, connection: Connection) -> None:
        """The platform revoked access: ``Deauthorized``, an error, ``connection.disconnected``."""
        old = connection.status
        connection.status = "Deauthorized"
        connection.errors = [
            {
                "statusCode": "401",
                "statusText": "The integration de-authorized access to the connection.",
                "errorMessage": "The integration de-authorized access to the connection.",
                "erroredOnUtc": iso(self.stamp()),
                "status": "Active",
            }
        ]
        self.emit("connection.disconnected", company, {"connection": connection, "old_status": old})

    # ---- data ------------------------------------------------------------------------------

    def fill(
        self, company: Company, platform: Platform, data: dict[str, list] | None = None
    ) -> None:
        """Load records into the company: ``data``, else the platform's example data, else
        (platforms without examples, e.g. Sandbox ``mqjo``) a small generated company."""
        if data is None:
            if platform.folder is not None:
                data = load_examples(platform.folder)
            else:
                data = generate_company_data(GeneratorSpec(seed=1))
        for read_type in READ_TYPES:
            company.data[read_type] = Collection(data.get(read_type, []))
        company.filled = True

    def _complete_dataset(
        self,
        company: Company,
        connection: Connection,
        read_type: str,
        now: datetime,
        dataset_id: str | None = None,
        requested: str | None = None,
    ) -> dict[str, Any]:
        dataset_id = dataset_id or str(uuid.uuid4())
        name = dataset_name(read_type)
        dataset = {
            "id": dataset_id,
            "companyId": company.id,
            "connectionId": connection.id,
            "dataType": name,
            "status": "Complete",
            "statusDescription": None,
            "errorMessage": None,
            "requested": requested or iso(now),
            "completed": iso(now),
            "progress": 100,
            "isCompleted": True,
            "isErrored": False,
        }
        company.datasets[dataset_id] = dataset
        company.data_status[name] = {
            "dataType": name,
            "lastSuccessfulSync": iso(now),
            "currentStatus": "Complete",
            "latestSyncId": dataset_id,
            "latestSuccessfulSyncId": dataset_id,
        }
        self.emit("read.completed", company, {"connection": connection, "dataset": dataset})
        return dataset

    def queue_refresh(
        self, company: Company, data_type: str, connection_id: str | None
    ) -> dict[str, Any]:
        """``POST /data/queue/{dataType}``: a Queued dataset that completes after
        ``sync_delay_s`` (then a read-completed webhook). Raises CodatError 400/404."""
        read_type = DATASET_TO_READ.get(data_type, data_type)
        if read_type not in READ_TYPES:
            raise CodatError(
                400, f"Data type '{data_type}' is not supported.", can_be_retried="False"
            )
        if connection_id:
            connection = self.connection(company, connection_id)
        else:
            linked = [c for c in company.connections.values() if c.status == "Linked"]
            if not linked:
                raise CodatError(
                    400, "The company has no linked accounting connection.", can_be_retried="False"
                )
            connection = linked[0]
        requested = self.stamp()
        dataset = {
            "id": str(uuid.uuid4()),
            "companyId": company.id,
            "connectionId": connection.id,
            "dataType": dataset_name(read_type),
            "status": "Queued",
            "statusDescription": None,
            "errorMessage": None,
            "requested": iso(requested),
            "completed": None,
            "progress": 0,
            "isCompleted": False,
            "isErrored": False,
        }
        company.datasets[dataset["id"]] = dataset
        queued = dict(dataset)

        def complete() -> None:
            now = self.stamp()
            if connection.status != "Linked":
                dataset.update(
                    status="AuthError",
                    isErrored=True,
                    completed=iso(now),
                    errorMessage="The data connection is not linked.",
                )
                return
            self._complete_dataset(
                company, connection, read_type, now, dataset["id"], dataset["requested"]
            )
            connection.last_sync = now
            company.last_sync = now

        self.schedule(self.config.sync_delay_s, complete)
        return queued

    def touch(self, record: dict[str, Any]) -> dict[str, Any]:
        """Set ``modifiedDate`` and ``sourceModifiedDate`` to a fresh stamp (returns record)."""
        stamp = iso(self.stamp())
        record["modifiedDate"] = stamp
        record["sourceModifiedDate"] = stamp
        return record


def seed_company(
    state: SandboxState,
    api_key: str,
    platform: Platform,
    name: str,
    data: dict[str, list] | None = None,
    company_id: str | None = None,
) -> Company:
    """A company with a Linked connection to ``platform`` and its data loaded, created
    directly (no webhooks): the admin "seed" and "generate" shortcuts."""
    company = state.create_company(api_key, name, company_id=company_id)
    now = state.stamp()
    connection = Connection(
        id=str(uuid.uuid4()),
        company_id=company.id,
        platform=platform,
        created=now,
        status="Linked",
        last_sync=now,
        ever_linked=True,
    )
    company.connections[connection.id] = connection
    state.fill(company, platform, data)
    company.last_sync = now
    for read_type in READ_TYPES:
        name_ = dataset_name(read_type)
        sync_id = str(uuid.uuid4())
        company.data_status[name_] = {
            "dataType": name_,
            "lastSuccessfulSync": iso(now),
            "currentStatus": "Complete",
            "latestSyncId": sync_id,
            "latestSuccessfulSyncId": sync_id,
        }
    return company


def seed_example(state: SandboxState, api_key: str, platform: Platform) -> Company:
    """The key's example company for ``platform`` ("Example xero"), created once: the same
    key and platform always give the same company (and company id)."""
    company_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-example:{api_key}:{platform.key}"))
    existing = state.companies.get(company_id)
    if existing is not None:
        return existing
    return seed_company(state, api_key, platform, f"Example {platform.slug}", company_id=company_id)


def resolve_platform(name_or_key: str) -> Platform:
    """A platform by key, folder or name. Raises CodatError 400."""
    platform = find_platform(name_or_key)
    if platform is None:
        raise CodatError(400, f"Unknown platform '{name_or_key}'.", can_be_retried="False")
    return platform
