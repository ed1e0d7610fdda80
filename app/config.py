"""Service configuration, read once from ``ACCTSYNC_*`` environment variables.

Every setting is documented in the README's configuration table. A missing or malformed
setting raises :class:`ConfigError` naming the variable, and the CLI turns that into a
one-line message and exit code 2 before anything starts.
"""

from __future__ import annotations

import logging
import os
import secrets as secrets_module
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

PREFIX = "ACCTSYNC_"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/acctsync.db"
#: Placeholder secret of the embedded default. Refused when ``ACCTSYNC_ENV=production``.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789"
#: Keys anyone can read (this file, the compose file's old default): refused in production.
PUBLISHED_SECRET_KEYS = frozenset({DEV_SECRET_KEY, "change-me-change-me-change-me-change-me"})
SECRET_KEY_FILE = "secret_key"
ROLES = ("all", "api", "worker")


class ConfigError(ValueError):
    """A setting is missing or malformed; ``name`` is the full variable name."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


@dataclass(frozen=True, slots=True)
class Settings:
    """The service's settings (see the README's table for each variable)."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEV_SECRET_KEY
    env: str = "development"
    role: str = "all"
    public_url: str = "http://127.0.0.1:8000"
    codat_base_url: str | None = None  # None: the embedded sandbox at {public_url}/sandbox
    codat_webhook_secret: tuple[str, ...] = ()
    codat_webhook_auth: str | None = None
    sandbox_api_key: str = "sandbox"
    #: Smarty Accounting (issue 19): None = the embedded emulator at {public_url}/smarty.
    smarty_api_url: str | None = None
    smarty_oauth_url: str | None = None
    smarty_client_id: str = "smarty-sandbox-client"
    smarty_client_secret: str = "smarty-sandbox-secret"
    token_ttl_seconds: int = 3600
    pull_interval_seconds: int = 3600
    job_lease_seconds: int = 30
    manual_sync_daily_limit: int = 20
    webhook_allow_private_urls: bool = False  # production: webhooks to private addresses
    log_level: str = "INFO"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite default (single process)."""
        return self.database_url.startswith("sqlite")

    @property
    def embedded_sandbox(self) -> bool:
        """True when no provider URL is configured: ``serve`` mounts the sandbox in-process."""
        return self.codat_base_url is None

    @property
    def provider_base_url(self) -> str:
        """The Codat-compatible base URL the provider client talks to."""
        return self.codat_base_url or f"{self.public_url}/sandbox"

    @property
    def embedded_smarty(self) -> bool:
        """True when no Smarty API URL is configured: ``serve`` mounts the emulator."""
        return self.smarty_api_url is None

    @property
    def smarty_api_base(self) -> str:
        """Smarty's API root (real: ``https://acc.smartysoftware.net/api/v1``)."""
        return self.smarty_api_url or f"{self.public_url}/smarty/api/v1"

    @property
    def smarty_oauth_base(self) -> str:
        """Smarty's OAuth root (real: ``https://oauth.smartysoftware.net``)."""
        return self.smarty_oauth_url or f"{self.public_url}/smarty/oauth"


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(name, f"must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _int(name: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(name, f"must be an integer, got {value!r}") from None
    if number < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {number}")
    return number


def served_at(settings: Settings, url: str, environ: Mapping[str, str] | None = None) -> Settings:
    """``settings`` with ``public_url`` = ``url`` (``http://host:port`` the service listens on)
    unless ``ACCTSYNC_PUBLIC_URL`` is set: the embedded sandbox and Smarty emulator are
    reached at ``{public_url}/sandbox`` and ``{public_url}/smarty``, so ``serve --port 9000``
    without that variable must not keep pointing them at the default port 8000."""
    env = os.environ if environ is None else environ
    if (env.get(PREFIX + "PUBLIC_URL") or "").strip():
        return settings
    return replace(settings, public_url=url.rstrip("/"))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``environ`` (default ``os.environ``).

    Raises:
        ConfigError: a variable is malformed (bad URL, non-integer, unknown role, a webhook
            secret without the ``whsec_`` prefix, a short secret key) or required and missing
            (``ACCTSYNC_SECRET_KEY`` when ``ACCTSYNC_ENV=production``).
    """
    env = os.environ if environ is None else environ

    def get(key: str) -> str | None:
        value = env.get(PREFIX + key)
        return value.strip() if value is not None and value.strip() != "" else None

    values: dict[str, object] = {}
    if (url := get("DATABASE_URL")) is not None:
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+psycopg://")):
            raise ConfigError(
                PREFIX + "DATABASE_URL",
                "must start with sqlite+aiosqlite:// or postgresql+psycopg://",
            )
        values["database_url"] = url
    mode = get("ENV") or "development"
    if mode not in ("development", "production", "test"):
        raise ConfigError(PREFIX + "ENV", "must be development, production or test")
    values["env"] = mode
    secret = get("SECRET_KEY")
    if secret is None and mode == "production":
        raise ConfigError(PREFIX + "SECRET_KEY", "is required when ACCTSYNC_ENV=production")
    if secret is not None:
        if len(secret) < 32:
            raise ConfigError(PREFIX + "SECRET_KEY", "must be at least 32 characters")
        if mode == "production" and _published(secret):
            raise ConfigError(
                PREFIX + "SECRET_KEY",
                "is a published placeholder: set a random secret of 32+ characters "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')",
            )
        values["secret_key"] = secret
    if (role := get("ROLE")) is not None:
        if role not in ROLES:
            raise ConfigError(PREFIX + "ROLE", f"must be one of {', '.join(ROLES)}")
        values["role"] = role
    if (public := get("PUBLIC_URL")) is not None:
        values["public_url"] = _url(PREFIX + "PUBLIC_URL", public)
    if (codat := get("CODAT_BASE_URL")) is not None:
        values["codat_base_url"] = _url(PREFIX + "CODAT_BASE_URL", codat)
    if (secrets := get("CODAT_WEBHOOK_SECRET")) is not None:
        items = tuple(s for s in (p.strip() for p in secrets.split(",")) if s)
        for item in items:
            if not item.startswith("whsec_"):
                raise ConfigError(
                    PREFIX + "CODAT_WEBHOOK_SECRET",
                    "each comma-separated secret must start with whsec_",
                )
        values["codat_webhook_secret"] = items
    if (auth := get("CODAT_WEBHOOK_AUTH")) is not None:
        values["codat_webhook_auth"] = auth
    if (key := get("SANDBOX_API_KEY")) is not None:
        values["sandbox_api_key"] = key
    for name in ("SMARTY_API_URL", "SMARTY_OAUTH_URL"):
        if (value := get(name)) is not None:
            values[name.lower()] = _url(PREFIX + name, value)
    for name in ("SMARTY_CLIENT_ID", "SMARTY_CLIENT_SECRET"):
        if (value := get(name)) is not None:
            values[name.lower()] = value
    if (ttl := get("TOKEN_TTL_SECONDS")) is not None:
        values["token_ttl_seconds"] = _int(PREFIX + "TOKEN_TTL_SECONDS", ttl, 60)
    if (interval := get("PULL_INTERVAL_SECONDS")) is not None:
        values["pull_interval_seconds"] = _int(PREFIX + "PULL_INTERVAL_SECONDS", interval, 1)
    if (lease := get("JOB_LEASE_SECONDS")) is not None:
        values["job_lease_seconds"] = _int(PREFIX + "JOB_LEASE_SECONDS", lease, 1)
    if (quota := get("MANUAL_SYNC_DAILY_LIMIT")) is not None:
        values["manual_sync_daily_limit"] = _int(PREFIX + "MANUAL_SYNC_DAILY_LIMIT", quota, 0)
    if (private := get("WEBHOOK_ALLOW_PRIVATE_URLS")) is not None:
        if private.lower() not in ("1", "0", "true", "false", "yes", "no"):
            raise ConfigError(PREFIX + "WEBHOOK_ALLOW_PRIVATE_URLS", "must be 1/0, true/false")
        values["webhook_allow_private_urls"] = private.lower() in ("1", "true", "yes")
    if (level := get("LOG_LEVEL")) is not None:
        if level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError(PREFIX + "LOG_LEVEL", "must be DEBUG, INFO, WARNING or ERROR")
        values["log_level"] = level.upper()
    return Settings(**values)  # type: ignore[arg-type]


def _published(secret: str) -> bool:
    folded = secret.lower()
    return secret in PUBLISHED_SECRET_KEYS or "change-me" in folded or "changeme" in folded


def secret_key_path(settings: Settings) -> Path:
    """Where the embedded default keeps its generated secret key: beside the SQLite database
    (``./var/`` by default), else ``./var/``."""
    if settings.is_sqlite:
        path = settings.database_url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            return Path(path).parent / SECRET_KEY_FILE
    return Path("var") / SECRET_KEY_FILE


def ensure_secret_key(settings: Settings) -> Settings:
    """Settings whose secret key is not the published development key.

    In development without ``ACCTSYNC_SECRET_KEY``, a random key (64 URL-safe characters) is
    generated on first start and kept in `secret_key_path` (mode 0600; read on every later
    start), and its path is logged once; tokens, pagination cursors and stored provider keys
    then survive restarts without anyone being able to forge them. Other settings are returned
    as they are (``test`` keeps the development key; ``production`` requires a key).

    Raises:
        ConfigError: the key file exists but holds fewer than 32 characters, or cannot be
            read or written (names the file).
    """
    if settings.secret_key != DEV_SECRET_KEY or settings.env != "development":
        return settings
    path = secret_key_path(settings)
    name = PREFIX + "SECRET_KEY"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_text().strip()
        else:
            key = secrets_module.token_urlsafe(48)
            with os.fdopen(fd, "w") as f:
                f.write(key + "\n")
            logging.getLogger("acctsync").warning(
                "no %s set: generated a secret key and kept it in %s (mode 0600)", name, path
            )
    except OSError as exc:
        raise ConfigError(name, f"unset, and {path} cannot hold a generated key: {exc}") from None
    if len(key) < 32:
        raise ConfigError(name, f"unset, and {path} holds fewer than 32 characters")
    return replace(settings, secret_key=key)
