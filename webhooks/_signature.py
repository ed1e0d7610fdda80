"""Request verification: Standard Webhooks / Svix signatures and the legacy Authorization header.

Codat: current webhooks are delivered by Svix and signed the Standard Webhooks way: headers
`webhook-id`, `webhook-timestamp`, `webhook-signature` (or the same with `svix-`), signature
`v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")) where the key is the base64 after
`whsec_`; several space-separated signatures may be sent (secret rotation); a timestamp more
than 5 minutes from now is rejected. Legacy rule webhooks carry a configured `Authorization`
header value instead.

The HMAC itself is the `standardwebhooks` library's (`Webhook.sign`); this module adds what its
`Webhook.verify` lacks: an injectable clock, the `svix-` headers, several secrets, tolerance of
malformed signature entries, and one exception type with a machine-readable reason.
"""

from __future__ import annotations

import base64
import binascii
import enum
import functools
import hmac
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import msgspec
from standardwebhooks import Webhook

from webhooks._errors import VerificationFailure, WebhookVerificationError

TIMESTAMP_TOLERANCE_SECONDS = 5 * 60
"""Codat / Standard Webhooks: a timestamp further than this from now (either way) is rejected."""

_PREFIXES = ("webhook", "svix")
_MAX_TIMESTAMP_DIGITS = 15


class Scheme(enum.StrEnum):
    """How a webhook request was authenticated."""

    SIGNATURE = "signature"
    """Standard Webhooks / Svix HMAC signature (Codat's current webhooks)."""
    AUTHORIZATION = "authorization"
    """A shared `Authorization` header value (Codat's legacy rule webhooks)."""


class VerifiedRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a successful `verify_request`.

    Attributes:
        scheme: which scheme authenticated the request.
        message_id: the `webhook-id` / `svix-id` header for `Scheme.SIGNATURE`, else None.
            Pass it to `decode_event(..., message_id=...)` as the fallback message id.
    """

    scheme: Scheme
    message_id: str | None = None


@functools.lru_cache(maxsize=64)
def _webhook(secret: str) -> Webhook:
    try:
        return Webhook(secret)
    except Exception as exc:  # the library raises binascii.Error, EmptyWebhookSecretError, ...
        # Never put the secret itself in the message.
        raise ValueError("a webhook secret must be 'whsec_' followed by a base64 key") from exc


def check_secret(secret: str) -> None:
    """Validate a configured signing secret (`whsec_` + non-empty base64) without using it.

    Raises:
        ValueError: the secret is empty or not base64 (the message does not repeat it).
    """
    if not isinstance(secret, str) or not secret.strip():
        raise ValueError("a webhook secret must be 'whsec_' followed by a base64 key")
    _webhook(secret)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _signature_headers_of(headers: dict[str, str]) -> tuple[str, str, str] | None:
    """The first complete (id, timestamp, signature) set: `webhook-*`, then `svix-*`."""
    for prefix in _PREFIXES:
        msg_id = headers.get(f"{prefix}-id")
        timestamp = headers.get(f"{prefix}-timestamp")
        signature = headers.get(f"{prefix}-signature")
        if msg_id and timestamp and signature:
            return msg_id, timestamp, signature
    return None


def has_signature_headers(headers: Mapping[str, str]) -> bool:
    """True when any `webhook-id`/`-timestamp`/`-signature` or `svix-*` header is present.

    Header names are matched case-insensitively.
    """
    lowered = _lower(headers)
    return any(
        f"{prefix}-{part}" in lowered
        for prefix in _PREFIXES
        for part in ("id", "timestamp", "signature")
    )


def _sign_text(secret: str, msg_id: str, timestamp: int, text: str) -> str:
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    return _webhook(secret).sign(msg_id=msg_id, timestamp=when, data=text)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature of one message: `"v1," + base64(HMAC-SHA256)`.

    Args:
        secret: `whsec_` + base64 key (Codat's format).
        msg_id: the message id (`webhook-id`).
        timestamp: whole seconds since the Unix epoch (`webhook-timestamp`).
        body: the exact request body bytes (UTF-8).

    Raises:
        ValueError: the secret is malformed, or the body is not UTF-8.
    """
    return _sign_text(secret, msg_id, int(timestamp), body.decode("utf-8"))


def signature_headers(
    secret: str, msg_id: str, timestamp: int, body: bytes, *, prefix: str = "webhook"
) -> dict[str, str]:
    """The three headers a sender attaches: `{prefix}-id`, `-timestamp`, `-signature`.

    Args:
        prefix: "webhook" (Standard Webhooks) or "svix" (Svix's own names).

    Raises:
        ValueError: malformed secret, non-UTF-8 body, or an unknown prefix.
    """
    if prefix not in _PREFIXES:
        raise ValueError(f"prefix must be one of {_PREFIXES}")
    return {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": str(int(timestamp)),
        f"{prefix}-signature": sign(secret, msg_id, timestamp, body),
    }


def _decoded_v1_signatures(header: str) -> list[bytes]:
    """The raw bytes of each well-formed `v1,<base64>` entry; other entries are skipped."""
    found = []
    for entry in header.split():
        version, comma, encoded = entry.partition(",")
        if version != "v1" or not comma:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify_signature(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Iterable[str],
    *,
    now: float | None = None,
) -> str:
    """Verify a Standard Webhooks / Svix signed request; return its message id.

    Args:
        headers: the request headers; names are matched case-insensitively. `webhook-*` is
            used when complete, else `svix-*`; the two sets are never mixed.
        body: the exact raw request body.
        secrets: every currently accepted `whsec_...` secret (more than one during rotation);
            the request passes when any `v1,` signature in the header matches any secret.
        now: the current time in seconds since the epoch; `time.time()` when None.

    Returns:
        The `webhook-id` (or `svix-id`) header value.

    Raises:
        WebhookVerificationError: reason MISSING_HEADERS, BAD_TIMESTAMP, STALE_TIMESTAMP,
            FUTURE_TIMESTAMP (more than 5 minutes from `now`), BODY_NOT_UTF8,
            NO_MATCHING_SIGNATURE, or NOT_CONFIGURED (no secrets given).
        ValueError: a configured secret is malformed (a configuration error, not a bad request).
    """
    secrets = [s for s in secrets if s]
    found = _signature_headers_of(_lower(headers))
    if found is None:
        raise WebhookVerificationError(
            VerificationFailure.MISSING_HEADERS,
            "need webhook-id, webhook-timestamp and webhook-signature (or svix-*)",
        )
    msg_id, raw_timestamp, signature_header = found
    if not (
        raw_timestamp.isascii()
        and raw_timestamp.isdigit()
        and len(raw_timestamp) <= _MAX_TIMESTAMP_DIGITS
    ):
        raise WebhookVerificationError(
            VerificationFailure.BAD_TIMESTAMP, "timestamp must be whole seconds since the epoch"
        )
    timestamp = int(raw_timestamp)
    current = time.time() if now is None else now
    if timestamp < current - TIMESTAMP_TOLERANCE_SECONDS:
        raise WebhookVerificationError(
            VerificationFailure.STALE_TIMESTAMP, f"{current - timestamp:.0f}s old"
        )
    if timestamp > current + TIMESTAMP_TOLERANCE_SECONDS:
        raise WebhookVerificationError(
            VerificationFailure.FUTURE_TIMESTAMP, f"{timestamp - current:.0f}s ahead"
        )
    if not secrets:
        raise WebhookVerificationError(
            VerificationFailure.NOT_CONFIGURED, "no signing secret configured"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookVerificationError(VerificationFailure.BODY_NOT_UTF8) from None
    offered = _decoded_v1_signatures(signature_header)
    for secret in secrets:
        expected = base64.b64decode(_sign_text(secret, msg_id, timestamp, text)[3:])
        for candidate in offered:
            if hmac.compare_digest(expected, candidate):
                return msg_id
    raise WebhookVerificationError(
        VerificationFailure.NO_MATCHING_SIGNATURE,
        f"{len(offered)} v1 signature(s) checked against {len(secrets)} secret(s)",
    )


def verify_authorization(headers: Mapping[str, str], accepted: str | Iterable[str]) -> None:
    """Verify a legacy rule webhook by its `Authorization` header (constant-time comparison).

    Args:
        headers: the request headers; names are matched case-insensitively.
        accepted: the configured Authorization value, or several (rotation). Empty values are
            ignored, so an unset value never admits an empty header.

    Raises:
        WebhookVerificationError: reason NOT_CONFIGURED (no non-empty value configured),
            MISSING_HEADERS (no Authorization header) or BAD_AUTHORIZATION (no value equals it).
    """
    values = [accepted] if isinstance(accepted, str) else list(accepted)
    values = [v for v in values if v]
    if not values:
        raise WebhookVerificationError(
            VerificationFailure.NOT_CONFIGURED, "no Authorization value configured"
        )
    given = _lower(headers).get("authorization")
    if not given:
        raise WebhookVerificationError(
            VerificationFailure.MISSING_HEADERS, "no Authorization header"
        )
    given_bytes = given.encode("utf-8")
    matched = False
    for value in values:
        # compare_digest on bytes: str arguments must be ASCII, header values may not be.
        matched |= hmac.compare_digest(given_bytes, value.encode("utf-8"))
    if not matched:
        raise WebhookVerificationError(VerificationFailure.BAD_AUTHORIZATION)


def verify_request(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Iterable[str] = (),
    authorizations: str | Iterable[str] | None = None,
    now: float | None = None,
) -> VerifiedRequest:
    """Verify a provider webhook request by whichever scheme it uses.

    A request that carries any `webhook-*` / `svix-*` header is held to the signature scheme
    (a valid Authorization header does not rescue a bad signature); any other request is held
    to the legacy Authorization scheme.

    Args:
        secrets: the accepted `whsec_` secrets (see `verify_signature`).
        authorizations: the accepted legacy Authorization value(s); None or empty: none.
        now: seconds since the epoch; `time.time()` when None.

    Raises:
        WebhookVerificationError: see `verify_signature` and `verify_authorization`.
        ValueError: a configured secret is malformed.
    """
    if has_signature_headers(headers):
        msg_id = verify_signature(headers, body, secrets, now=now)
        return VerifiedRequest(scheme=Scheme.SIGNATURE, message_id=msg_id)
    verify_authorization(headers, authorizations or ())
    return VerifiedRequest(scheme=Scheme.AUTHORIZATION)
