"""Request and response bodies of ``/v1/auth``."""

from typing import Literal

from app.schemas import Request, Response


class TokenRequest(Request):
    """Monite ``ObtainTokenPayload`` (client credentials grant)."""

    grant_type: Literal["client_credentials"]
    client_id: str
    client_secret: str


class AccessToken(Response):
    """Monite ``AccessTokenResponse``; ``expires_in`` in seconds."""

    access_token: str
    token_type: str
    expires_in: int


class RevokeRequest(Request):
    """Revoke ``token``; the client credentials prove it is the caller's."""

    client_id: str
    client_secret: str
    token: str


class Message(Response):
    """A plain acknowledgement."""

    message: str
