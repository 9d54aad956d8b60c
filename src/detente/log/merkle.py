"""RFC 9162 §2 Merkle tree hashing, proofs and their verification.

Storage model: the log stores the hash of every *perfect* subtree, addressed (level, index): the
subtree covering leaves [index·2^level, (index+1)·2^level). Appending a leaf adds it at level 0 and
completes, on average, one more node above it. Any subtree the RFC's recursion names is either
perfect (one stored node) or lies on the tree's right edge, where it decomposes into O(log n)
perfect nodes. So every proof costs O(log n) reads and never recomputes the tree.

Verification follows the RFC's iterative algorithms (§2.1.3.2 and §2.1.4.2) literally: a verifier
needs only the proof, the leaf and a root, and shares no code path with proof generation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

from detente.errors import ProofError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256

NodeKey = tuple[int, int]  # (level, index) of a perfect subtree


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly less than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_nodes(start: int, end: int) -> list[NodeKey]:
    """Decompose [start, end) into perfect subtrees, left to right (as RFC 9162's MTH splits it).

    Valid for the ranges the RFC recursion produces (start aligned to the range's split size).
    """
    out: list[NodeKey] = []
    while start < end:
        size = end - start
        if size & (size - 1) == 0:
            level = size.bit_length() - 1
            out.append((level, start >> level))
            break
        k = _split(size)
        level = k.bit_length() - 1
        out.append((level, start >> level))
        start += k
    return out


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Combine a left-to-right decomposition into the range's hash (right-most pairs first)."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The sibling subtrees of RFC 9162 PATH(index, D[0:size]), bottom-up."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The subtrees of RFC 9162 PROOF(old, D[0:new]) (§2.1.4.1 SUBPROOF), in proof order."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to smaller size {new}")
    if old == 0 or old == new:
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                ranges.append((start, end))
            break
        k = _split(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            complete = False
    ranges.reverse()
    return ranges


EDGE = -1  # marks a path element that is a partial right-edge subtree: (EDGE, start)


def inclusion_path(index: int, size: int) -> list[NodeKey]:
    """RFC 9162 PATH(index, D[0:size]) as node addresses, bottom-up, without hashing.

    Each element is a stored perfect subtree (level, index), or (EDGE, start): the partial
    subtree [start, size) on the tree's right edge. A sibling that does not exist at a level is
    skipped: RFC 9162's unbalanced split promotes the node instead.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    path: list[NodeKey] = []
    k, level, last = index, 0, size - 1
    while last:
        sib = k ^ 1
        if sib < k or (sib + 1) << level <= size:
            path.append((level, sib))
        elif sib <= last:
            path.append((EDGE, sib << level))
        k >>= 1
        last >>= 1
        level += 1
    return path


def inclusion_paths(indices: Iterable[int], size: int) -> list[dict[int, NodeKey | None]]:
    """`inclusion_path` for many leaves at once, sharing what their paths share.

    The element a leaf's path has at level l depends only on its ancestor there (index >> l), so
    leaves under one ancestor share the rest of their path. Returns one map per level, bottom-up:
    plan[l][j] is the level-l element of every leaf whose level-l ancestor is j, a node address as
    `inclusion_path` gives it or None where RFC 9162 skips the level. A batch of b consecutive
    leaves costs about 2b steps, not b·log n.
    """
    groups = list(dict.fromkeys(indices))
    for i in groups:
        if type(i) is not int or not 0 <= i < size:
            raise ProofError(f"leaf index {i} is not in a tree of size {size}")
    plan: list[dict[int, NodeKey | None]] = []
    level, last = 0, size - 1
    while last:
        here: dict[int, NodeKey | None] = {}
        for k in groups:
            sib = k ^ 1
            if sib < k or (sib + 1) << level <= size:
                here[k] = (level, sib)
            elif sib <= last:
                here[k] = (EDGE, sib << level)
            else:
                here[k] = None
        plan.append(here)
        groups = list(dict.fromkeys([k >> 1 for k in groups]))
        last >>= 1
        level += 1
    return plan


def resolve_paths(
    indices: Iterable[int],
    plan: Sequence[Mapping[int, NodeKey | None]],
    node: Callable[[NodeKey], bytes],
    edge: Mapping[int, bytes],
) -> dict[int, tuple[bytes, ...]]:
    """The hashes of the paths `inclusion_paths` planned, built top level first so that each
    shared tail is made once: `node` gives a perfect subtree's hash, `edge` a partial right-edge
    subtree's by its start."""
    tails: dict[int, tuple[bytes, ...]] = {}
    for here in reversed(plan):
        below: dict[int, tuple[bytes, ...]] = {}
        for k, target in here.items():
            up = tails.get(k >> 1, ())
            if target is None:
                below[k] = up
            else:
                below[k] = (edge[target[1]] if target[0] == EDGE else node(target), *up)
        tails = below
    return {i: tails.get(i, ()) for i in indices}


def edge_hashes(size: int, root_nodes: Sequence[bytes]) -> dict[int, bytes]:
    """start → hash of [start, size) for every partial right-edge subtree, from the root's
    perfect-subtree decomposition (a frontier): log n hashes, shared by every proof at `size`."""
    keys = root_ranges(size)
    out: dict[int, bytes] = {}
    acc = b""
    for (level, idx), h in zip(reversed(keys), reversed(root_nodes), strict=True):
        acc = h if not acc else node_hash(h, acc)
        out[idx << level] = acc
    return out


def hashes_for(
    ranges: Iterable[tuple[int, int]], fetch: Callable[[list[NodeKey]], Mapping[NodeKey, bytes]]
) -> list[bytes]:
    """Resolve subtree ranges to hashes with a single batched fetch of perfect nodes."""
    plans = [perfect_nodes(s, e) for s, e in ranges]
    wanted = sorted({key for plan in plans for key in plan})
    nodes = fetch(wanted)
    try:
        return [fold_right([nodes[key] for key in plan]) for plan in plans]
    except KeyError as exc:
        raise ProofError(f"node {exc.args[0]} is missing from the store") from exc


def root_ranges(size: int) -> list[NodeKey]:
    return perfect_nodes(0, size) if size else []


# --- verification (RFC 9162 §2.1.3.2, §2.1.4.2) -------------------------------------------------


def verify_inclusion(
    index: int, size: int, leaf_hash_: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ProofError unless `proof` shows leaf `index` with `leaf_hash_` is in the tree `root`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if any(len(p) != HASH_SIZE for p in proof):
        raise ProofError("inclusion proof holds a value that is not a 32-byte hash")
    fn, sn, r = index, size - 1, leaf_hash_
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    if r != root:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the root of size {size}")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless the tree (new_size, new_root) extends (old_size, old_root)."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"tree shrank from size {old_size} to {new_size}: a rollback")
    if any(len(p) != HASH_SIZE for p in proof):
        raise ProofError("consistency proof holds a value that is not a 32-byte hash")
    if old_size == new_size:
        if proof:
            raise ProofError("consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same size {old_size}: a fork")
        return
    if old_size == 0:
        if proof:
            raise ProofError("consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than expected")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than expected")
    if fr != old_root:
        raise ProofError(f"consistency proof does not reproduce the old root (size {old_size})")
    if sr != new_root:
        raise ProofError(f"consistency proof does not reproduce the new root (size {new_size})")


# --- building ----------------------------------------------------------------------------------


class Frontier:
    """The right edge of a tree: the perfect subtrees that make up its root.

    Appending through a frontier yields every new perfect node exactly once, which is what the
    store persists; the frontier itself is reloaded from the store's last nodes on open.
    """

    __slots__ = ("nodes", "size")

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()) -> None:
        self.size = size
        # nodes[i] is the hash of the i-th perfect subtree of the root decomposition, left first.
        self.nodes = list(nodes)
        if len(self.nodes) != bin(size).count("1"):
            raise ProofError(f"frontier for size {size} needs {bin(size).count('1')} nodes")

    @classmethod
    def keys_for(cls, size: int) -> list[NodeKey]:
        return root_ranges(size)

    def append(self, lh: bytes, out: list[tuple[int, int, bytes]] | None = None) -> None:
        """Add a leaf hash; record each completed perfect node (level, index, hash) in `out`."""
        idx = self.size
        h = lh
        level = 0
        if out is not None:
            out.append((0, idx, h))
        nodes = self.nodes
        while idx & 1:
            h = node_hash(nodes.pop(), h)
            idx >>= 1
            level += 1
            if out is not None:
                out.append((level, idx, h))
        nodes.append(h)
        self.size += 1

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        return fold_right(self.nodes)

    def copy(self) -> Frontier:
        return Frontier(self.size, self.nodes)


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    f = Frontier()
    for h in leaf_hashes:
        f.append(h)
    return f.root()


class MemoryTree:
    """A tree held in memory: per-level lists of perfect-subtree hashes.

    The same storage model as the database, without the database; used by offline verifiers,
    tests and the peer benchmark.
    """

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]
        self._frontier = Frontier()
        # tree size → hashes of its partial right-edge subtrees, keyed by start.
        self._edge_cache: dict[int, dict[int, bytes]] = {}

    @property
    def size(self) -> int:
        return self._frontier.size

    def append_leaf(self, leaf: bytes) -> int:
        return self.append_hash(_sha256(b"\x00" + leaf).digest())

    def append_hash(self, lh: bytes) -> int:
        # The hot loop of every in-memory build: kept free of calls and attribute chains.
        f = self._frontier
        idx = i = f.size
        levels = self.levels
        levels[0].append(lh)
        h, level = lh, 0
        nodes = f.nodes
        while i & 1:
            h = _sha256(b"\x01" + nodes.pop() + h).digest()
            i >>= 1
            level += 1
            if level == len(levels):
                levels.append([])
            levels[level].append(h)
        nodes.append(h)
        f.size = idx + 1
        return idx

    def fetch(self, keys: list[NodeKey]) -> dict[NodeKey, bytes]:
        levels = self.levels
        return {(lv, i): levels[lv][i] for lv, i in keys}

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if size == 0:
            return EMPTY_ROOT
        return hashes_for([(0, size)], self.fetch)[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        if size > self.size:
            raise ProofError(f"tree has {self.size} leaves, not {size}")
        edge = self._edge_cache.get(size)
        if edge is None:
            if len(self._edge_cache) > 64:
                self._edge_cache.clear()
            roots = self.fetch(root_ranges(size))
            edge = self._edge_cache[size] = edge_hashes(size, [roots[k] for k in root_ranges(size)])
        levels = self.levels
        return [edge[i] if lv == EDGE else levels[lv][i] for lv, i in inclusion_path(index, size)]

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = self.size if new is None else new
        if new > self.size:
            raise ProofError(f"tree has {self.size} leaves, not {new}")
        return hashes_for(consistency_ranges(old, new), self.fetch)
