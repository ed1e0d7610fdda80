"""The push: payables and receivables to the accounting system, exactly once.

DESIGN.md "Flows: Push"; OCA connector's exporter pattern. A status change that matches the
entity's rules leaves a ``pending`` synced record (``hooks``); this job then:

1. holds the record's lease (one job per record across workers), re-reads it, and does nothing
   if it is done (and unchanged), waiting for a person, not yet due, or in flight (then it
   polls the push operation instead);
2. validates the document (every problem at once, no provider call if any);
3. pushes dependencies first: the counterpart (matched to a pulled customer/supplier by name,
   else created) and, for receivables, products without an item. Each dependency is bound by
   its own synced record (created race-free) and pushed under that record's lease, so a
   thousand bills of one vendor create one supplier. A dependency still in flight after
   ``DEPENDENCY_WAIT`` seconds makes the document job come back later (``_Wait``) instead of
   holding a worker;
4. records the attempt (``sync_attempts``) and commits *before* calling the provider, then
   pushes with the ``Idempotency-Key`` ``{record id}:{phase}:{attempt}``, and stores the push
   operation key in its own commit. A crash between the two commits leaves the attempt
   ``pending`` without a key: the next run re-sends with the SAME key, which the provider
   answers with the first response (Codat: idempotent replays);
5. settles on the outcome (webhook -> ``settle_from_event`` -> this job, or polling after
   ``POLL_AFTER`` seconds): ``Success`` -> ``done`` with the provider and platform ids;
   ``Failed`` -> ``error`` with the provider's messages; ``TimedOut`` -> a create looks for the
   record by the marker ``acctsync:{record id}`` in its note (``query=note~{id}``; contacts
   and items by name) and adopts it, else pushes again; an update or void is simply sent again
   (a full PUT is idempotent). Before any create that follows an earlier create attempt of
   unknown outcome (5xx, timeout, crash), the same look-up runs first, so a slow platform never
   gets two bills. Canceled/uncollectible receivables are voided after they land; a document
   that changed while in flight is pushed again as an update.

Transient failures (provider unavailable after the client's own retries, 5xx outcomes) retry by
themselves with capped exponential backoff and jitter, at most ``MAX_ATTEMPTS`` failed attempts
in a row; then, and for validation and platform rejections, the record stays ``error`` until a
person retries (``POST /v1/accounting_synced_records/{id}/push``). Every attempt is kept in
``sync_attempts``.

The modules, in the order a run meets them:

- ``job``: ``run_push``, one run for one record under its lease (1), and what an error does;
- ``documents``: the document push: validate, plan, create/update/void, settle (2, 4, 5);
- ``dependencies``: counterparts and items pushed or linked first (3);
- ``send``: one push sent: the attempt, its commit, the call with its idempotency key (4);
- ``settle``: the webhook, polling, an operation's outcome (5);
- ``lookup``: finding a record after a create of unknown outcome, and the contact already in
  the books that a counterpart is (the matcher);
- ``common``: the timing knobs (``RETRY_BASE``, ``RETRY_CAP``, ``POLL_AFTER``, ...: set them
  there), ``_Wait``, ``_Failed``, ``_set_error``.
"""

from app.sync.push.common import MAX_ATTEMPTS
from app.sync.push.job import due_records, run_push
from app.sync.push.settle import settle_from_event

__all__ = ["MAX_ATTEMPTS", "due_records", "run_push", "settle_from_event"]
