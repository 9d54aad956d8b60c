"""The one small interface between the tree logic and a database.

The log asks a store for: the tree size, perfect-subtree hashes by (level, index), entries, the
latest sequence number of each author, and signed checkpoints; and it writes each batch (entries,
new nodes, the checkpoint that covers them) in one exclusive, durable transaction. Nothing here
knows about records, parties or treaties.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from detente.log.merkle import NodeKey


@dataclass(frozen=True)
class StoredEntry:
    index: int
    leaf: bytes
    author: str
    seq: int
    kind: str
    received_at: str


class WriteTxn(ABC):
    """An exclusive write transaction: the head cannot move under it, and it commits durably."""

    @abstractmethod
    def size(self) -> int: ...

    @abstractmethod
    def fetch_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]: ...

    @abstractmethod
    def last_seq(self, author: str) -> int:
        """Highest sequence number `author` has in the log, 0 if none."""

    @abstractmethod
    def add(
        self,
        entries: Sequence[StoredEntry],
        nodes: Sequence[tuple[int, int, bytes]],
        checkpoint: tuple[int, str],
    ) -> None: ...


class LogStore(ABC):
    @abstractmethod
    def writer(self) -> AbstractContextManager[WriteTxn]: ...

    @abstractmethod
    def size(self) -> int: ...

    @abstractmethod
    def fetch_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]: ...

    @abstractmethod
    def entries(self, start: int, end: int) -> list[StoredEntry]: ...

    @abstractmethod
    def iter_entries(self, batch: int = 10_000) -> Iterator[StoredEntry]: ...

    @abstractmethod
    def iter_nodes(self, level: int, batch: int = 100_000) -> Iterator[tuple[int, bytes]]:
        """Stored hashes of one level, (index, hash) in index order (for integrity checks of the
        store itself: every stored node is what a proof may serve)."""

    def iter_leaf_hashes(self, batch: int = 100_000) -> Iterator[tuple[int, bytes]]:
        """Stored level-0 hashes in index order (for integrity checks of the store itself)."""
        return self.iter_nodes(0, batch)

    @abstractmethod
    def checkpoint(self, size: int | None = None) -> str | None:
        """The stored signed checkpoint for `size` (latest if None), with its cosignatures."""

    @abstractmethod
    def checkpoints(self) -> list[tuple[int, str]]: ...

    @abstractmethod
    def amend_checkpoint(self, size: int, amend: Callable[[str], str]) -> str:
        """Replace the note stored for `size` by `amend(note)` atomically (no lost update when
        witnesses cosign at once); used only to attach cosignatures. Returns the new note."""

    @abstractmethod
    def close(self) -> None: ...
