"""Parallel ingest: run the stateless door checks on every core, then append in one transaction.

Signature verification dominates the cost of accepting a record, and it needs nothing but the
registry, so worker processes do it (with parsing, the canonical check and the leaf hash); the
parent then applies the stateful rules (sequence numbers) and appends durably, as the log always
does. The result is the same as `TransparencyLog.append_batch`, only faster for large batches.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from types import TracebackType
from typing import Any

from detente.envelope.verify import KeyRing
from detente.errors import RecordRefused
from detente.log.admission import Admitted, Policy, admit
from detente.log.receipt import Receipt
from detente.log.transparency import TransparencyLog
from detente.model.parties import Registry

#: Batches admitted ahead of the one being written: enough that the workers never wait for the
#: writer's fsync, few enough to bound memory.
LOOKAHEAD = 2

_ring: KeyRing | None = None
_policy: Policy | None = None


def _init(registry_json: dict[str, Any], policy: Policy) -> None:
    global _ring, _policy
    _ring = KeyRing(Registry.from_json(registry_json))
    _policy = policy


def _admit_chunk(args: tuple[list[bytes], datetime]) -> list[Admitted | RecordRefused]:
    raws, now = args
    assert _ring is not None
    assert _policy is not None
    out: list[Admitted | RecordRefused] = []
    for raw in raws:
        try:
            out.append(admit(raw, _ring, now=now, policy=_policy))
        except RecordRefused as exc:
            out.append(exc)
    return out


def _gather(
    futures: list[Future[list[Admitted | RecordRefused]]],
) -> list[Admitted | RecordRefused]:
    return [item for f in futures for item in f.result()]


class ParallelIngestor:
    """A pool of admission workers in front of one log. Use as a context manager."""

    def __init__(self, log: TransparencyLog, workers: int) -> None:
        self.log = log
        self.workers = workers
        ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
        self._pool = ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_init,
            initargs=(log.registry.to_json(), log.policy),
        )

    def admit_many(self, raws: Sequence[bytes]) -> list[Admitted | RecordRefused]:
        return _gather(self._submit(raws))

    def append_batch(self, raws: Sequence[bytes]) -> list[Receipt | RecordRefused]:
        return self.log.append_admitted(self.admit_many(raws))

    def append_stream(
        self, batches: Iterable[Sequence[bytes]]
    ) -> Iterator[list[Receipt | RecordRefused]]:
        """Append batches in order, admitting batch k+1 on the workers while batch k is written,
        so neither the cores nor the disk wait for the other.

        A refused record does not stop the stream; a DetenteError from the store does."""
        pending: deque[list[Future[list[Admitted | RecordRefused]]]] = deque()
        for raws in batches:
            pending.append(self._submit(raws))
            if len(pending) > LOOKAHEAD:
                yield self.log.append_admitted(_gather(pending.popleft()))
        while pending:
            yield self.log.append_admitted(_gather(pending.popleft()))

    def _submit(self, raws: Sequence[bytes]) -> list[Future[list[Admitted | RecordRefused]]]:
        now = self.log.clock()
        step = max(1, -(-len(raws) // (self.workers * 2)))
        return [self._pool.submit(_admit_chunk, (list(raws[i : i + step]), now))
                for i in range(0, len(raws), step)]

    def close(self) -> None:
        self._pool.shutdown()

    def __enter__(self) -> ParallelIngestor:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
