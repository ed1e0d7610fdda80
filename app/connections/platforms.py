"""Platform names in our API (Monite's style) and the provider's platform keys.

Codat: Xero ``gbol``, QuickBooks Online ``qhyg``, QuickBooks Online Sandbox ``ndsk``, Sandbox
``mqjo`` (API.md). The other keys are the ones the bundled sandbox serves Codat's example
data under; point a platform at real Codat by its real key if it differs.
"""

from __future__ import annotations

PLATFORM_KEYS: dict[str, str] = {
    "xero": "gbol",
    "quickbooks_online": "qhyg",
    "quickbooks_online_sandbox": "ndsk",
    "sandbox": "mqjo",
    "quickbooks_desktop": "pqsw",
    "oracle_netsuite": "akxx",
    "sage_intacct": "knfz",
    "sage_business_cloud_accounting": "tgff",
    "sage_200cloud": "sgtc",
    "sage_50_uk": "sfku",
    "dynamics_365_business_central": "trji",
    "freeagent": "fbrh",
    "freshbooks": "dsfb",
    "zoho_books": "rwuv",
    "exact_netherlands": "qudb",
    "exact_uk": "exuk",
    "kashflow": "hbql",
    "clear_books": "clbk",
    "wave": "wvac",
}
#: Platforms reached directly, not through Codat: each connection holds its own credentials
#: (``app.connections.smarty``), by our platform name -> the platform's name.
DIRECT_PLATFORMS: dict[str, str] = {"smarty_accounting": "Smarty Accounting"}
PLATFORM_BY_KEY: dict[str, str] = {key: name for name, key in PLATFORM_KEYS.items()}


def platform_of_key(key: str | None) -> str | None:
    """Our platform name for a provider platform key (the key itself when unknown)."""
    if key is None:
        return None
    return PLATFORM_BY_KEY.get(key, key)
