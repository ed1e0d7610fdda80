"""Keeping the sandbox's state on disk (``SandboxConfig.state_path``), so a restarted
sandbox still knows its companies, connections, records and push operations.

The file is JSON: ``{"version": 1, "last_stamp": ..., "companies": {...}, "idempotency":
[...]}``, written whole to a temporary file and renamed over the old one (a crash leaves the
previous complete file). What is not kept: the rate-limit windows, the webhook deliveries in
flight, and queued data refreshes (a restart drops them; push operations still ``Pending``
are settled again after the load).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from sandbox.state import Company, SandboxState
from sandbox.store import Collection

logger = logging.getLogger("sandbox")
FORMAT_VERSION = 1


class _Snapshot(msgspec.Struct):
    version: int
    last_stamp: datetime
    companies: dict[str, Company]
    idempotency: list[tuple[str, str, str, int, bytes]] = []


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, Collection):
        return obj.all()
    raise NotImplementedError(f"cannot keep {type(obj).__name__} on disk")


def _dec_hook(kind: type, obj: Any) -> Any:
    if kind is Collection:
        return Collection(obj)
    raise NotImplementedError(f"cannot read {kind.__name__} from disk")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)


def encode_state(state: SandboxState) -> bytes:
    """The state as the file's bytes (call on the event loop: it reads live state)."""
    return _encoder.encode(
        _Snapshot(
            version=FORMAT_VERSION,
            last_stamp=state._last_stamp,
            companies=state.companies,
            idempotency=[(k[0], k[1], *v) for k, v in state.idempotency.items()],
        )
    )


def write_file(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save(state: SandboxState, path: str | Path) -> None:
    """Write the state to ``path`` now."""
    write_file(path, encode_state(state))


def load(state: SandboxState, path: str | Path) -> bool:
    """Load ``path`` into a fresh ``state``; False when there is no file.

    An unreadable file (another version, corrupt) is moved aside as ``<name>.bad`` with a
    warning and the sandbox starts empty: it is test data, not worth refusing to start for.
    Push operations left ``Pending`` are scheduled to settle again.
    """
    from sandbox.pushes import settle

    path = Path(path)
    if not path.exists():
        return False
    try:
        snapshot = msgspec.json.decode(path.read_bytes(), type=_Snapshot, dec_hook=_dec_hook)
        if snapshot.version != FORMAT_VERSION:
            raise ValueError(f"format version {snapshot.version}, expected {FORMAT_VERSION}")
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        aside = path.with_name(f"{path.name}.bad")
        os.replace(path, aside)
        logger.warning("sandbox: state file %s unreadable (%s); moved to %s", path, exc, aside)
        return False
    state.companies = snapshot.companies
    state._last_stamp = max(state._last_stamp, snapshot.last_stamp)
    state.idempotency = {(a, b): (c, d, e) for a, b, c, d, e in snapshot.idempotency}
    for company in state.companies.values():
        if company.faults is not None:
            state.set_company_faults(company, company.faults)
        for operation in company.push_operations.values():
            if operation.status == "Pending":
                state.schedule(
                    state.config.push_delay_s,
                    lambda c=company, o=operation: settle(state, c, o),
                )
    logger.info("sandbox: loaded %d companies from %s", len(state.companies), path)
    return True
