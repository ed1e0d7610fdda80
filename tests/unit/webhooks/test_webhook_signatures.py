"""Verification of provider webhook requests: Standard Webhooks / Svix signatures, legacy auth."""

from __future__ import annotations

import base64
import time

import pytest

from webhooks import (
    Scheme,
    VerificationFailure,
    WebhookVerificationError,
    check_secret,
    sign,
    signature_headers,
    verify_authorization,
    verify_request,
    verify_signature,
)

# Codat's documented test vector.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

OTHER_SECRET = "whsec_" + base64.b64encode(b"another 24-byte secret!!").decode()


def vector_headers(**overrides: str) -> dict[str, str]:
    headers = {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TIMESTAMP),
        "webhook-signature": SIGNATURE,
    }
    headers.update(overrides)
    return headers


def reason_of(headers, body=BODY, secrets=(SECRET,), now=TIMESTAMP) -> VerificationFailure:
    with pytest.raises(WebhookVerificationError) as caught:
        verify_signature(headers, body, secrets, now=now)
    return caught.value.reason


def flip_bit(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index // 8] ^= 1 << (index % 8)
    return bytes(out)


# --- the Codat vector ----------------------------------------------------------------------


def test_codat_documented_vector_verifies_and_returns_the_message_id():
    assert verify_signature(vector_headers(), BODY, [SECRET], now=TIMESTAMP) == MSG_ID


def test_sign_reproduces_the_codat_vector():
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE
    assert signature_headers(SECRET, MSG_ID, TIMESTAMP, BODY) == vector_headers()


def test_every_one_bit_change_of_the_body_is_rejected():
    for bit in range(len(BODY) * 8):
        reason = reason_of(vector_headers(), body=flip_bit(BODY, bit))
        assert reason in (
            VerificationFailure.NO_MATCHING_SIGNATURE,
            VerificationFailure.BODY_NOT_UTF8,
        ), bit


def test_every_one_bit_change_of_the_signature_is_rejected():
    raw = base64.b64decode(SIGNATURE.removeprefix("v1,"))
    for bit in range(len(raw) * 8):
        tampered = "v1," + base64.b64encode(flip_bit(raw, bit)).decode()
        reason = reason_of(vector_headers(**{"webhook-signature": tampered}))
        assert reason == VerificationFailure.NO_MATCHING_SIGNATURE, bit


def test_every_one_bit_change_of_the_message_id_is_rejected():
    raw = MSG_ID.encode()
    for bit in range(len(raw) * 8):
        tampered = flip_bit(raw, bit).decode("latin-1")
        reason = reason_of(vector_headers(**{"webhook-id": tampered}))
        assert reason == VerificationFailure.NO_MATCHING_SIGNATURE, bit


def test_every_one_bit_change_of_the_timestamp_is_rejected():
    raw = str(TIMESTAMP).encode()
    for bit in range(len(raw) * 8):
        tampered = flip_bit(raw, bit).decode("latin-1")
        # Whatever the flip gives (another number, a non-number, a far-off time), it fails.
        reason_of(vector_headers(**{"webhook-timestamp": tampered}))
    # A flip of the last digit stays inside the tolerance: only the signature catches it.
    assert (
        reason_of(vector_headers(**{"webhook-timestamp": str(TIMESTAMP + 1)}))
        == VerificationFailure.NO_MATCHING_SIGNATURE
    )


# --- headers -------------------------------------------------------------------------------


def test_svix_prefixed_headers_verify():
    headers = signature_headers(SECRET, MSG_ID, TIMESTAMP, BODY, prefix="svix")
    assert set(headers) == {"svix-id", "svix-timestamp", "svix-signature"}
    assert verify_signature(headers, BODY, [SECRET], now=TIMESTAMP) == MSG_ID


def test_header_names_are_case_insensitive():
    headers = {
        "Webhook-Id": MSG_ID,
        "WEBHOOK-TIMESTAMP": str(TIMESTAMP),
        "Svix-Signature": "v1,AAAA",  # an incomplete svix set is not used
        "webhook-Signature": SIGNATURE,
    }
    assert verify_signature(headers, BODY, [SECRET], now=TIMESTAMP) == MSG_ID


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_missing_header_is_rejected(missing):
    headers = vector_headers()
    del headers[missing]
    assert reason_of(headers) == VerificationFailure.MISSING_HEADERS


def test_webhook_and_svix_headers_are_not_mixed():
    headers = {"webhook-id": MSG_ID, "svix-timestamp": str(TIMESTAMP), "svix-signature": SIGNATURE}
    assert reason_of(headers) == VerificationFailure.MISSING_HEADERS


# --- several signatures, several secrets ---------------------------------------------------


def test_a_header_with_several_signatures_passes_when_any_matches():
    wrong = sign(OTHER_SECRET, MSG_ID, TIMESTAMP, BODY)
    for header in (f"{wrong} {SIGNATURE}", f"{SIGNATURE} {wrong}", f"v1a,abc {wrong} {SIGNATURE}"):
        headers = vector_headers(**{"webhook-signature": header})
        assert verify_signature(headers, BODY, [SECRET], now=TIMESTAMP) == MSG_ID


def test_malformed_signature_entries_are_skipped_not_crashed_on():
    header = "v1,!!not-base64!! nocomma v2,abcd v1, ,"
    assert (
        reason_of(vector_headers(**{"webhook-signature": header}))
        == VerificationFailure.NO_MATCHING_SIGNATURE
    )
    assert (
        verify_signature(
            vector_headers(**{"webhook-signature": f"{header} {SIGNATURE}"}),
            BODY,
            [SECRET],
            now=TIMESTAMP,
        )
        == MSG_ID
    )


def test_rotation_a_second_secret_matches():
    headers = signature_headers(OTHER_SECRET, MSG_ID, TIMESTAMP, BODY)
    assert verify_signature(headers, BODY, [SECRET, OTHER_SECRET], now=TIMESTAMP) == MSG_ID
    assert reason_of(headers, secrets=[SECRET]) == VerificationFailure.NO_MATCHING_SIGNATURE


def test_no_configured_secret_rejects():
    assert reason_of(vector_headers(), secrets=[]) == VerificationFailure.NOT_CONFIGURED
    assert reason_of(vector_headers(), secrets=[""]) == VerificationFailure.NOT_CONFIGURED


def test_a_malformed_configured_secret_is_a_configuration_error():
    with pytest.raises(ValueError) as caught:
        verify_signature(vector_headers(), BODY, ["whsec_"], now=TIMESTAMP)
    assert not isinstance(caught.value, WebhookVerificationError)
    with pytest.raises(ValueError):
        check_secret("whsec_%%%")
    check_secret(SECRET)


# --- timestamps ----------------------------------------------------------------------------


def test_timestamps_up_to_five_minutes_either_way_are_accepted():
    for now in (TIMESTAMP - 300, TIMESTAMP + 300):
        assert verify_signature(vector_headers(), BODY, [SECRET], now=now) == MSG_ID


def test_a_timestamp_more_than_five_minutes_old_is_stale():
    assert reason_of(vector_headers(), now=TIMESTAMP + 301) == VerificationFailure.STALE_TIMESTAMP


def test_a_timestamp_more_than_five_minutes_ahead_is_rejected():
    assert reason_of(vector_headers(), now=TIMESTAMP - 301) == VerificationFailure.FUTURE_TIMESTAMP


@pytest.mark.parametrize("value", ["1614265330.0", "abc", "-1614265330", " 1614265330", "1e9"])
def test_a_timestamp_that_is_not_whole_seconds_is_rejected(value):
    headers = vector_headers(**{"webhook-timestamp": value})
    assert reason_of(headers) == VerificationFailure.BAD_TIMESTAMP


def test_now_defaults_to_the_real_clock():
    ts = int(time.time())
    assert verify_signature(signature_headers(SECRET, "msg_now", ts, BODY), BODY, [SECRET])
    with pytest.raises(WebhookVerificationError) as caught:
        verify_signature(vector_headers(), BODY, [SECRET])  # the 2021 vector is stale today
    assert caught.value.reason == VerificationFailure.STALE_TIMESTAMP


def test_the_error_never_shows_the_secret_or_the_signature():
    with pytest.raises(WebhookVerificationError) as caught:
        verify_signature(vector_headers(), b"{}", [SECRET], now=TIMESTAMP)
    text = str(caught.value)
    assert caught.value.reason == VerificationFailure.NO_MATCHING_SIGNATURE
    assert "MfKQ9r8G" not in text and "g0hM9SsE" not in text


# --- legacy Authorization ------------------------------------------------------------------

AUTH = "Bearer legacy-shared-value-1"


def test_legacy_authorization_matches():
    verify_authorization({"Authorization": AUTH}, AUTH)
    verify_authorization({"authorization": AUTH}, ["old-value", AUTH])


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Authorization": AUTH + "x"}, VerificationFailure.BAD_AUTHORIZATION),
        ({"Authorization": AUTH[:-1]}, VerificationFailure.BAD_AUTHORIZATION),
        ({"Authorization": "Bearer légacy"}, VerificationFailure.BAD_AUTHORIZATION),
        ({"Authorization": ""}, VerificationFailure.MISSING_HEADERS),
        ({}, VerificationFailure.MISSING_HEADERS),
    ],
)
def test_legacy_authorization_mismatch(headers, reason):
    with pytest.raises(WebhookVerificationError) as caught:
        verify_authorization(headers, AUTH)
    assert caught.value.reason == reason


def test_legacy_authorization_unset_admits_nothing():
    for configured in ("", [], [""]):
        with pytest.raises(WebhookVerificationError) as caught:
            verify_authorization({"Authorization": ""}, configured)
        assert caught.value.reason == VerificationFailure.NOT_CONFIGURED


# --- choosing the scheme -------------------------------------------------------------------


def test_verify_request_uses_the_signature_when_signature_headers_are_present():
    verified = verify_request(vector_headers(), BODY, secrets=[SECRET], now=TIMESTAMP)
    assert verified.scheme == Scheme.SIGNATURE
    assert verified.message_id == MSG_ID


def test_verify_request_uses_the_legacy_header_otherwise():
    verified = verify_request({"Authorization": AUTH}, BODY, secrets=[SECRET], authorizations=AUTH)
    assert verified.scheme == Scheme.AUTHORIZATION
    assert verified.message_id is None


def test_a_valid_authorization_header_does_not_rescue_a_bad_signature():
    headers = vector_headers(Authorization=AUTH)
    with pytest.raises(WebhookVerificationError) as caught:
        verify_request(headers, b"{}", secrets=[SECRET], authorizations=AUTH, now=TIMESTAMP)
    assert caught.value.reason == VerificationFailure.NO_MATCHING_SIGNATURE


def test_verify_request_without_any_credentials_is_rejected():
    with pytest.raises(WebhookVerificationError) as caught:
        verify_request({}, BODY, secrets=[SECRET], authorizations=AUTH)
    assert caught.value.reason == VerificationFailure.MISSING_HEADERS
