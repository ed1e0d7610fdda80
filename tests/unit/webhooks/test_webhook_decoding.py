"""Decoding of Codat's two webhook envelopes into normalised events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from webhooks import (
    ConnectionStatusChanged,
    DataSyncCompleted,
    DataSyncError,
    Ignored,
    PushOperationChanged,
    WebhookDecodeError,
    WebhookEvent,
    decode_event,
)

EXAMPLES = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "codat-webhook-examples.json").read_text()
)

# The kind every example in the reference file must decode to (a new example fails here).
LEGACY_KINDS = {
    "DataConnectionStatusChanged": ConnectionStatusChanged,
    "DataSyncCompleted": DataSyncCompleted,
    "DatasetDataChanged": DataSyncCompleted,
    "DataSyncStatusChangedToError": DataSyncError,
    "PushOperationStatusChanged": PushOperationChanged,
    "PushOperationTimedOut": PushOperationChanged,
    "NewCompanySynchronized": Ignored,
}
CURRENT_KINDS = {
    "connection.created": ConnectionStatusChanged,
    "connection.connected": ConnectionStatusChanged,
    "connection.failed": ConnectionStatusChanged,
    "connection.disconnected": ConnectionStatusChanged,
    "connection.reconnected": ConnectionStatusChanged,
    "connection.deleted": ConnectionStatusChanged,
    "read.completed": DataSyncCompleted,
    "read.completed.initial": DataSyncCompleted,
    "{dataType}.write.successful": PushOperationChanged,
    "{dataType}.write.unsuccessful": PushOperationChanged,
    "client.rateLimit.reached": Ignored,
    "client.rateLimit.reset": Ignored,
}


def encode(body: dict) -> bytes:
    return json.dumps(body).encode()


def legacy(rule: str) -> dict:
    return EXAMPLES["legacy_rules"][rule]["schema_examples"][0]


def current(event_type: str, name: str) -> dict:
    return EXAMPLES["events"][event_type][name]


def legacy_examples() -> list:
    return [
        pytest.param(rule, body, id=f"{rule}[{index}]")
        for rule, group in EXAMPLES["legacy_rules"].items()
        for index, body in enumerate(group["schema_examples"])
    ]


def current_examples() -> list:
    return [
        pytest.param(event_type, body, id=f"{event_type}:{name}")
        for event_type, group in EXAMPLES["events"].items()
        for name, body in group.items()
    ]


# --- every example in the reference file ---------------------------------------------------


@pytest.mark.parametrize(("rule", "body"), legacy_examples())
def test_every_legacy_example_decodes_to_its_kind_with_its_ids(rule, body):
    event = decode_event(encode(body))
    assert type(event) is LEGACY_KINDS[rule]
    assert event.message_id == body["AlertId"]
    assert event.company_id == body["CompanyId"]
    assert event.event_type == body["RuleType"]
    assert event.occurred_at is None
    if not isinstance(event, Ignored):
        assert event.connection_id == body["DataConnectionId"]


@pytest.mark.parametrize(("event_type", "body"), current_examples())
def test_every_current_example_decodes_to_its_kind_with_its_ids(event_type, body):
    event = decode_event(encode(body))
    assert type(event) is CURRENT_KINDS[event_type]
    assert event.message_id == body["id"]
    assert event.event_type == body["eventType"] == event_type
    assert event.occurred_at is not None and event.occurred_at.tzinfo is not None
    reference = body["payload"].get("referenceCompany")
    assert event.company_id == (reference["id"] if reference else None)
    if isinstance(event, ConnectionStatusChanged):
        assert event.connection_id == body["payload"]["connection"]["id"]
    if isinstance(event, PushOperationChanged):
        assert event.push_operation_key == body["payload"]["id"]
        assert event.connection_id == body["payload"]["connectionId"]


def test_the_reference_file_was_read_whole():
    assert len(legacy_examples()) == 7
    assert len(current_examples()) == 18


# --- specific values -----------------------------------------------------------------------


def test_legacy_connection_status_change():
    event = decode_event(encode(legacy("DataConnectionStatusChanged")))
    assert event == ConnectionStatusChanged(
        message_id="a9367074-b5c3-42c4-9be4-be129f43577e",
        event_type="DataConnectionStatusChanged",
        company_id="8a210b68-6988-11ed-a1eb-0242ac120002",
        connection_id="2e9d2c44-f675-40ba-8049-353bfcb5e171",
        status="Linked",
        old_status="PendingAuth",
        platform_key="gbol",
    )
    assert event.kind == "connection_status_changed"


def test_current_connection_events_carry_the_connection_status():
    deauthorized = decode_event(encode(current("connection.disconnected", "De-authorized")))
    assert deauthorized.status == "Deauthorized"
    assert deauthorized.platform_key == "dfxm"
    assert deauthorized.errors == ("The integration de-authorized access to the connection.",)
    assert deauthorized.occurred_at == datetime(2024, 8, 8, 17, 10, 34, 15000, tzinfo=UTC)
    assert decode_event(encode(current("connection.disconnected", "Unlinked"))).status == (
        "Unlinked"
    )
    assert decode_event(encode(current("connection.connected", "Connection connected"))).status == (
        "Linked"
    )
    failed = decode_event(encode(current("connection.failed", "Connection failed")))
    assert (failed.status, failed.errors) == ("PendingAuth", ("User cancelled",))


def test_a_deleted_connection_is_unlinked_whatever_its_last_status():
    body = current("connection.deleted", "Deleted")
    assert body["payload"]["connection"]["status"] == "Linked"  # as Codat's example sends it
    event = decode_event(encode(body))
    assert (event.status, event.deleted) == ("Unlinked", True)


def test_a_connection_event_without_a_status_takes_it_from_the_event_type():
    body = json.loads(json.dumps(current("connection.connected", "Connection connected")))
    del body["payload"]["connection"]["status"]
    assert decode_event(encode(body)).status == "Linked"


def test_read_completed_lists_data_types_and_the_connection():
    event = decode_event(encode(current("read.completed", "Read completed without issues")))
    assert event.kind == "data_sync_completed"
    assert event.company_id == "0498e921-9b53-4396-a412-4f2f5983b0a2"
    assert event.connection_id == "2e9d2c44-f675-40ba-8049-353bfcb5e171"
    assert event.data_types == ("invoices",)
    assert event.failed_data_types == ()


def test_read_completed_separates_failed_data_types():
    body = json.loads(json.dumps(current("read.completed", "Read completed without issues")))
    body["payload"]["dataTypes"].append(
        {"connectionId": "c1", "dataType": "bills", "status": "FetchError", "issues": []}
    )
    event = decode_event(encode(body))
    assert (event.data_types, event.failed_data_types) == (("invoices",), ("bills",))


def test_legacy_data_sync_completed_and_error():
    done = decode_event(encode(legacy("DataSyncCompleted")))
    assert (done.data_types, done.dataset_id) == (
        ("creditNotes",),
        "1541a5ee-0d84-4b6e-a7f7-c07c1f216333",
    )
    error = decode_event(encode(legacy("DataSyncStatusChangedToError")))
    assert (error.data_type, error.dataset_status) == ("invoices", "ProcessingError")
    assert error.message.startswith("ERROR: syncing payments")


def test_write_successful_carries_the_push_operation_key_and_record_id():
    event = decode_event(encode(current("{dataType}.write.successful", "Record")))
    assert event == PushOperationChanged(
        message_id="bae71d36-ff47-420a-b4a6-f8c9ddf41140",
        event_type="{dataType}.write.successful",
        occurred_at=datetime(2023, 5, 3, 10, 0, 23, tzinfo=UTC),
        company_id="70af3071-65d9-4ec3-b3cb-5283e8d55dac",
        connection_id="12571faf-0898-47e7-afdd-0fe9eb0a9bf5",
        push_operation_key="a9367074-b5c3-42c4-9be4-be129f43577e",
        data_type=None,  # the example's event type is a placeholder
        status="Success",
        record_id="bil_1Nispe2eZvKYlo2Cd31jOCgZ",
        operation_type="Create",
    )


def test_write_unsuccessful_statuses():
    failed = decode_event(encode(current("{dataType}.write.unsuccessful", "Record")))
    assert (failed.status, failed.record_id) == ("Failed", None)
    timed_out = decode_event(encode(current("{dataType}.write.unsuccessful", "Record timed out")))
    assert timed_out.status == "TimedOut"


def test_a_real_write_event_type_names_its_data_type():
    body = json.loads(json.dumps(current("{dataType}.write.successful", "Record")))
    body["eventType"] = "bills.write.successful"
    del body["payload"]["status"]
    event = decode_event(encode(body))
    assert (event.data_type, event.status) == ("bills", "Success")
    body["eventType"] = "bills.write.unsuccessful"
    assert decode_event(encode(body)).status == "Failed"


def test_legacy_push_status_changed_and_timed_out():
    changed = decode_event(encode(legacy("PushOperationStatusChanged")))
    assert (changed.push_operation_key, changed.data_type, changed.status) == (
        "c2f8847d-3047-4619-a157-6d947d8e4a73",
        "invoices",
        "Success",
    )
    timed_out = decode_event(encode(legacy("PushOperationTimedOut")))
    assert (timed_out.push_operation_key, timed_out.status) == (
        "c2f8847d-3047-4619-a157-6d947d8e4a73",
        "TimedOut",
    )


# --- unknown event types -------------------------------------------------------------------


def test_unknown_current_event_type_is_ignored_not_an_error():
    body = {"id": "e1", "eventType": "invoices.paid", "payload": {"companyId": "c1", "x": [1]}}
    event = decode_event(encode(body))
    assert isinstance(event, Ignored)
    assert (event.kind, event.message_id, event.company_id) == ("ignored", "e1", "c1")


def test_unknown_legacy_rule_is_ignored():
    body = dict(legacy("DataSyncCompleted"), RuleType="Something New", Data={"any": 1})
    event = decode_event(encode(body))
    assert isinstance(event, Ignored)
    assert event.event_type == "Something New"


def test_unknown_legacy_connection_status_is_ignored():
    body = legacy("DataConnectionStatusChanged")
    body = dict(body, Data=dict(body["Data"], newStatus="Exploded"))
    assert isinstance(decode_event(encode(body)), Ignored)


# --- message ids ---------------------------------------------------------------------------


def test_the_webhook_id_header_is_the_message_id_when_the_body_has_none():
    body = {k: v for k, v in current("read.completed", "Read completed without issues").items()}
    del body["id"]
    assert decode_event(encode(body), message_id="msg_header").message_id == "msg_header"
    with pytest.raises(WebhookDecodeError):
        decode_event(encode(body))


# --- bodies that are not events ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'{"id": "1", "eventType": "read.completed",}',
        b"\xff\xfe{}",
        b"[]",
        b'[{"id": "1", "eventType": "read.completed", "payload": {}}]',
        b'"connection.created"',
        b"42",
        b"null",
        b"{}",
        b'{"id": "1", "eventType": 7}',
        b'{"RuleType": "Data sync completed"}',
        b'{"id": "1", "eventType": "connection.connected", "payload": {"companyId": "c"}}',
        b'{"id": "1", "eventType": "bills.write.successful", "payload": {"companyId": "c"}}',
        b'{"id": "1", "eventType": "connection.created", "payload": {"connection": "x"}}',
    ],
    ids=[
        "empty",
        "truncated",
        "trailing-comma",
        "not-utf8",
        "empty-array",
        "array-of-event",
        "string",
        "number",
        "null",
        "no-event-type",
        "event-type-not-string",
        "legacy-without-alert-id",
        "connection-without-connection-id",
        "write-without-push-key",
        "payload-field-wrong-type",
    ],
)
def test_bodies_that_are_not_events_raise_decode_error(body):
    with pytest.raises(WebhookDecodeError):
        decode_event(body)


# --- normalised events as stored values ----------------------------------------------------


def test_events_round_trip_through_msgspec_with_their_kind():
    for _, body in (p.values for p in current_examples()):
        event = decode_event(encode(body))
        raw = msgspec.json.encode(event)
        assert json.loads(raw)["kind"] == event.kind
        assert msgspec.json.decode(raw, type=WebhookEvent) == event
