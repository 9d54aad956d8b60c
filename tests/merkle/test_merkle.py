"""RFC 9162 Merkle trees: known vectors, an independent recursive reference, and proof properties."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from detente.errors import ProofError
from detente.log.merkle import (
    EDGE,
    EMPTY_ROOT,
    Frontier,
    MemoryTree,
    edge_hashes,
    inclusion_path,
    inclusion_paths,
    leaf_hash,
    node_hash,
    resolve_paths,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# --- an independent reference: RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1, recursively on lists ------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + d[0])
    k = _k(n)
    return _sha(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return _ref_subproof(m, d, True)


def _ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*_ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*_ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


# --- RFC 6962 test vectors ----------------------------------------------------------------------

VECTOR_LEAVES = [bytes.fromhex(h) for h in
                 ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                  "606162636465666768696a6b6c6d6e6f"]]
VECTOR_ROOTS = [bytes.fromhex(h) for h in [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]]
INCLUSION_5_OF_8 = [bytes.fromhex(h) for h in [
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
]]
CONSISTENCY_6_8 = [bytes.fromhex(h) for h in [
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
]]
CONSISTENCY_2_5 = [bytes.fromhex(h) for h in [
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
]]


def build(leaves: Sequence[bytes]) -> MemoryTree:
    t = MemoryTree()
    for i, leaf in enumerate(leaves):
        assert t.append_leaf(leaf) == i
    return t


@pytest.fixture(scope="module")
def vector_tree() -> MemoryTree:
    return build(VECTOR_LEAVES)


def test_empty_root() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert MemoryTree().root() == EMPTY_ROOT
    assert Frontier().root() == EMPTY_ROOT
    assert root_of([]) == EMPTY_ROOT
    assert ref_mth([]) == EMPTY_ROOT


def test_hash_prefixes() -> None:
    assert leaf_hash(b"abc") == _sha(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == _sha(b"\x01" + b"L" * 32 + b"R" * 32)


@pytest.mark.parametrize("size", range(1, 9))
def test_vector_roots(vector_tree: MemoryTree, size: int) -> None:
    expected = VECTOR_ROOTS[size - 1]
    assert vector_tree.root(size) == expected
    assert build(VECTOR_LEAVES[:size]).root() == expected
    assert root_of(leaf_hash(x) for x in VECTOR_LEAVES[:size]) == expected
    assert ref_mth(VECTOR_LEAVES[:size]) == expected  # the reference agrees with the RFC too


def test_vector_inclusion(vector_tree: MemoryTree) -> None:
    proof = vector_tree.inclusion_proof(5, 8)
    assert proof == INCLUSION_5_OF_8
    assert ref_path(5, VECTOR_LEAVES) == INCLUSION_5_OF_8
    verify_inclusion(5, 8, leaf_hash(VECTOR_LEAVES[5]), proof, VECTOR_ROOTS[7])


@pytest.mark.parametrize(("old", "new", "expected"), [(6, 8, CONSISTENCY_6_8), (2, 5, CONSISTENCY_2_5)])
def test_vector_consistency(vector_tree: MemoryTree, old: int, new: int, expected: list[bytes]) -> None:
    assert vector_tree.consistency_proof(old, new) == expected
    assert ref_proof(old, VECTOR_LEAVES[:new]) == expected
    verify_consistency(old, new, VECTOR_ROOTS[old - 1], VECTOR_ROOTS[new - 1], expected)


# --- exhaustive agreement with the reference for small trees ------------------------------------

SMALL = 40
SMALL_LEAVES = [b"leaf-%d" % i for i in range(SMALL)]


@pytest.fixture(scope="module")
def small_tree() -> MemoryTree:
    return build(SMALL_LEAVES)


@pytest.mark.parametrize("n", range(SMALL + 1))
def test_small_trees_match_reference(small_tree: MemoryTree, n: int) -> None:
    d = SMALL_LEAVES[:n]
    root = ref_mth(d)
    assert small_tree.root(n) == root
    exact = build(d)  # a tree whose current size is n, not a prefix of a larger one
    assert exact.root() == root
    for i in range(n):
        expected = ref_path(i, d)
        assert small_tree.inclusion_proof(i, n) == expected
        assert exact.inclusion_proof(i) == expected
        verify_inclusion(i, n, leaf_hash(d[i]), expected, root)
    for m in range(n + 1):
        expected = ref_proof(m, d) if 0 < m < n else []
        assert small_tree.consistency_proof(m, n) == expected
        assert exact.consistency_proof(m) == expected
        verify_consistency(m, n, ref_mth(d[:m]), root, expected)


def test_frontier_reports_every_node_once() -> None:
    tree = build(SMALL_LEAVES)
    f = Frontier()
    out: list[tuple[int, int, bytes]] = []
    for leaf in SMALL_LEAVES:
        f.append(leaf_hash(leaf), out)
    assert len({(lv, i) for lv, i, _ in out}) == len(out)
    for lv, i, h in out:
        assert tree.levels[lv][i] == h
        assert h == ref_mth(SMALL_LEAVES[i << lv: (i + 1) << lv])
    assert sum(len(level) for level in tree.levels) == len(out)
    assert f.root() == tree.root()
    # A frontier reloaded from its nodes continues identically.
    g = Frontier(f.size, f.nodes).copy()
    g.append(leaf_hash(b"next"))
    assert g.root() == ref_mth([*SMALL_LEAVES, b"next"])
    assert f.root() == tree.root()  # the copy did not share state


def test_frontier_refuses_wrong_node_count() -> None:
    with pytest.raises(ProofError):
        Frontier(3, [b"\x00" * 32])


# --- larger trees: a shared tree, and its prefixes ----------------------------------------------

BIG = 3000
BIG_LEAVES = [b"big-%d" % i for i in range(BIG)]
BIG_TREE = build(BIG_LEAVES)

PROPS = settings(max_examples=60, deadline=None)


@st.composite
def size_and_index(draw: st.DrawFn, max_size: int = BIG) -> tuple[int, int]:
    n = draw(st.integers(1, max_size))
    return n, draw(st.integers(0, n - 1))


@st.composite
def two_sizes(draw: st.DrawFn, max_size: int = BIG) -> tuple[int, int]:
    n = draw(st.integers(1, max_size))
    return draw(st.integers(0, n)), n


@settings(max_examples=25, deadline=None)
@given(st.integers(0, BIG), st.data())
def test_large_trees_match_reference(n: int, data: st.DataObject) -> None:
    d = BIG_LEAVES[:n]
    assert BIG_TREE.root(n) == ref_mth(d)
    if n:
        i = data.draw(st.integers(0, n - 1), label="index")
        assert BIG_TREE.inclusion_proof(i, n) == ref_path(i, d)
        m = data.draw(st.integers(1, n), label="old")
        assert BIG_TREE.consistency_proof(m, n) == (ref_proof(m, d) if m < n else [])


@settings(max_examples=10, deadline=None)
@given(size_and_index(max_size=2000))
def test_fresh_tree_of_exact_size_matches_reference(ni: tuple[int, int]) -> None:
    n, i = ni
    d = BIG_LEAVES[:n]
    tree = build(d)
    assert tree.root() == BIG_TREE.root(n) == ref_mth(d)
    assert tree.inclusion_proof(i) == ref_path(i, d)


@PROPS
@given(size_and_index())
def test_inclusion_proofs_verify(ni: tuple[int, int]) -> None:
    n, i = ni
    verify_inclusion(i, n, leaf_hash(BIG_LEAVES[i]), BIG_TREE.inclusion_proof(i, n), BIG_TREE.root(n))


@st.composite
def size_and_batch(draw: st.DrawFn) -> tuple[int, list[int]]:
    """A tree size and the indices of some leaves in it: a run at the end (an appended batch, as
    the log plans receipts) or any scattered set, duplicates and disorder included."""
    n = draw(st.integers(1, BIG))
    if draw(st.booleans()):
        first = draw(st.integers(0, n - 1))
        return n, list(range(first, n))
    return n, draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=40))


def _frontier_nodes(n: int) -> list[bytes]:
    f = Frontier()
    for leaf in BIG_LEAVES[:n]:
        f.append(leaf_hash(leaf))
    return f.nodes


@PROPS
@given(size_and_batch())
def test_batched_paths_equal_one_at_a_time(nb: tuple[int, list[int]]) -> None:
    """The log's receipts come from the batched planner; each must be exactly the RFC path."""
    n, batch = nb
    plan = inclusion_paths(batch, n)
    for i in batch:  # the plan, read per leaf, is inclusion_path's answer
        assert [here[i >> level] for level, here in enumerate(plan) if here[i >> level] is not None] \
            == inclusion_path(i, n)
    edge = edge_hashes(n, _frontier_nodes(n))
    proofs = resolve_paths(batch, plan, lambda key: BIG_TREE.levels[key[0]][key[1]], edge)
    assert set(proofs) == set(batch)
    root = BIG_TREE.root(n)
    for i in batch:
        assert list(proofs[i]) == ref_path(i, BIG_LEAVES[:n])
        verify_inclusion(i, n, leaf_hash(BIG_LEAVES[i]), proofs[i], root)


def test_batched_paths_refuse_leaves_outside_the_tree() -> None:
    for batch, n in (([5], 5), ([-1], 5), ([0], 0), ([0, 9], 9)):
        with pytest.raises(ProofError):
            inclusion_paths(batch, n)
    assert inclusion_paths([0], 1) == []  # a one-leaf tree: every path is empty
    assert resolve_paths([0], [], lambda key: b"", {}) == {0: ()}
    assert EDGE < 0  # edge markers never collide with a level


@PROPS
@given(two_sizes())
def test_consistency_proofs_verify(mn: tuple[int, int]) -> None:
    m, n = mn
    verify_consistency(m, n, BIG_TREE.root(m), BIG_TREE.root(n), BIG_TREE.consistency_proof(m, n))


def _flip(b: bytes, bit: int) -> bytes:
    out = bytearray(b)
    out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


@PROPS
@given(size_and_index(), st.sampled_from(["proof", "leaf", "root"]), st.integers(0, 255),
       st.integers(min_value=0))
def test_inclusion_bit_flip_fails(ni: tuple[int, int], target: str, bit: int, which: int) -> None:
    n, i = ni
    proof, lh, root = BIG_TREE.inclusion_proof(i, n), leaf_hash(BIG_LEAVES[i]), BIG_TREE.root(n)
    if target == "proof":
        assume(proof)
        j = which % len(proof)
        proof[j] = _flip(proof[j], bit)
    elif target == "leaf":
        lh = _flip(lh, bit)
    else:
        root = _flip(root, bit)
    with pytest.raises(ProofError):
        verify_inclusion(i, n, lh, proof, root)


@PROPS
@given(size_and_index(), st.integers(min_value=0))
def test_inclusion_wrong_index_fails(ni: tuple[int, int], other: int) -> None:
    n, i = ni
    assume(n > 1)
    j = (i + 1 + other % (n - 1)) % n
    assert j != i
    with pytest.raises(ProofError):
        verify_inclusion(j, n, leaf_hash(BIG_LEAVES[i]), BIG_TREE.inclusion_proof(i, n), BIG_TREE.root(n))


@PROPS
@given(size_and_index(), st.sampled_from(["drop-last", "drop-first", "append", "prepend"]),
       st.binary(min_size=32, max_size=32))
def test_inclusion_truncated_or_extended_fails(ni: tuple[int, int], how: str, extra: bytes) -> None:
    n, i = ni
    proof = BIG_TREE.inclusion_proof(i, n)
    if how.startswith("drop"):
        assume(proof)
        proof = proof[:-1] if how == "drop-last" else proof[1:]
    elif how == "append":
        proof = [*proof, extra]
    else:
        proof = [extra, *proof]
    with pytest.raises(ProofError):
        verify_inclusion(i, n, leaf_hash(BIG_LEAVES[i]), proof, BIG_TREE.root(n))


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (6, 5), (0, 0)])
def test_inclusion_index_out_of_range(index: int, size: int) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf_hash(b"x"), [], EMPTY_ROOT)


def test_inclusion_refuses_non_hash_elements(vector_tree: MemoryTree) -> None:
    proof = vector_tree.inclusion_proof(5, 8)
    proof[1] = proof[1][:31]
    with pytest.raises(ProofError, match="32-byte"):
        verify_inclusion(5, 8, leaf_hash(VECTOR_LEAVES[5]), proof, VECTOR_ROOTS[7])


def test_single_leaf_tree() -> None:
    verify_inclusion(0, 1, leaf_hash(b"only"), [], leaf_hash(b"only"))
    with pytest.raises(ProofError):
        verify_inclusion(0, 1, leaf_hash(b"only"), [leaf_hash(b"x")], leaf_hash(b"only"))


@PROPS
@given(two_sizes(), st.sampled_from(["proof", "old", "new"]), st.integers(0, 255), st.integers(min_value=0))
def test_consistency_bit_flip_fails(mn: tuple[int, int], target: str, bit: int, which: int) -> None:
    m, n = mn
    assume(m > 0)
    proof, old, new = BIG_TREE.consistency_proof(m, n), BIG_TREE.root(m), BIG_TREE.root(n)
    if target == "proof":
        assume(proof)
        j = which % len(proof)
        proof[j] = _flip(proof[j], bit)
    elif target == "old":
        old = _flip(old, bit)
    else:
        new = _flip(new, bit)
    with pytest.raises(ProofError):
        verify_consistency(m, n, old, new, proof)


@PROPS
@given(two_sizes(), st.sampled_from(["drop-last", "drop-first", "append", "prepend"]),
       st.binary(min_size=32, max_size=32))
def test_consistency_truncated_or_extended_fails(mn: tuple[int, int], how: str, extra: bytes) -> None:
    m, n = mn
    assume(m > 0)
    proof = BIG_TREE.consistency_proof(m, n)
    if how.startswith("drop"):
        assume(proof)
        proof = proof[:-1] if how == "drop-last" else proof[1:]
    elif how == "append":
        proof = [*proof, extra]
    else:
        proof = [extra, *proof]
    with pytest.raises(ProofError):
        verify_consistency(m, n, BIG_TREE.root(m), BIG_TREE.root(n), proof)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 600), st.data())
def test_consistency_with_forked_history_fails(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(1, n), label="old size")
    j = data.draw(st.integers(0, m - 1), label="rewritten leaf")
    honest = BIG_LEAVES[:n]
    forked = list(honest)
    forked[j] = b"rewritten"
    fork_tree = build(forked)
    assert fork_tree.root(m) != BIG_TREE.root(m)
    # The fork's old checkpoint against the honest new one, with either tree's proof.
    for proof in (BIG_TREE.consistency_proof(m, n), fork_tree.consistency_proof(m, n)):
        with pytest.raises(ProofError):
            verify_consistency(m, n, fork_tree.root(m), BIG_TREE.root(n), proof)
        with pytest.raises(ProofError):
            verify_consistency(m, n, BIG_TREE.root(m), fork_tree.root(n), proof)


@PROPS
@given(two_sizes())
def test_rollback_fails(mn: tuple[int, int]) -> None:
    m, n = mn
    assume(m < n)
    with pytest.raises(ProofError, match="rollback"):
        verify_consistency(n, m, BIG_TREE.root(n), BIG_TREE.root(m), BIG_TREE.consistency_proof(m, n))
    with pytest.raises(ProofError):
        BIG_TREE.consistency_proof(n, m)


def test_consistency_edge_cases() -> None:
    r3, r5 = BIG_TREE.root(3), BIG_TREE.root(5)
    verify_consistency(5, 5, r5, r5, [])
    verify_consistency(0, 5, EMPTY_ROOT, r5, [])
    with pytest.raises(ProofError, match="fork"):
        verify_consistency(5, 5, r5, r3, [])
    with pytest.raises(ProofError):
        verify_consistency(5, 5, r5, r5, [r3])
    with pytest.raises(ProofError):
        verify_consistency(0, 5, EMPTY_ROOT, r5, [r3])
    with pytest.raises(ProofError, match="empty"):
        verify_consistency(3, 5, r3, r5, [])
    proof = BIG_TREE.consistency_proof(3, 5)
    with pytest.raises(ProofError, match="32-byte"):
        verify_consistency(3, 5, r3, r5, [*proof[:-1], proof[-1] + b"\x00"])


def test_memory_tree_refuses_out_of_range_requests() -> None:
    tree = build(VECTOR_LEAVES)
    with pytest.raises(ProofError):
        tree.inclusion_proof(8)
    with pytest.raises(ProofError):
        tree.inclusion_proof(0, 9)
    with pytest.raises(ProofError):
        tree.inclusion_proof(0, 0)
    with pytest.raises(ProofError):
        tree.consistency_proof(2, 9)
    with pytest.raises(ProofError):
        tree.consistency_proof(-1, 4)


def test_proofs_at_old_sizes_survive_growth() -> None:
    """Proofs for an old size do not change as the tree grows (edge caches are per size)."""
    tree = build(VECTOR_LEAVES[:5])
    before = [tree.inclusion_proof(i, 5) for i in range(5)]
    for leaf in VECTOR_LEAVES[5:]:
        tree.append_leaf(leaf)
    assert [tree.inclusion_proof(i, 5) for i in range(5)] == before
    assert tree.inclusion_proof(5, 8) == INCLUSION_5_OF_8
