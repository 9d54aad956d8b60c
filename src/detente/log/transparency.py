"""The transparency log: admit, sequence, append durably, checkpoint, prove.

One writer at a time (the store's exclusive transaction), so every batch sees the true head:
the per-author sequence rule and the tree are both computed inside the transaction that commits
them. Receipts are built only after COMMIT has returned.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from detente.envelope.keys import SigningKey
from detente.envelope.verify import KeyRing
from detente.errors import DetenteError, NoteError, ProofError, RecordRefused, StorageError
from detente.log.admission import Admitted, Policy, admit
from detente.log.merkle import (
    EDGE,
    Frontier,
    NodeKey,
    consistency_ranges,
    edge_hashes,
    hashes_for,
    inclusion_paths,
    inclusion_ranges,
    resolve_paths,
)
from detente.log.note import (
    Checkpoint,
    NoteSignature,
    SignedCheckpoint,
    open_checkpoint,
    sign_checkpoint,
    verify_cosignature,
)
from detente.log.receipt import Receipt
from detente.log.store import LogStore, StoredEntry
from detente.log.trust import operator_verifier, witness_verifiers
from detente.model.parties import Registry
from detente.model.records import format_time


def utcnow() -> datetime:
    return datetime.now(UTC)


class RecordRule(ABC):
    """A rule over the log's content, judged where the order is final: inside the write
    transaction, against everything already logged (by any process) and earlier in the batch.

    Signatures, roles and sequence numbers say who may write; rules say what may come next:
    no inspection findings without a request, no second draw, no quota overrun. A rule keeps its
    own projection of the log. Before each batch the log feeds it the entries appended since it
    last looked (other processes may have written); during the batch, each record it accepts.
    If the transaction fails, the log calls `reset` and the projection is rebuilt from the log.
    """

    def __init__(self) -> None:
        self.seen = 0  # entries [0, seen) have been observed

    @abstractmethod
    def observe(self, index: int, leaf: bytes, author: str, kind: str) -> None:
        """Fold one logged entry into the projection."""

    @abstractmethod
    def check(self, item: Admitted, index: int) -> RecordRefused | None:
        """Judge a candidate that would land at `index`; None to accept."""

    def reset(self) -> None:
        """Forget the projection; it is rebuilt from the log on the next batch."""
        self.seen = 0


class TransparencyLog:
    def __init__(
        self,
        store: LogStore,
        registry: Registry,
        operator_key: SigningKey | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        policy: Policy | None = None,
        rules: Sequence[RecordRule] = (),
    ) -> None:
        self.store = store
        self.rules = tuple(rules)
        self.registry = registry
        self.keyring = KeyRing(registry)
        self.clock = clock
        self.policy = policy or Policy()
        self.operator = operator_verifier(registry)
        if operator_key is not None and operator_key.public_key != registry.operator.public_key:
            raise DetenteError("the operator key given does not match the registry's log key")
        self._operator_key = operator_key

    @property
    def origin(self) -> str:
        return self.registry.origin

    # -- appending --

    def admit(self, raw: bytes | str | dict[str, Any]) -> Admitted:
        return admit(raw, self.keyring, now=self.clock(), policy=self.policy)

    def append(self, raw: bytes | str | dict[str, Any]) -> Receipt:
        """Append one envelope; return its receipt or raise RecordRefused (log unchanged)."""
        (result,) = self.append_batch([raw])
        if isinstance(result, RecordRefused):
            raise result
        return result

    def append_batch(
        self, raws: Iterable[bytes | str | dict[str, Any]]
    ) -> list[Receipt | RecordRefused]:
        admitted: list[Admitted | RecordRefused] = []
        for raw in raws:
            try:
                admitted.append(self.admit(raw))
            except RecordRefused as exc:
                admitted.append(exc)
        return self.append_admitted(admitted)

    def append_admitted(
        self, items: Sequence[Admitted | RecordRefused]
    ) -> list[Receipt | RecordRefused]:
        """Sequence and durably append records already through `admit` (possibly elsewhere)."""
        if self._operator_key is None:
            raise DetenteError("this log was opened without the operator key; it cannot append")
        results: list[Receipt | RecordRefused | int] = []
        received = format_time(self.clock())
        try:
            return self._append_admitted(items, received, results)
        except BaseException:
            for rule in self.rules:  # their view of this batch may not have been committed
                rule.reset()
            raise

    def _catch_up(self, size: int) -> None:
        for rule in self.rules:
            if rule.seen > size:  # the store is behind what the rule saw: rebuild
                rule.reset()
        start = min((r.seen for r in self.rules), default=size)
        while start < size:
            end = min(size, start + 10_000)
            for e in self.store.entries(start, end):
                for rule in self.rules:
                    if rule.seen == e.index:
                        rule.observe(e.index, e.leaf, e.author, e.kind)
                        rule.seen += 1
            start = end

    def _append_admitted(
        self, items: Sequence[Admitted | RecordRefused], received: str,
        results: list[Receipt | RecordRefused | int],
    ) -> list[Receipt | RecordRefused]:
        assert self._operator_key is not None
        with self.store.writer() as txn:
            size = txn.size()
            if self.rules:
                self._catch_up(size)
            old_edge = self._frontier_nodes(txn.fetch_nodes, size)
            frontier = Frontier(size, old_edge)
            last: dict[str, int] = {}
            entries: list[StoredEntry] = []
            new_nodes: list[tuple[int, int, bytes]] = []
            for item in items:
                if isinstance(item, RecordRefused):
                    results.append(item)
                    continue
                prev = last.get(item.author)
                if prev is None:
                    prev = last[item.author] = txn.last_seq(item.author)
                if item.seq <= prev:
                    results.append(RecordRefused(
                        f"sequence number {item.seq} for {item.author} is not above the last "
                        f"one logged ({prev}): a replay or a reordered submission; sign the "
                        f"record again with seq {prev + 1} or higher",
                        code="replay",
                    ))
                    continue
                index = frontier.size
                if self.rules:
                    refusal = next((r for r in (rule.check(item, index) for rule in self.rules) if r), None)
                    if refusal is not None:
                        results.append(refusal)
                        continue
                    for rule in self.rules:
                        rule.observe(index, item.leaf, item.author, item.kind)
                        rule.seen = index + 1
                last[item.author] = item.seq
                frontier.append(item.leaf_hash, new_nodes)
                entries.append(StoredEntry(
                    index, item.leaf, item.author, item.seq, item.kind, received
                ))
                results.append(index)
            if not entries:
                return [r for r in results if not isinstance(r, int)]
            scp = sign_checkpoint(
                Checkpoint(self.origin, frontier.size, frontier.root()),
                self.operator.name, self._operator_key,
            )
            note = scp.encode()
            txn.add(entries, new_nodes, (frontier.size, note))
        # COMMIT has returned: the batch is durable, receipts may go out. Every node a proof in
        # this batch can need is new in this batch or was on the old right edge.
        batch_nodes = dict(zip(Frontier.keys_for(size), old_edge, strict=True))
        batch_nodes.update(((lv, i), h) for lv, i, h in new_nodes)
        indices = [r for r in results if isinstance(r, int)]
        proofs = self._proofs(indices, frontier, batch_nodes)
        return [Receipt(r, note, proofs[r]) if isinstance(r, int) else r for r in results]

    @staticmethod
    def _frontier_nodes(
        fetch: Callable[[list[NodeKey]], dict[NodeKey, bytes]], size: int
    ) -> list[bytes]:
        keys = Frontier.keys_for(size)
        got = fetch(keys)
        try:
            return [got[k] for k in keys]
        except KeyError as exc:
            raise StorageError(
                f"the store lacks tree node {exc.args[0]} for size {size}; run `detente log verify`"
            ) from exc

    def _proofs(
        self, indices: Sequence[int], frontier: Frontier, known: dict[NodeKey, bytes]
    ) -> dict[int, tuple[bytes, ...]]:
        """Inclusion proofs for a batch against the new size: the batch's own nodes are in
        memory, the right edge comes from the frontier, and older nodes need one fetch."""
        size = frontier.size
        plan = inclusion_paths(indices, size)
        missing = sorted({t for here in plan for t in here.values()
                          if t is not None and t[0] != EDGE and t not in known})
        if missing:
            known = {**known, **self.store.fetch_nodes(missing)}
        try:
            return resolve_paths(indices, plan, known.__getitem__, edge_hashes(size, frontier.nodes))
        except KeyError as exc:
            raise StorageError(f"tree node {exc.args[0]} is missing from the store") from exc

    # -- reading --

    def size(self) -> int:
        return self.store.size()

    def latest(self) -> SignedCheckpoint:
        note = self.store.checkpoint()
        if note is None:
            raise ProofError("the log is empty: no checkpoint has been signed yet")
        return open_checkpoint(note, self.operator, self.origin)

    def checkpoint_at(self, size: int) -> SignedCheckpoint:
        note = self.store.checkpoint(size)
        if note is None:
            raise ProofError(f"no checkpoint was signed at size {size}")
        return open_checkpoint(note, self.operator, self.origin)

    def leaf(self, index: int) -> bytes:
        got = self.store.entries(index, index + 1)
        if not got:
            raise ProofError(f"no entry at index {index} (log size {self.size()})")
        return got[0].leaf

    def inclusion_proof(self, index: int, size: int | None = None) -> Receipt:
        """A receipt for leaf `index` against the checkpoint of `size` (latest if None)."""
        scp = self.latest() if size is None else self.checkpoint_at(size)
        n = scp.checkpoint.size
        proof = tuple(hashes_for(inclusion_ranges(index, n), self.store.fetch_nodes))
        return Receipt(index, scp.encode(), proof)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        if new > self.size():
            raise ProofError(f"the log has {self.size()} entries, not {new}")
        return hashes_for(consistency_ranges(old, new), self.store.fetch_nodes)

    # -- cosignatures --

    def add_cosignature(self, size: int, sig: NoteSignature) -> SignedCheckpoint:
        """Attach a registered witness's cosignature to the stored checkpoint of `size`."""
        witness = next(
            (v for v in witness_verifiers(self.registry).values()
             if v.name == sig.name and v.key_id == sig.key_id),
            None,
        )
        if witness is not None:

            def amend(text: str) -> str:
                scp = open_checkpoint(text, self.operator, self.origin)
                note = scp.note.with_signature(sig)
                verify_cosignature(note, witness)
                return note.encode()

            return SignedCheckpoint.parse(self.store.amend_checkpoint(size, amend))
        raise NoteError(
            f"cosignature by {sig.name!r} (key ID {sig.key_id.hex()}) is not from a registered "
            "witness"
        )
