"""Bundles: a log exported as plain files that any party can keep and check with no server.

    OUT/checkpoint         the latest checkpoint, operator-signed and witness-cosigned (C2SP)
    OUT/entries.jsonl      line i: the exact canonical JSON bytes of leaf i
    OUT/keys.json          the registry: parties, keys, roles; operator and witness note keys
    OUT/checkpoints.jsonl  every checkpoint the operator signed, oldest first ({"note": ...})

The historic checkpoints are not required to check the latest one; they let a verifier show
that the operator never signed a history it later rewrote, and localise damage precisely.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from detente.errors import ConfigError, DetenteError
from detente.log.audit import AuditReport, audit
from detente.log.note import SignedCheckpoint
from detente.log.store import LogStore
from detente.log.trust import operator_verifier, witness_verifiers
from detente.model.parties import Registry


def export_bundle(store: LogStore, registry: Registry, out: Path) -> int:
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out} exists and is not empty; export into a new directory")
    latest = store.checkpoint()
    if latest is None:
        raise ConfigError("the log is empty; append a record before exporting")
    # Export exactly what the checkpoint read above covers; appends racing the export follow it.
    size = SignedCheckpoint.parse(latest).checkpoint.size
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(out / "entries.jsonl", "wb") as fh:
        for e in store.iter_entries():
            if e.index >= size:
                break
            fh.write(e.leaf + b"\n")
            n += 1
        fh.flush()
        os.fsync(fh.fileno())
    keys = registry.to_json()
    keys["log"]["vkey"] = operator_verifier(registry).vkey
    keys["witness_vkeys"] = {pid: v.vkey for pid, v in witness_verifiers(registry).items()}
    (out / "keys.json").write_text(json.dumps(keys, indent=2) + "\n")
    with open(out / "checkpoints.jsonl", "w") as fh:
        for cp_size, note in store.checkpoints():
            if cp_size <= size:
                fh.write(json.dumps({"note": note}) + "\n")
    (out / "checkpoint").write_text(latest)
    return n


def _lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        for line in fh:
            yield line[:-1] if line.endswith(b"\n") else line


def verify_bundle(
    path: Path,
    *,
    trusted: Registry | None = None,
    workers: int | None = None,
    quorum: int | None = None,
) -> AuditReport:
    """Verify a bundle. Pass `trusted` (the registry you hold from the agreement): a bundle's own
    keys.json proves only that the bundle is self-consistent, not whose log it is."""
    try:
        registry = Registry.from_json(json.loads((path / "keys.json").read_text()))
        if trusted is not None and registry.to_json() != trusted.to_json():
            return AuditReport(error=(
                "the bundle's keys.json differs from the trusted registry: the bundle is not "
                "signed by the keys you hold; compare the log operator and party keys"
            ))
        registry = trusted or registry
        latest = (path / "checkpoint").read_text()
        history: list[str] = []
        hist_path = path / "checkpoints.jsonl"
        if hist_path.exists():
            history = [json.loads(line)["note"] for line in hist_path.read_text().splitlines()]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{path} is not a readable bundle: {exc}") from exc
    return audit(registry, _lines(path / "entries.jsonl"), latest, history,
                 workers=workers, quorum=quorum)


def verify_store(
    store: LogStore, registry: Registry, *, workers: int | None = None, quorum: int | None = None
) -> AuditReport:
    try:
        latest = store.checkpoint()
        if latest is None:
            return AuditReport(error="the log is empty: no checkpoint to verify against")
        # Check what the checkpoint read here covers; appends racing this check come after it.
        size = SignedCheckpoint.parse(latest).checkpoint.size
        history = [n for s, n in store.checkpoints() if s <= size]
    except DetenteError as exc:
        return AuditReport(error=f"stored checkpoints are unreadable: {exc.message}")
    indices: list[int] = []

    def leaves() -> Iterator[bytes]:
        for e in store.iter_entries():
            if e.index >= size:
                return
            indices.append(e.index)
            yield e.leaf

    def leaf_hashes() -> Iterator[tuple[int, bytes]]:
        for i, h in store.iter_leaf_hashes():
            if i >= size:
                return
            yield i, h

    def nodes(level: int) -> Iterator[tuple[int, bytes]]:
        # Every stored interior node is served in proofs, so each is checked (audit reads each
        # level as the walk completes its nodes; small batches, as about log n levels are open).
        return store.iter_nodes(level, batch=20_000)

    return audit(registry, leaves(), latest, history, stored_hashes=leaf_hashes(),
                 stored_nodes=nodes, indices=_IndexFeed(indices), workers=workers, quorum=quorum)


class _IndexFeed:
    """Index feed that follows the leaf reader, which always runs ahead of the parent's loop."""

    def __init__(self, indices: list[int]) -> None:
        self._indices = indices
        self._k = 0

    def __iter__(self) -> _IndexFeed:
        return self

    def __next__(self) -> int:
        if self._k >= len(self._indices):
            raise StopIteration
        v = self._indices[self._k]
        self._k += 1
        return v
