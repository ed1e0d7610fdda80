"""Provider webhooks, pure: request verification, envelope decoding, normalised events.

No I/O: callers pass headers, the raw body, the configured secrets and the clock.

    verified = verify_request(headers, body, secrets=..., authorizations=..., now=...)
    event = decode_event(body, message_id=verified.message_id)

`WebhookVerificationError` -> answer 401 (log its `reason`); `WebhookDecodeError` -> 400.
"""

from webhooks._decode import decode_event
from webhooks._errors import VerificationFailure, WebhookDecodeError, WebhookVerificationError
from webhooks._events import (
    ConnectionStatus,
    ConnectionStatusChanged,
    DataSyncCompleted,
    DataSyncError,
    Ignored,
    PushOperationChanged,
    PushStatus,
    WebhookEvent,
)
from webhooks._signature import (
    TIMESTAMP_TOLERANCE_SECONDS,
    Scheme,
    VerifiedRequest,
    check_secret,
    has_signature_headers,
    sign,
    signature_headers,
    verify_authorization,
    verify_request,
    verify_signature,
)

__all__ = [
    "TIMESTAMP_TOLERANCE_SECONDS",
    "ConnectionStatus",
    "ConnectionStatusChanged",
    "DataSyncCompleted",
    "DataSyncError",
    "Ignored",
    "PushOperationChanged",
    "PushStatus",
    "Scheme",
    "VerificationFailure",
    "VerifiedRequest",
    "WebhookDecodeError",
    "WebhookEvent",
    "WebhookVerificationError",
    "check_secret",
    "decode_event",
    "has_signature_headers",
    "sign",
    "signature_headers",
    "verify_authorization",
    "verify_request",
    "verify_signature",
]
