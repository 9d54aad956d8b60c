"""Offline verification of a whole log: every leaf, signature, sequence number, checkpoint and
cosignature, from nothing but the entries, the registry and the signed checkpoints.

The per-leaf work (parse, canonical form, Ed25519 signatures, leaf hash) is independent, so it is
spread over worker processes; the order-dependent work (sequence numbers, the tree, the roots of
historic checkpoints) runs in the parent over the workers' results, in index order.

The first failure is reported with the index of the first bad leaf. Where the damage is invisible
leaf by leaf (two valid records swapped), the signed history of checkpoints localises it: the
first historic checkpoint whose root no longer matches bounds the bad leaf from both sides.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from detente.envelope.dsse import parse_envelope
from detente.envelope.verify import KeyRing, verify_record
from detente.errors import DetenteError, NoteError, StorageError, VerificationFailed
from detente.log.merkle import Frontier, leaf_hash
from detente.log.note import SignedCheckpoint, open_checkpoint
from detente.log.note import verify_cosignature as _verify_cosig
from detente.log.trust import operator_verifier, witness_verifiers
from detente.model.parties import Registry

CHUNK = 4096


@dataclass
class AuditReport:
    entries: int = 0
    size: int = 0
    root: bytes = b""
    cosigned_by: list[str] = field(default_factory=list)
    witnesses: int = 0
    checkpoints: int = 0
    error: str | None = None
    index: int | None = None
    #: The stored tree row that disagrees with the entries, if that is the failure: table, level,
    #: index, expected and stored hash (hex; stored is None for a missing row).
    node: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "entries": self.entries, "checkpoint_size": self.size,
            "root": self.root.hex(), "cosigned_by": self.cosigned_by,
            "witnesses": self.witnesses, "historic_checkpoints": self.checkpoints,
            "error": self.error, "index": self.index, "node": self.node,
        }


def check_leaf(leaf: bytes, keyring: KeyRing) -> tuple[str, int, bytes]:
    """Everything about one leaf that needs no other leaf; returns (author, seq, leaf hash)."""
    env = parse_envelope(leaf)
    rec = verify_record(env, keyring)
    if rec.header.log != keyring.registry.origin:
        raise VerificationFailed(f"record was signed for log {rec.header.log!r}, not this one")
    if env.canonical() != leaf:
        raise VerificationFailed("stored envelope is not in canonical form")
    return rec.header.author, rec.header.seq, leaf_hash(leaf)


class NodeMismatch(VerificationFailed):
    """A stored node (a row of the nodes table) is missing or differs from the hash recomputed
    from the entries: proofs served through it would be wrong."""

    def __init__(
        self, message: str, *, level: int, node_index: int, expected: bytes,
        stored: bytes | None, index: int | None = None,
    ) -> None:
        super().__init__(message, index=index)
        self.node = {"table": "nodes", "level": level, "index": node_index,
                     "expected": expected.hex(), "stored": None if stored is None else stored.hex()}


_RESTORE = "Restore the database from a backup or a bundle, then run `detente log verify` again"


def _node_error(
    level: int, j: int, expected: bytes, got: tuple[int, bytes] | None
) -> NodeMismatch | None:
    """The error for stored row `got` where node (level, j) hashing to `expected` belongs."""
    if got is not None and got[0] == j and got[1] == expected:
        return None
    first, last = j << level, ((j + 1) << level) - 1
    where = f"nodes table, level {level}, index {j}"
    if got is None or got[0] != j:
        return NodeMismatch(
            f"{where} (the subtree over leaves {first}–{last}) is missing: expected "
            f"{expected.hex()}; proofs through it cannot be served. {_RESTORE}",
            level=level, node_index=j, expected=expected, stored=None,
        )
    return NodeMismatch(
        f"{where} (the subtree over leaves {first}–{last}): stored {got[1].hex()}, expected "
        f"{expected.hex()} as recomputed from those leaves (whose entries and stored leaf "
        f"hashes agree); proofs served through this node would be wrong. {_RESTORE}",
        level=level, node_index=j, expected=expected, stored=got[1],
    )


# -- worker side ---------------------------------------------------------------------------------

_worker_ring: KeyRing | None = None

ChunkResult = tuple[list[tuple[str, int, bytes]], tuple[int, str] | None]


def _init_worker(registry_json: dict[str, Any]) -> None:
    global _worker_ring
    _worker_ring = KeyRing(Registry.from_json(registry_json))


def _check_chunk(args: tuple[int, list[bytes]]) -> ChunkResult:
    start, leaves = args
    ring = _worker_ring
    assert ring is not None
    out: list[tuple[str, int, bytes]] = []
    for i, leaf in enumerate(leaves):
        try:
            out.append(check_leaf(leaf, ring))
        except DetenteError as exc:
            return out, (start + i, str(exc))
    return out, None


def _chunks(leaves: Iterator[bytes]) -> Iterator[tuple[int, list[bytes]]]:
    start = 0
    while True:
        chunk = list(islice(leaves, CHUNK))
        if not chunk:
            return
        yield start, chunk
        start += len(chunk)


def _results(
    leaves: Iterable[bytes], registry: Registry, workers: int
) -> Iterator[ChunkResult]:
    it = iter(leaves)
    if workers <= 1:
        _init_worker(registry.to_json())
        for c in _chunks(it):
            yield _check_chunk(c)
        return
    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    # Pool.imap reads its input as fast as it can; the semaphore keeps only a few chunks in
    # flight so a million-entry log is never held in memory at once.
    slots = threading.BoundedSemaphore(workers * 4)
    stop = threading.Event()

    def throttled() -> Iterator[tuple[int, list[bytes]]]:
        # Runs on the pool's task thread; it must give up when the consumer stops early (a bad
        # leaf found), or the pool's shutdown would wait for it forever.
        for c in _chunks(it):
            while not slots.acquire(timeout=0.05):
                if stop.is_set():
                    return
            if stop.is_set():
                return
            yield c

    with ctx.Pool(workers, initializer=_init_worker, initargs=(registry.to_json(),)) as pool:
        try:
            for result in pool.imap(_check_chunk, throttled(), chunksize=1):
                slots.release()
                yield result
        finally:
            stop.set()


# -- parent side ---------------------------------------------------------------------------------


def _check_checkpoints(
    registry: Registry, latest: str, history: Sequence[str], report: AuditReport, quorum: int | None
) -> tuple[SignedCheckpoint, dict[int, bytes]]:
    operator = operator_verifier(registry)
    try:
        scp = open_checkpoint(latest, operator, registry.origin)
    except NoteError as exc:
        raise VerificationFailed(f"checkpoint: {exc}") from exc
    report.size, report.root = scp.checkpoint.size, scp.checkpoint.root
    witnesses = witness_verifiers(registry)
    report.witnesses = len(witnesses)
    for pid, v in witnesses.items():
        if scp.note.signature_for(v) is None:
            continue
        try:
            _verify_cosig(scp.note, v)
        except NoteError as exc:
            raise VerificationFailed(f"checkpoint: cosignature of {pid}'s witness: {exc}") from exc
        report.cosigned_by.append(pid)
    need = len(witnesses) if quorum is None else quorum
    if len(report.cosigned_by) < need:
        missing = sorted(set(witnesses) - set(report.cosigned_by))
        raise VerificationFailed(
            f"checkpoint of size {report.size} has {len(report.cosigned_by)} of the {need} "
            f"witness cosignatures required (missing: {', '.join(missing)}); ask those "
            "witnesses to cosign (`detente log checkpoint --cosign`) or lower --quorum"
        )
    roots: dict[int, bytes] = {}
    for i, note in enumerate(history):
        try:
            h = open_checkpoint(note, operator, registry.origin).checkpoint
        except NoteError as exc:
            raise VerificationFailed(f"historic checkpoint #{i}: {exc}") from exc
        if h.size > scp.checkpoint.size:
            raise VerificationFailed(
                f"historic checkpoint of size {h.size} is larger than the latest"
            )
        if roots.get(h.size, h.root) != h.root:
            raise VerificationFailed(
                f"two operator-signed checkpoints of size {h.size} with different roots: the "
                "log forked"
            )
        roots[h.size] = h.root
    report.checkpoints = len(roots)
    if roots.get(scp.checkpoint.size, scp.checkpoint.root) != scp.checkpoint.root:
        raise VerificationFailed("latest checkpoint disagrees with the historic one of its size")
    return scp, roots


def audit(
    registry: Registry,
    leaves: Iterable[bytes],
    latest: str,
    history: Sequence[str] = (),
    *,
    stored_hashes: Iterable[tuple[int, bytes]] | None = None,
    stored_nodes: Callable[[int], Iterable[tuple[int, bytes]]] | None = None,
    indices: Iterable[int] | None = None,
    workers: int | None = None,
    quorum: int | None = None,
) -> AuditReport:
    """Verify a log completely; never raises for a bad log, reports the first failure instead.

    `indices`, when given (a database), are the stored indices of `leaves`, so a deleted row shows
    as a gap; `stored_hashes` are the store's level-0 hashes, which pinpoint a changed leaf.
    `stored_nodes(level)`, when given, yields the store's (index, hash) rows of an interior level
    (≥ 1) in index order: each is compared with the node recomputed from the leaves as the walk
    completes it, so every hash a proof could serve is checked, each row read once.
    """
    report = AuditReport()
    try:
        scp, roots = _check_checkpoints(registry, latest, history, report, quorum)
        _walk(registry, leaves, scp, roots, stored_hashes, stored_nodes, indices,
              workers if workers is not None else (os.cpu_count() or 1), report)
    except VerificationFailed as exc:
        report.error, report.index = exc.message, exc.index
        if isinstance(exc, NodeMismatch):
            report.node = exc.node
    except StorageError as exc:
        report.error = exc.message
        report.index = report.entries
    return report


def _walk(
    registry: Registry,
    leaves: Iterable[bytes],
    scp: SignedCheckpoint,
    roots: dict[int, bytes],
    stored_hashes: Iterable[tuple[int, bytes]] | None,
    stored_nodes: Callable[[int], Iterable[tuple[int, bytes]]] | None,
    indices: Iterable[int] | None,
    workers: int,
    report: AuditReport,
) -> None:
    size = scp.checkpoint.size
    frontier = Frontier()
    last_seq: dict[str, int] = {}
    last_good_cp = 0
    hashes = iter(stored_hashes) if stored_hashes is not None else None
    idx_iter = iter(indices) if indices is not None else None
    # The nodes each append completes, (level, index, hash), and one stored-row feed per level.
    completed: list[tuple[int, int, bytes]] | None = [] if stored_nodes is not None else None
    feeds: list[Iterator[tuple[int, bytes]]] = []
    try:
        for results, failure in _results(leaves, registry, workers):
            for author, seq, lh in results:
                i = frontier.size
                if idx_iter is not None:
                    stored_i = next(idx_iter)
                    if stored_i != i:
                        raise VerificationFailed(
                            f"leaf {i}: missing from the store (next stored index is {stored_i})",
                            index=i,
                        )
                if hashes is not None:
                    got = next(hashes, None)
                    if got is None or got[0] != i:
                        raise NodeMismatch(
                            f"leaf {i}: its stored leaf hash (nodes table, level 0, index {i}) "
                            f"is missing: expected {lh.hex()} from the entry's bytes. {_RESTORE}",
                            level=0, node_index=i, expected=lh, stored=None, index=i,
                        )
                    if got[1] != lh:
                        raise NodeMismatch(
                            f"leaf {i}: its bytes do not match the tree's stored leaf hash: the "
                            "entry was altered, swapped or replaced, or the stored hash was "
                            f"(nodes table, level 0, index {i}: stored {got[1].hex()}, expected "
                            f"{lh.hex()} from the entry's bytes)",
                            level=0, node_index=i, expected=lh, stored=got[1], index=i,
                        )
                if i >= size:
                    raise VerificationFailed(
                        f"leaf {i}: beyond the latest checkpoint's size {size}", index=i
                    )
                if seq <= last_seq.get(author, 0):
                    raise VerificationFailed(
                        f"leaf {i}: {author} sequence number {seq} does not increase (previous "
                        f"{last_seq[author]}): records were replayed or reordered", index=i,
                    )
                last_seq[author] = seq
                if completed is None:
                    frontier.append(lh)
                else:
                    assert stored_nodes is not None
                    frontier.append(lh, completed)
                    for level, j, h in completed[1:]:  # level 0 was checked above
                        while len(feeds) < level:
                            feeds.append(iter(stored_nodes(len(feeds) + 1)))
                        bad = _node_error(level, j, h, next(feeds[level - 1], None))
                        if bad is not None:
                            raise bad
                    completed.clear()
                report.entries = frontier.size
                want = roots.get(frontier.size)
                if want is not None:
                    if frontier.root() != want:
                        raise VerificationFailed(
                            f"leaf {last_good_cp}: leaves {last_good_cp}–{frontier.size - 1} do "
                            f"not hash to the operator-signed checkpoint of size {frontier.size}: "
                            "one of them was changed, removed, inserted or reordered",
                            index=last_good_cp,
                        )
                    last_good_cp = frontier.size
            if failure is not None:
                raise VerificationFailed(f"leaf {failure[0]}: {failure[1]}", index=failure[0])
    except StorageError as exc:
        raise VerificationFailed(
            f"leaf {frontier.size}: the store could not be read from here on ({exc.message})",
            index=frontier.size,
        ) from exc
    if frontier.size < size:
        raise VerificationFailed(
            f"leaf {frontier.size}: missing; the entries end at {frontier.size} but the signed "
            f"checkpoint covers {size}", index=frontier.size,
        )
    if frontier.root() != scp.checkpoint.root:
        raise VerificationFailed(
            f"leaf {last_good_cp}: the entries from {last_good_cp} on do not hash to the signed "
            "checkpoint's root", index=last_good_cp,
        )
