"""Push-status rules: which payable and receivable statuses are pushed to the accounting system.

Monite: the statuses, the defaults and the statuses allowed in a rule set are Monite's
(`PayableStateEnum`, `InvoiceStateEnumForAccountingSyncRules`, `GET /accounting_sync_rules`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import msgspec

from ._documents import PayableDoc, ReceivableDoc

DocumentType = Literal["payable", "receivable"]

PAYABLE_STATUSES: tuple[str, ...] = (
    "draft",
    "new",
    "approve_in_progress",
    "waiting_to_be_paid",
    "partially_paid",
    "paid",
    "canceled",
    "rejected",
)
"""Monite's payable statuses."""

RECEIVABLE_STATUSES: tuple[str, ...] = (
    "draft",
    "issued",
    "accepted",
    "expired",
    "declined",
    "recurring",
    "partially_paid",
    "paid",
    "overdue",
    "uncollectible",
    "canceled",
    "deleted",
)
"""Monite's invoice statuses."""

ALLOWED_PAYABLE_PUSH_STATUSES: tuple[str, ...] = tuple(s for s in PAYABLE_STATUSES if s != "draft")
"""Monite: any payable status except `draft` may be a push status."""

ALLOWED_RECEIVABLE_PUSH_STATUSES: tuple[str, ...] = (
    "issued",
    "partially_paid",
    "paid",
    "overdue",
    "uncollectible",
    "canceled",
    "deleted",
)
"""Monite: `InvoiceStateEnumForAccountingSyncRules`."""

DEFAULT_PAYABLE_PUSH_STATUSES: tuple[str, ...] = ("waiting_to_be_paid", "paid", "partially_paid")
DEFAULT_RECEIVABLE_PUSH_STATUSES: tuple[str, ...] = (
    "issued",
    "paid",
    "partially_paid",
    "overdue",
    "canceled",
    "uncollectible",
)

_KNOWN = {"payable": PAYABLE_STATUSES, "receivable": RECEIVABLE_STATUSES}
_ALLOWED = {
    "payable": ALLOWED_PAYABLE_PUSH_STATUSES,
    "receivable": ALLOWED_RECEIVABLE_PUSH_STATUSES,
}


class PushStatuses(msgspec.Struct, kw_only=True):
    """An entity's sync rules, shaped as Monite's `push_statuses` object
    (`{"payable": [...], "receivable": [...]}`); the defaults are Monite's.
    """

    payable: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_PAYABLE_PUSH_STATUSES))
    receivable: list[str] = msgspec.field(
        default_factory=lambda: list(DEFAULT_RECEIVABLE_PUSH_STATUSES)
    )


def default_push_statuses() -> PushStatuses:
    """Monite's default rules: payable `waiting_to_be_paid, paid, partially_paid`; receivable
    `issued, paid, partially_paid, overdue, canceled, uncollectible`.
    """
    return PushStatuses()


class RuleProblem(msgspec.Struct, kw_only=True, frozen=True):
    """One invalid entry of a rule set.

    `code` is `unknown_status`, `status_not_allowed` or `duplicate_status`; `index` is the
    0-based position in the list, so `loc` (`("push_statuses", document_type, index)`) can go
    straight into a 422 detail.
    """

    document_type: DocumentType
    index: int
    status: str
    code: str
    message: str

    @property
    def loc(self) -> tuple[str, str, int]:
        return ("push_statuses", self.document_type, self.index)


def validate_push_statuses(
    document_type: DocumentType, statuses: Sequence[str]
) -> list[RuleProblem]:
    """Check one list of push statuses; returns every problem (empty list when valid).

    Only statuses allowed by Monite for `document_type` are accepted, each at most once.
    Raises ValueError for a `document_type` other than "payable" or "receivable".
    """
    if document_type not in _ALLOWED:
        raise ValueError(f"unknown document type {document_type!r}")
    allowed = _ALLOWED[document_type]
    problems: list[RuleProblem] = []
    seen: dict[str, int] = {}
    for index, status in enumerate(statuses):
        where = f"{document_type} push status {status!r} at position {index}"
        if status not in _KNOWN[document_type]:
            code = "unknown_status"
            message = f"{where} is not a {document_type} status"
        elif status not in allowed:
            code = "status_not_allowed"
            message = f"{where} cannot be pushed; allowed: {', '.join(allowed)}"
        elif status in seen:
            code = "duplicate_status"
            message = f"{where} repeats position {seen[status]}"
        else:
            seen[status] = index
            continue
        problems.append(
            RuleProblem(
                document_type=document_type,
                index=index,
                status=status,
                code=code,
                message=message,
            )
        )
    return problems


def validate_rules(rules: PushStatuses) -> list[RuleProblem]:
    """Check a whole rule set; returns every problem, payable ones first (empty when valid)."""
    return validate_push_statuses("payable", rules.payable) + validate_push_statuses(
        "receivable", rules.receivable
    )


def should_push(document: PayableDoc | ReceivableDoc, rules: PushStatuses) -> bool:
    """True when the document's current status is one of the rule set's push statuses.

    Monite: a payable or receivable is pushed when it enters a status listed in the entity's
    sync rules. Raises TypeError for anything but a PayableDoc or ReceivableDoc.
    """
    if isinstance(document, PayableDoc):
        return document.status in rules.payable
    if isinstance(document, ReceivableDoc):
        return document.status in rules.receivable
    raise TypeError(f"expected PayableDoc or ReceivableDoc, got {type(document).__name__}")
