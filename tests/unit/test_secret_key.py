"""The secret key that signs tokens and encrypts provider keys is never one anyone can read.

In development without ACCTSYNC_SECRET_KEY a random key is generated on first start and kept
beside the database (mode 0600); production refuses the published development key and
placeholders such as the compose file's old default.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.config import (
    DEV_SECRET_KEY,
    ConfigError,
    ensure_secret_key,
    load_settings,
    secret_key_path,
)


def _dev(tmp_path: Path):
    return load_settings({"ACCTSYNC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db/x.db"})


def test_development_generates_a_key_once_and_keeps_it(tmp_path: Path) -> None:
    settings = _dev(tmp_path)
    assert settings.secret_key == DEV_SECRET_KEY
    first = ensure_secret_key(settings)
    path = secret_key_path(settings)
    assert path == tmp_path / "db" / "secret_key"
    assert first.secret_key != DEV_SECRET_KEY and len(first.secret_key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == first.secret_key
    # A restart reads the same key: tokens and stored provider keys stay valid.
    assert ensure_secret_key(_dev(tmp_path)).secret_key == first.secret_key
    # Another installation gets another key.
    other = ensure_secret_key(_dev(tmp_path / "elsewhere"))
    assert other.secret_key != first.secret_key


def test_a_key_that_is_set_or_a_test_run_is_left_alone(tmp_path: Path) -> None:
    key = "k" * 40
    settings = load_settings(
        {
            "ACCTSYNC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
            "ACCTSYNC_SECRET_KEY": key,
        }
    )
    assert ensure_secret_key(settings).secret_key == key
    test = load_settings(
        {"ACCTSYNC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db", "ACCTSYNC_ENV": "test"}
    )
    assert ensure_secret_key(test).secret_key == DEV_SECRET_KEY
    assert not (tmp_path / "secret_key").exists()


def test_a_short_key_file_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "secret_key").write_text("short\n")
    with pytest.raises(ConfigError) as caught:
        ensure_secret_key(_dev(tmp_path))
    assert "secret_key" in str(caught.value) and "ACCTSYNC_SECRET_KEY" in str(caught.value)


@pytest.mark.parametrize(
    "key",
    [
        DEV_SECRET_KEY,
        "change-me-change-me-change-me-change-me",
        "please-CHANGEME-0123456789abcdefgh",
    ],
)
def test_production_refuses_published_keys(key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"ACCTSYNC_ENV": "production", "ACCTSYNC_SECRET_KEY": key})
    assert caught.value.name == "ACCTSYNC_SECRET_KEY"
    assert "placeholder" in str(caught.value)


def test_production_takes_a_random_key() -> None:
    key = "9fQ2hV7kL0pXw3Zr8sT1uY6bN4mC5dE2aG7jK0qR"
    settings = load_settings({"ACCTSYNC_ENV": "production", "ACCTSYNC_SECRET_KEY": key})
    assert ensure_secret_key(settings).secret_key == key
