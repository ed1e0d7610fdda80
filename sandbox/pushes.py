"""Push operations: create/update records the way an accounting platform would.

A push is accepted at once as ``Pending`` (statusCode 202) and settles after
``push_delay_s``: ``Success`` (200, ``changes`` holds the record ref, ``data`` the record as
stored) or ``Failed`` (400, ``validation.errors`` items ``{itemId, message, validatorName}``),
or ``TimedOut`` (504) under the ``push_timeout_rate`` fault, in which case the record may
still have been written (``push_timeout_record_rate``).

Validation (checked when the push settles, against the company's records at that moment):

- invoices: ``customerRef.id`` of an existing customer, ``issueDate``, ``status``,
  ``totalAmount``, ``totalTaxAmount``, ``amountDue`` (Codat's required fields), at least one
  line with ``unitAmount`` and ``quantity`` and an ``accountRef`` or ``itemRef``;
- bills: ``supplierRef.id`` of an existing supplier, ``issueDate``, ``status``, ``subTotal``,
  ``taxAmount``, ``totalAmount``, lines as for invoices;
- every line's ``accountRef.id``, ``taxRateRef.id``, ``itemRef.id`` must exist;
- customers: ``customerName``; suppliers: ``supplierName``; items: ``name`` and ``type``
  (refs inside ``invoiceItem``/``billItem`` must exist);
- updates: the record must exist, and a ``sourceModifiedDate`` in the body must equal the
  stored one unless ``forceUpdate=true`` (Codat's stale-update check). An update merges the
  body over the stored record; an invoice or bill updated with ``status: "Void"`` is voided
  (``amountDue`` 0).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from sandbox.errors import CodatError
from sandbox.query import parse_datetime
from sandbox.state import Company, PushOperation, SandboxState, iso

_REQUIRED = {
    "invoices": ("issueDate", "status", "totalAmount", "totalTaxAmount", "amountDue"),
    "bills": ("issueDate", "status", "subTotal", "taxAmount", "totalAmount"),
    "customers": ("customerName",),
    "suppliers": ("supplierName",),
    "items": ("name", "type"),
}
_STATUSES = {
    "invoices": ("Draft", "Submitted", "PartiallyPaid", "Paid", "Void", "Unknown"),
    "bills": ("Draft", "Open", "PartiallyPaid", "Paid", "Void", "Unknown"),
}


def _error(item_id: str, message: str, validator: str) -> dict[str, Any]:
    return {"itemId": item_id, "message": message, "validatorName": validator}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_ref(
    company: Company, errors: list, ref: Any, read_type: str, where: str, validator: str
) -> None:
    if ref is None:
        return
    ref_id = ref.get("id") if isinstance(ref, dict) else None
    if _missing(ref_id):
        errors.append(_error(where, f"{where}.id is required.", validator))
    elif str(ref_id) not in company.data[read_type]:
        errors.append(_error(str(ref_id), f"{where} '{ref_id}' does not exist.", validator))


def validate(company: Company, data_type: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Validation errors for ``record`` as the platform would report them ([] when valid)."""
    errors: list[dict[str, Any]] = []
    item_id = str(record.get("id") or data_type)
    for name in _REQUIRED[data_type]:
        if _missing(record.get(name)):
            errors.append(_error(item_id, f"{name} is required.", "RequiredFields"))
    statuses = _STATUSES.get(data_type)
    status = record.get("status")
    if statuses and not _missing(status) and status not in statuses:
        errors.append(
            _error(item_id, f"status '{status}' is not one of {', '.join(statuses)}.", "Status")
        )
    if data_type in ("invoices", "bills"):
        party, party_type = (
            ("customerRef", "customers")
            if data_type == "invoices"
            else ("supplierRef", "suppliers")
        )
        ref = record.get(party)
        if not isinstance(ref, dict) or _missing(ref.get("id")):
            errors.append(_error(item_id, f"{party}.id is required.", "RequiredFields"))
        else:
            _check_ref(company, errors, ref, party_type, party, "ContactRef")
        lines = record.get("lineItems")
        if not isinstance(lines, list) or not lines:
            errors.append(_error(item_id, "At least one line item is required.", "LineItems"))
            lines = []
        for index, line in enumerate(lines):
            where = f"lineItems[{index}]"
            if not isinstance(line, dict):
                errors.append(_error(where, f"{where} must be an object.", "LineItems"))
                continue
            for name in ("unitAmount", "quantity"):
                if _missing(line.get(name)):
                    errors.append(_error(where, f"{where}.{name} is required.", "RequiredFields"))
            if line.get("accountRef") is None and line.get("itemRef") is None:
                errors.append(
                    _error(where, f"{where} needs an accountRef or an itemRef.", "AccountRef")
                )
            _check_ref(
                company,
                errors,
                line.get("accountRef"),
                "accounts",
                f"{where}.accountRef",
                "AccountRef",
            )
            _check_ref(
                company,
                errors,
                line.get("taxRateRef"),
                "taxRates",
                f"{where}.taxRateRef",
                "TaxRateRef",
            )
            _check_ref(company, errors, line.get("itemRef"), "items", f"{where}.itemRef", "ItemRef")
    if data_type == "items":
        for side in ("invoiceItem", "billItem"):
            details = record.get(side)
            if isinstance(details, dict):
                _check_ref(
                    company,
                    errors,
                    details.get("accountRef"),
                    "accounts",
                    f"{side}.accountRef",
                    "AccountRef",
                )
                _check_ref(
                    company,
                    errors,
                    details.get("taxRateRef"),
                    "taxRates",
                    f"{side}.taxRateRef",
                    "TaxRateRef",
                )
    return errors


def _normalise(data_type: str, record: dict[str, Any]) -> None:
    """Defaults a platform fills in on write."""
    record.setdefault("metadata", {"isDeleted": False})
    if data_type in ("customers", "suppliers"):
        record.setdefault("status", "Active")
        record.setdefault("addresses", [])
    if data_type == "customers":
        record.setdefault("contacts", [])
    if data_type == "items":
        record.setdefault("itemStatus", "Active")
        record.setdefault("isBillItem", isinstance(record.get("billItem"), dict))
        record.setdefault("isInvoiceItem", isinstance(record.get("invoiceItem"), dict))
    if data_type in ("invoices", "bills"):
        if record.get("status") == "Void":
            record["amountDue"] = 0
        elif record.get("amountDue") is None:
            record["amountDue"] = record.get("totalAmount")


def start_push(
    state: SandboxState,
    company: Company,
    connection_id: str,
    data_type: str,
    body: Any,
    record_id: str | None,
    timeout_in_minutes: int | None,
    force_update: bool = False,
) -> PushOperation:
    """Accept a push (create when ``record_id`` is None, else update) and schedule it.

    Raises CodatError 400 for a body that is not a JSON object, 404 for an unknown connection.
    """
    connection = state.connection(company, connection_id)
    if not isinstance(body, dict):
        raise CodatError(400, "The request body must be a JSON object.", can_be_retried="False")
    operation = PushOperation(
        key=str(uuid.uuid4()),
        company_id=company.id,
        connection_id=connection.id,
        data_type=data_type,
        kind="Create" if record_id is None else "Update",
        body=body,
        record_id=record_id,
        requested=state.stamp(),
        timeout_in_minutes=timeout_in_minutes,
        force_update=force_update,
    )
    company.push_operations[operation.key] = operation
    if state.config.push_delay_s <= 0:
        settle(state, company, operation)
    else:
        state.schedule(state.config.push_delay_s, lambda: settle(state, company, operation))
    return operation


def _write(state: SandboxState, company: Company, operation: PushOperation) -> dict[str, Any] | str:
    """Apply the push to the company's records: the stored record, or an error message."""
    collection = company.data[operation.data_type]
    if operation.record_id is None:
        record = copy.deepcopy(operation.body)
        record["id"] = str(uuid.uuid4())
    else:
        existing = collection.get(operation.record_id)
        if existing is None:
            return f"{operation.data_type} record '{operation.record_id}' does not exist."
        record = copy.deepcopy(existing)
        record.update(copy.deepcopy(operation.body))
        record["id"] = existing["id"]
    _normalise(operation.data_type, record)
    state.touch(record)
    collection.put(record)
    return record


def settle(state: SandboxState, company: Company, operation: PushOperation) -> None:
    """Settle a Pending push operation (idempotent: a settled one is left alone)."""
    if operation.status != "Pending":
        return
    connection = company.connections.get(operation.connection_id)
    faults = state.faults_for(company.id)
    now = state.stamp()
    operation.completed = now
    if connection is None or connection.status != "Linked":
        operation.status, operation.status_code = "Failed", 401
        status = connection.status if connection else "missing"
        operation.error_message = f"The data connection is not linked (status {status})."
    elif faults.hit(faults.config.push_timeout_rate):
        operation.status, operation.status_code = "TimedOut", 504
        operation.error_message = "The push operation timed out waiting for the platform."
        if faults.hit(faults.config.push_timeout_record_rate):
            candidate = _candidate(company, operation)
            if not validate(company, operation.data_type, candidate):
                _write(state, company, operation)
    else:
        candidate = _candidate(company, operation)
        errors = validate(company, operation.data_type, candidate)
        record_id = operation.record_id
        if record_id is not None and record_id not in company.data[operation.data_type]:
            message = f"{operation.data_type} record '{record_id}' does not exist."
            errors = [_error(record_id, message, "RecordExists")]
        elif record_id is not None and not operation.force_update:
            errors = _stale(company, operation) + errors
        if errors:
            operation.status, operation.status_code = "Failed", 400
            operation.errors = errors
            operation.error_message = "Push failed validation: " + "; ".join(
                e["message"] for e in errors
            )
        else:
            written = _write(state, company, operation)
            assert isinstance(written, dict)
            operation.status, operation.status_code = "Success", 200
            operation.data = written
            operation.changes = [
                {
                    "type": "Created" if operation.record_id is None else "Modified",
                    "recordRef": {"id": written["id"], "dataType": operation.data_type},
                    "attachmentId": None,
                }
            ]
    state.emit("push.settled", company, {"operation": operation})


def _stale(company: Company, operation: PushOperation) -> list[dict[str, Any]]:
    """Codat: an update whose ``sourceModifiedDate`` differs from the platform's record fails
    unless ``forceUpdate=true`` (the record changed since it was read)."""
    sent = operation.body.get("sourceModifiedDate")
    stored = (company.data[operation.data_type].get(operation.record_id or "") or {}).get(
        "sourceModifiedDate"
    )
    if not isinstance(sent, str) or not isinstance(stored, str):
        return []
    sent_at, stored_at = parse_datetime(sent), parse_datetime(stored)
    if sent_at is None or stored_at is None or sent_at == stored_at:
        return []
    message = (
        f"The record was modified in the platform at {stored} since it was read "
        f"({sent}); read it again or push with forceUpdate=true."
    )
    return [_error(str(operation.record_id), message, "SourceModifiedDate")]


def _candidate(company: Company, operation: PushOperation) -> dict[str, Any]:
    if operation.record_id is None:
        return operation.body
    existing = company.data[operation.data_type].get(operation.record_id) or {}
    return {**existing, **operation.body}


def operation_json(operation: PushOperation) -> dict[str, Any]:
    """Codat's ``PushOperation`` shape (plus ``data``, the record pushed or stored)."""
    return {
        "changes": operation.changes,
        "dataType": operation.data_type,
        "companyId": operation.company_id,
        "pushOperationKey": operation.key,
        "dataConnectionKey": operation.connection_id,
        "requestedOnUtc": iso(operation.requested),
        "completedOnUtc": iso(operation.completed),
        "timeoutInMinutes": operation.timeout_in_minutes,
        "status": operation.status,
        "errorMessage": operation.error_message,
        "validation": {"errors": operation.errors, "warnings": operation.warnings},
        "statusCode": operation.status_code,
        "data": operation.data if operation.data is not None else operation.body,
    }
