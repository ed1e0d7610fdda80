"""The browser tests run against the end-to-end pair (service + sandbox) of ``tests/e2e``."""

from tests.e2e.conftest import sandbox_overrides, world  # noqa: F401
