"""The two exceptions of the webhooks package and the verification failure reasons."""

from __future__ import annotations

import enum


class VerificationFailure(enum.StrEnum):
    """Why a webhook request failed verification: a machine-readable reason for the log.

    The HTTP layer answers 401 without any of this detail.
    """

    MISSING_HEADERS = "missing_headers"
    """No complete `webhook-*` / `svix-*` header set, or no `Authorization` header."""
    BAD_TIMESTAMP = "bad_timestamp"
    """`webhook-timestamp` is not a whole number of seconds since the epoch."""
    STALE_TIMESTAMP = "stale_timestamp"
    """`webhook-timestamp` is more than the tolerance (5 minutes) before now."""
    FUTURE_TIMESTAMP = "future_timestamp"
    """`webhook-timestamp` is more than the tolerance (5 minutes) after now."""
    BODY_NOT_UTF8 = "body_not_utf8"
    """The body is not UTF-8, so it cannot be the JSON that was signed."""
    NO_MATCHING_SIGNATURE = "no_matching_signature"
    """No `v1,` signature in `webhook-signature` matches any configured secret."""
    BAD_AUTHORIZATION = "bad_authorization"
    """The legacy `Authorization` header does not equal any configured value."""
    NOT_CONFIGURED = "not_configured"
    """No secret (or no legacy Authorization value) is configured for this scheme."""


class WebhookVerificationError(Exception):
    """A webhook request is not authentic (answer 401, log `reason`).

    Attributes:
        reason: a `VerificationFailure` (a `str` enum, e.g. "stale_timestamp").
        detail: a short human-readable explanation; never contains a secret or a signature.
    """

    def __init__(self, reason: VerificationFailure, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)


class WebhookDecodeError(ValueError):
    """A verified webhook body is not a provider event (answer 400).

    Raised for malformed JSON, a body that is not a JSON object, a body that is neither
    envelope, a wrongly typed field, or a known event type that lacks an id it needs
    (message id, company id, connection id, push operation key).
    """
