"""The Smarty connect page's URL: ``{public}/v1/smarty/connect/{connection id}.{signature}``
(HMAC-SHA256 under a key derived from the secret key): the URL is the capability, as a
provider's link URL is."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from app.config import Settings
from app.crypto import derive_key

PLATFORM = "smarty_accounting"
LINK_PATH = "/v1/smarty/connect"


def link_token(settings: Settings, connection_id: uuid.UUID) -> str:
    """``{connection id}.{signature}`` for the connect page's URL."""
    key = derive_key(settings.secret_key, "smarty-connect-link")
    sig = hmac.new(key, str(connection_id).encode(), hashlib.sha256).digest()[:18]
    return f"{connection_id}.{base64.urlsafe_b64encode(sig).decode().rstrip('=')}"


def connection_of_token(settings: Settings, token: str) -> uuid.UUID | None:
    """The connection id a link token signs, None when it is not one of ours."""
    head, _, _sig = token.partition(".")
    try:
        connection_id = uuid.UUID(head)
    except ValueError:
        return None
    return (
        connection_id if hmac.compare_digest(token, link_token(settings, connection_id)) else None
    )


def link_url(settings: Settings, connection_id: uuid.UUID) -> str:
    """Where the user connects this connection to Smarty."""
    return f"{settings.public_url}{LINK_PATH}/{link_token(settings, connection_id)}"
