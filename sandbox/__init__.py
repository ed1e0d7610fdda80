"""A Codat-compatible accounting data provider that runs locally (its own Litestar app).

It speaks only Codat's HTTP API (companies, connections and link pages, data reads with paging
and ``query``, pushes and push operations, data status, webhooks), so the service's real Codat
client is what every demo and test exercises. Public interface::

    from sandbox import SandboxConfig, FaultConfig, create_sandbox_app
    app = create_sandbox_app(SandboxConfig(public_url="http://localhost:8000/sandbox"))

``generate_company_data(GeneratorSpec(...))`` builds a reproducible company of any size;
``PLATFORMS`` is the platform table (key, name, example-data folder). The example companies
are Codat's published records plus a generated layer (``sandbox.supplement``: chart of
accounts, tax rates, contacts; ``is_generated`` tells its records apart).
"""

from sandbox.app import SandboxRuntime, create_sandbox_app
from sandbox.config import DEFAULT_WEBHOOK_SECRET, FaultConfig, SandboxConfig
from sandbox.generator import GeneratorSpec, generate_company_data
from sandbox.platforms import BY_KEY, PLATFORMS, Platform, find_platform
from sandbox.state import SandboxState

__all__ = [
    "BY_KEY",
    "DEFAULT_WEBHOOK_SECRET",
    "PLATFORMS",
    "FaultConfig",
    "GeneratorSpec",
    "Platform",
    "SandboxConfig",
    "SandboxRuntime",
    "SandboxState",
    "create_sandbox_app",
    "find_platform",
    "generate_company_data",
]
