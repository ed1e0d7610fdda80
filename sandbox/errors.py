"""Codat's error body and the exception that produces it.

Codat: ``{statusCode, service, error, correlationId, validation, canBeRetried}``
(``canBeRetried`` is a string, ``"True"``/``"False"``/``"Unknown"``).
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

SERVICE = "PublicApi"


class CodatError(Exception):
    """An API error answered with Codat's error body and ``status_code``."""

    def __init__(
        self,
        status_code: int,
        error: str,
        *,
        validation: dict[str, Any] | None = None,
        can_be_retried: str = "Unknown",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status_code = status_code
        self.error = error
        self.validation = validation
        self.can_be_retried = can_be_retried
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body as a dict."""
        return error_body(self.status_code, self.error, self.validation, self.can_be_retried)


def error_body(
    status_code: int,
    error: str,
    validation: dict[str, Any] | None = None,
    can_be_retried: str = "Unknown",
) -> dict[str, Any]:
    """Codat's error body with a fresh ``correlationId``."""
    return {
        "statusCode": status_code,
        "service": SERVICE,
        "error": error,
        "correlationId": uuid.uuid4().hex,
        "validation": validation,
        "canBeRetried": can_be_retried,
    }


def error_bytes(status_code: int, error: str, can_be_retried: str = "Unknown") -> bytes:
    """Codat's error body encoded as JSON bytes."""
    return msgspec.json.encode(error_body(status_code, error, None, can_be_retried))


def not_found(what: str) -> CodatError:
    """404 for a company, connection, record or push operation the key cannot see."""
    return CodatError(404, f"{what} not found", can_be_retried="False")


def bad_request(message: str) -> CodatError:
    """400 for a malformed request (query, paging, body)."""
    return CodatError(400, message, can_be_retried="False")
