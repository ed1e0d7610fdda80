"""A local emulator of the Smarty Accounting API (its public reference:
``../shared/reference/smarty-accounting-api.txt``).

It imports nothing from the service. ``create_smarty_app(config)`` builds it; the embedded
service mounts it at ``/smarty``; ``python -m smarty_sandbox`` serves it alone.

Public surface::

    from smarty_sandbox import SmartyConfig, SmartyFaults, create_smarty_app, EXAMPLE_USERS
"""

from smarty_sandbox.app import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    MAX_PAGE_SIZE,
    Emulator,
    SmartyConfig,
    SmartyFaults,
    create_smarty_app,
)
from smarty_sandbox.seed import EXAMPLE_USERS, generate, seed_examples

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "EXAMPLE_USERS",
    "MAX_PAGE_SIZE",
    "Emulator",
    "SmartyConfig",
    "SmartyFaults",
    "create_smarty_app",
    "generate",
    "seed_examples",
]
