"""Accounting platforms the sandbox can "connect" to.

Each platform has Codat's 4-letter platform key, Codat's display name and the folder of
example data under ``sandbox/data/codat/`` (``None``: the company is filled by the seeded
generator instead, as for Codat's own "Sandbox" integration).

Codat: Xero ``gbol``, QuickBooks Online ``qhyg``, QuickBooks Online Sandbox ``ndsk`` and
Sandbox ``mqjo`` are Codat's real keys; the other keys are stable inventions of this sandbox.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

_NAMESPACE = uuid.UUID("3f0e7f1c-5c8e-4b7e-9a55-0b9d3c1f2a10")


@dataclass(frozen=True, slots=True)
class Platform:
    """One accounting platform: ``key`` (4 lowercase letters), ``name``, ``folder``."""

    key: str
    name: str
    folder: str | None

    @property
    def integration_id(self) -> str:
        """A stable uuid for the platform's integration (Codat ``integrationId``)."""
        return str(uuid.uuid5(_NAMESPACE, f"integration:{self.key}"))

    @property
    def source_id(self) -> str:
        """A stable uuid for the platform's source (Codat ``sourceId``)."""
        return str(uuid.uuid5(_NAMESPACE, f"source:{self.key}"))

    @property
    def slug(self) -> str:
        """The short name used in seeded company names ("Example xero")."""
        return self.folder or self.name.lower()


PLATFORMS: tuple[Platform, ...] = (
    Platform("gbol", "Xero", "xero"),
    Platform("qhyg", "QuickBooks Online", "quickbooks-online"),
    Platform("ndsk", "QuickBooks Online Sandbox", "quickbooks-online-sandbox"),
    Platform("mqjo", "Sandbox", None),
    Platform("pqsw", "QuickBooks Desktop", "quickbooks-desktop"),
    Platform("akxx", "Oracle NetSuite", "oracle-netsuite"),
    Platform("knfz", "Sage Intacct", "sage-intacct"),
    Platform("tgff", "Sage Business Cloud Accounting", "sage-business-cloud-accounting"),
    Platform("sgtc", "Sage 200cloud", "sage-200cloud"),
    Platform("sfku", "Sage 50 (UK)", "sage-50-uk"),
    Platform("trji", "Dynamics 365 Business Central", "dynamics-365-business-central"),
    Platform("fbrh", "FreeAgent", "freeagent"),
    Platform("dsfb", "FreshBooks", "freshbooks"),
    Platform("rwuv", "Zoho Books", "zoho-books"),
    Platform("qudb", "Exact (Netherlands)", "exact-netherlands"),
    Platform("exuk", "Exact (UK)", "exact-uk"),
    Platform("hbql", "KashFlow", "kashflow"),
    Platform("clbk", "Clear Books", "clear-books"),
    Platform("wvac", "Wave", "wave"),
)

BY_KEY: dict[str, Platform] = {p.key: p for p in PLATFORMS}


def find_platform(name_or_key: str) -> Platform | None:
    """Find a platform by key (``gbol``), folder (``xero``) or name (``Xero``), any case."""
    needle = name_or_key.strip().lower()
    for platform in PLATFORMS:
        if needle in (platform.key, platform.slug, platform.name.lower()):
            return platform
    return None
