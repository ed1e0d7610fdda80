"""Configuration of the sandbox provider: :class:`SandboxConfig` and :class:`FaultConfig`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import httpx
import msgspec

DEFAULT_WEBHOOK_SECRET = "whsec_c2FuZGJveC13ZWJob29rLXNpZ25pbmcta2V5LTAwMDE="
"""Default Standard Webhooks secret: base64 of ``sandbox-webhook-signing-key-0001``."""


class FaultConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Faults injected globally or for one company (all rates are probabilities 0..1).

    - ``rate_429``: answer 429 with ``Retry-After: retry_after`` (seconds) instead of serving;
    - ``rate_5xx``: answer 500 or 503 (Codat's error body, ``canBeRetried: "True"``);
    - ``latency_ms``: added to every API response;
    - ``push_timeout_rate``: a push operation settles ``TimedOut`` instead of running; with
      probability ``push_timeout_record_rate`` the record is still created or updated in the
      platform (as a slow real platform does), so a client must look before re-pushing;
    - ``webhook_drop_rate`` / ``webhook_duplicate_rate``: a webhook is never sent / sent twice
      (same ``webhook-id``); ``webhook_reorder``: webhooks are held for the configured window
      and sent out of order;
    - ``seed``: seeds the fault random generator, so a run is reproducible.
    """

    rate_429: float = 0.0
    retry_after: int = 1
    rate_5xx: float = 0.0
    latency_ms: int = 0
    push_timeout_rate: float = 0.0
    push_timeout_record_rate: float = 0.8
    webhook_drop_rate: float = 0.0
    webhook_duplicate_rate: float = 0.0
    webhook_reorder: bool = False
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "rate_429",
            "rate_5xx",
            "push_timeout_rate",
            "push_timeout_record_rate",
            "webhook_drop_rate",
            "webhook_duplicate_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise msgspec.ValidationError(f"{name} must be between 0 and 1")
        if self.retry_after < 0 or self.latency_ms < 0:
            raise msgspec.ValidationError("retry_after and latency_ms must be >= 0")


@dataclass
class SandboxConfig:
    """Everything the sandbox app needs; build the app with ``create_sandbox_app(config)``.

    - ``public_url``: the base URL the sandbox is reached at, including any mount prefix
      (``http://localhost:8000/sandbox``); every generated URL (``redirect``, ``linkUrl``,
      ``_links``) is built from it, never from the request.
    - ``api_keys``: accepted API keys (``Authorization: Basic base64(key)``); each key sees
      only its own companies.
    - ``webhook_url``: where webhooks go (None: none are sent); ``webhook_envelope``
      ``"current"`` (``{id, eventType, generatedDate, payload}``, Standard Webhooks signature
      with ``webhook_secret``) or ``"legacy"`` (Codat rule alerts, with the
      ``webhook_authorization`` value as the ``Authorization`` header);
      ``webhook_retry_delays``: seconds before each retry after a failed delivery (non-2xx or
      connection error; default Svix's schedule as Codat uses it: 5 s, 5 min, 30 min, 2 h,
      5 h, 10 h, 10 h); ``webhook_transport``: optional httpx transport (in-process delivery).
    - ``push_delay_s``: seconds before a push operation settles (0: settles in the request);
      ``sync_delay_s``: seconds before a queued data refresh completes.
    - ``seed_examples``: create one example company per platform for each key at start.
    - ``faults``: global faults at start (change at run time with ``PUT /_admin/faults``).
    - ``rate_limit`` requests per ``rate_limit_window_s`` per key, reported in
      ``X-Rate-Limit-*`` headers; over it, 429.
    - ``state_path``: a JSON file the state is kept in between runs (loaded at start, saved
      about once a second after a change and on stop); None: memory only.
    """

    public_url: str = "http://localhost:8001"
    api_keys: tuple[str, ...] = ("sandbox",)
    webhook_url: str | None = None
    webhook_envelope: Literal["current", "legacy"] = "current"
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    webhook_authorization: str | None = None
    webhook_retry_delays: tuple[float, ...] = (
        5.0,
        300.0,
        1800.0,
        7200.0,
        18000.0,
        36000.0,
        36000.0,
    )
    webhook_timeout_s: float = 15.0
    webhook_reorder_window_s: float = 0.2
    webhook_transport: httpx.AsyncBaseTransport | None = None
    push_delay_s: float = 0.2
    sync_delay_s: float = 0.05
    seed_examples: bool = False
    faults: FaultConfig = field(default_factory=FaultConfig)
    rate_limit: int = 10_000
    rate_limit_window_s: float = 60.0
    client_id: str = "5b1c7b4e-4a4d-4f0e-9d8a-7c0c9f2a7a11"
    client_name: str = "acctsync sandbox"
    link_redirect_url: str | None = None
    state_path: str | None = None

    @property
    def base_url(self) -> str:
        """``public_url`` without a trailing slash."""
        return self.public_url.rstrip("/")
