"""The Smarty Accounting provider: :class:`SmartyProvider` (the
:class:`~app.providers.AccountingProvider` as an adapter over Smarty's own REST API,
``provider``), its HTTP client with OAuth tokens (``client``) and where a connection's tokens
are kept (``tokens``).

Public surface::

    from app.providers.smarty import SmartyProvider, SmartyClient, TokenSet, PLATFORM, ...
"""

from app.providers.smarty.client import (
    REFRESH_MARGIN,
    SmartyClient,
    SmartyDeauthorized,
    TokenSet,
    TokenStore,
    oauth_call,
    tokens_from,
)
from app.providers.smarty.provider import MAX_PAGE_SIZE, PLATFORM, SmartyProvider, to_codat
from app.providers.smarty.tokens import (
    DbTokenStore,
    MemoryTokenStore,
    forget_tokens,
    load_tokens,
    store_tokens,
)

__all__ = [
    "MAX_PAGE_SIZE",
    "PLATFORM",
    "REFRESH_MARGIN",
    "DbTokenStore",
    "MemoryTokenStore",
    "SmartyClient",
    "SmartyDeauthorized",
    "SmartyProvider",
    "TokenSet",
    "TokenStore",
    "forget_tokens",
    "load_tokens",
    "oauth_call",
    "store_tokens",
    "to_codat",
    "tokens_from",
]
