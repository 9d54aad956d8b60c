"""Salted Merkle commitments to declarations: commit to every record, open any one of them alone.

A declaration is a party's inventory at a date, record by record. The party signs only a
`Commitment` (the root of a Merkle tree over its salted records, and their number) next to its
aggregate figures; treaty partners receive every record with its salt and check that they rebuild
the signed root (`verify_full`); an inspector or auditor is shown one record at a time (an
`Opening`: the record, its salt, its position and an inclusion proof) and checks it against the
signed root (`verify_opening`) without learning anything about the records left closed.

Leaf i is ``b"detente-commit/v1\\x00" ‖ salt_i ‖ JCS(record_i)``, salt_i 32 random bytes and JCS
RFC 8785; the tree is RFC 9162's over those leaves, so the leaf and node hashes and the inclusion
verifier are the log's own (`detente.log.merkle`). Records sit in the tree in ascending order of
their salts, a uniformly random order that says nothing about their content. docs/commitments.md
gives the reasons for each choice (salts, order, the revealed size) and the exact formats.

Only the builder is written for speed (a 100,000-record declaration commits in about 0.2 s); the
verifiers are the straightforward RFC code and share none of the builder's shortcuts.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise, repeat
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from detente.codec import b64, unb64
from detente.envelope.canonical import canonicalize
from detente.errors import CanonicalizationError, ProofError
from detente.log.merkle import EMPTY_ROOT, HASH_SIZE, inclusion_path, leaf_hash, verify_inclusion

__all__ = ["SCHEME", "Commitment", "CommittedDeclaration", "Opening", "verify_full", "verify_opening"]

SCHEME = "detente-commit/v1"
#: Every leaf starts with this: a commitment leaf can never be mistaken for another kind of leaf
#: (log leaves are JSON and start with "{"), and a v2 encoding will not collide with v1.
LEAF_PREFIX = SCHEME.encode("ascii") + b"\x00"
SALT_SIZE = 32
#: Sizes and indices travel as JSON numbers; RFC 8785 represents integers exactly only up to this.
MAX_RECORDS = 2**53 - 1

# --- canonical record bytes, many at once ---------------------------------------------------------

# orjson's sorted-key output is RFC 8785 for dicts (str keys), lists, tuples, str (BMP), int within
# ±(2^53−1), bool and None; detente.envelope.canonical holds the two equal under test. STRICT_INTEGER
# makes orjson refuse larger integers; the PASSTHROUGH options and a `default` that refuses send
# datetimes, dataclasses and subclasses of str/int/dict/list to the exact path instead.
_ORJSON_OPT = (
    orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
)
# Records are encoded, scanned and hashed a chunk at a time: numpy's temporaries and the encodings
# stay in cache, and each chunk's encodings are kept as one bytes object. (Keeping 100,000 orjson
# outputs separately costs a 4 KiB page each: orjson allocates that much per call and the shrunk
# blocks leave the heap fragmented, 400 MB and 100,000 page faults for a 20 MB declaration.)
_CHUNK = 1024
_DIGIT0, _DOT, _LOWER_E, _LOWER_L, _UTF8_LEAD4, _NEWLINE = (
    np.uint8(c) for c in (0x30, 0x2E, 0x65, 0x6C, 0xF0, 0x0A))


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not a JSON type")


def _encode(records: Sequence[Any], first: int) -> tuple[list[bytes], bytes]:
    """RFC 8785 bytes of each record in a slice (`first` is the index of its first record, for
    error messages), and all of them one per line: exactly `canonicalize(record)`, or its error.

    One orjson call per record, then one vectorised scan of the output for the few things orjson
    writes differently from RFC 8785: a float (every finite float orjson prints has a '.' or an
    exponent right after a digit, and NaN and ±Infinity come out as `null`) and a character outside
    the Basic Multilingual Plane (a 4-byte UTF-8 sequence, lead byte ≥ 0xF0). Records the scan
    flags, and any orjson refuses, are re-encoded by `canonicalize`, which is exact. The scan errs
    only towards flagging: "1e" or "ll" inside a string sends that record down the exact path.
    """
    if set(map(type, records)) <= {dict}:
        try:
            parts = list(map(orjson.dumps, records, repeat(_refuse), repeat(_ORJSON_OPT)))
        except TypeError:  # orjson.JSONEncodeError included
            parts = list(map(_canonical_each, records, range(first, first + len(records))))
    else:
        parts = list(map(_canonical_each, records, range(first, first + len(records))))
    joined = b"\n".join(parts)
    suspects = _suspects(joined)
    if suspects:
        for i in suspects:
            parts[i] = _canonical_one(records[i], first + i)
        joined = b"\n".join(parts)
    return parts, joined


def _suspects(joined: bytes) -> list[int]:
    """Indices of the encodings in `joined` (one per line) that may hold a float or a character
    outside the BMP. A newline is never part of RFC 8785 output, nor of orjson's."""
    a = np.frombuffer(joined, dtype=np.uint8)
    head, nxt = a[:-1], a[1:]
    flag = ((head - _DIGIT0) < 10) & ((nxt == _DOT) | (nxt == _LOWER_E))  # digit then '.' or 'e'
    flag |= (head == _LOWER_L) & (nxt == _LOWER_L)  # the "ll" of null: NaN and ±Infinity
    flag |= head >= _UTF8_LEAD4
    if not flag.any():
        return []
    found: list[int] = np.unique(np.searchsorted(_line_ends(joined), np.flatnonzero(flag))).tolist()
    return found


def _line_ends(joined: bytes) -> npt.NDArray[np.intp]:
    """Where each line of `joined` ends (its newline, or the end of `joined` for the last)."""
    newlines = np.flatnonzero(np.frombuffer(joined, dtype=np.uint8) == _NEWLINE)
    return np.append(newlines, len(joined))


def _canonical_records(records: Sequence[Any]) -> list[bytes]:
    """RFC 8785 bytes of every record (the encoder `_commit` runs, a chunk at a time)."""
    out: list[bytes] = []
    for first in range(0, len(records), _CHUNK):
        out += _encode(records[first : first + _CHUNK], first)[0]
    return out


def _canonical_each(record: Any, index: int) -> bytes:
    if type(record) is dict:
        try:
            return orjson.dumps(record, _refuse, _ORJSON_OPT)
        except TypeError:
            pass
    return _canonical_one(record, index)


def _canonical_one(record: Any, index: int) -> bytes:
    if not isinstance(record, Mapping):
        raise CanonicalizationError(
            f"record {index} is a {type(record).__name__}, not a JSON object; each record must be "
            "a mapping of field names to JSON values"
        )
    try:
        return canonicalize(dict(record))
    except CanonicalizationError as exc:
        raise CanonicalizationError(f"record {index}: {exc.message}") from exc


# --- the tree ----------------------------------------------------------------------------------------

_HASH = type(hashlib.sha256())
# Copying a hash object that has already absorbed the prefix costs less than building a new one
# (OpenSSL's per-object set-up, not the compression, dominates short messages), and feeding the
# parts with update() never allocates the concatenated message.
_LEAF_STATE = hashlib.sha256(b"\x00" + LEAF_PREFIX)
_NODE_STATE = hashlib.sha256(b"\x01")


def _leaf_hashes(salts: bytes, canon: Iterable[bytes]) -> bytes:
    """RFC 9162 leaf hashes of LEAF_PREFIX ‖ salt ‖ canon, concatenated; salts 32 bytes each."""
    copy, update, digest = _HASH.copy, _HASH.update, _HASH.digest
    out: list[bytes] = []
    append = out.append
    # strict=False: the copies never run out; salts and canon are equally long by construction.
    fresh = map(copy, repeat(_LEAF_STATE))
    for h, (salt,), c in zip(fresh, struct.iter_unpack("32s", salts), canon, strict=False):
        update(h, salt)
        update(h, c)
        append(digest(h))
    return b"".join(out)


def _commit(records: Sequence[Any], salts: bytes) -> tuple[bytes, bytes]:
    """Encode and hash every record, in the caller's order: the encodings one per line, and the
    leaf hashes concatenated."""
    blobs: list[bytes] = []
    hashes: list[bytes] = []
    for first in range(0, len(records), _CHUNK):
        parts, joined = _encode(records[first : first + _CHUNK], first)
        hashes.append(_leaf_hashes(salts[SALT_SIZE * first : SALT_SIZE * (first + len(parts))], parts))
        blobs.append(joined)
    return b"\n".join(blobs), b"".join(hashes)


def _levels(leaf_hashes: bytes) -> list[bytes]:
    """Every level of the RFC 9162 tree, bottom-up, each as its 32-byte hashes concatenated; the
    last holds the root.

    Node j of level l is the hash of leaves [j·2^l, min((j+1)·2^l, n)). Pairing neighbours and
    carrying an unpaired last node up unchanged builds exactly RFC 9162's tree: its split of n
    leaves at the largest power of two below n puts the same leaves under every node. The tests
    hold the root and every path equal to detente.log.merkle's. A level read as 64-byte pairs
    feeds each node hash in one update, from memory read in order.
    """
    copy, update, digest = _HASH.copy, _HASH.update, _HASH.digest
    levels = [leaf_hashes]
    level = leaf_hashes
    while len(level) > HASH_SIZE:
        pairs = len(level) // (2 * HASH_SIZE)
        up: list[bytes] = []
        append = up.append
        fresh = map(copy, repeat(_NODE_STATE))
        for h, (pair,) in zip(fresh, struct.iter_unpack("64s", level[: 2 * HASH_SIZE * pairs]), strict=False):
            update(h, pair)
            append(digest(h))
        if len(level) // HASH_SIZE & 1:
            append(level[-HASH_SIZE:])
        level = b"".join(up)
        levels.append(level)
    return levels


def _path(levels: list[bytes], index: int) -> tuple[bytes, ...]:
    """RFC 9162 PATH(index): the sibling at each level, where there is one (else RFC 9162 promotes
    the node and the path skips that level, as detente.log.merkle.inclusion_path does)."""
    out = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level) // HASH_SIZE:
            out.append(level[HASH_SIZE * sibling : HASH_SIZE * (sibling + 1)])
        index >>= 1
    return tuple(out)


def _salt_order(salts: bytes) -> npt.NDArray[np.intp]:
    """Positions of the salts in ascending order: order[i] is the record committed at leaf i."""
    n = len(salts) // SALT_SIZE
    if n < 2:
        return np.arange(n, dtype=np.intp)
    # The first 8 bytes of each salt as a big-endian integer sort exactly as the bytes do, unless
    # two salts share them (chance about n²/2^65); then sort on whole salts.
    keys = np.frombuffer(salts, dtype=">u8")[:: SALT_SIZE // 8].astype(np.uint64)  # native order sorts faster
    order = np.argsort(keys)
    ranked = keys[order]
    if bool((ranked[1:] > ranked[:-1]).all()):
        return order
    whole = [salts[i : i + SALT_SIZE] for i in range(0, len(salts), SALT_SIZE)]
    result = sorted(range(n), key=whole.__getitem__)
    if any(whole[a] == whole[b] for a, b in pairwise(result)):
        raise ProofError("the system random source returned the same 32-byte salt twice; do not "
                         "commit on this machine until its random number generator is fixed")
    return np.array(result, dtype=np.intp)


def _permute(hashes: bytes, order: npt.NDArray[np.intp]) -> bytes:
    """The 32-byte hashes in `hashes` rearranged so that the i-th is the order[i]-th."""
    rows = np.frombuffer(hashes, dtype=np.uint8).reshape(-1, HASH_SIZE)
    return rows[order].tobytes()


# --- plain data: what is signed, what is shown ------------------------------------------------------


@dataclass(frozen=True)
class Commitment:
    """What the declaring party signs with its aggregates: the root and the number of records.

    The size is public on purpose: verification needs it, and every opening's proof length reveals
    its order of magnitude anyway (docs/commitments.md, "The size is public; no padding").
    """

    root: bytes
    size: int

    def __post_init__(self) -> None:
        if type(self.size) is not int or not 0 <= self.size <= MAX_RECORDS:
            raise ProofError(f"commitment size must be an integer from 0 to 2^53−1, got {self.size!r}")
        if type(self.root) is not bytes or len(self.root) != HASH_SIZE:
            raise ProofError("commitment root must be a 32-byte SHA-256 hash")
        if self.size == 0 and self.root != EMPTY_ROOT:
            raise ProofError("a commitment to no records must have the empty tree's root, "
                             "SHA-256 of the empty string")

    def to_json(self) -> dict[str, Any]:
        return {"scheme": SCHEME, "size": self.size, "root": b64(self.root)}

    @classmethod
    def from_json(cls, data: Any) -> Commitment:
        fields = _fields(data, ("scheme", "size", "root"), "commitment")
        size = fields["size"]
        if type(size) is not int:
            raise ProofError(f"commitment size must be an integer, got {size!r}")
        return cls(_hash_field(fields["root"], "commitment root"), size)


@dataclass(frozen=True)
class Opening:
    """One record disclosed with what proves it was committed: its salt, leaf index and the RFC 9162
    inclusion path from its leaf to the root of a tree of `size` leaves.

    Holds no secret of any other record: each hash on the path covers salted records only.
    """

    index: int
    size: int
    record: dict[str, Any]
    salt: bytes
    path: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "scheme": SCHEME,
            "index": self.index,
            "size": self.size,
            "record": self.record,
            "salt": b64(self.salt),
            "path": [b64(p) for p in self.path],
        }

    @classmethod
    def from_json(cls, data: Any) -> Opening:
        """Parse strictly: exactly the six fields, integers that are integers, a 32-byte salt and
        a path of 32-byte hashes exactly as long as RFC 9162 makes it for (index, size)."""
        fields = _fields(data, ("scheme", "index", "size", "record", "salt", "path"), "opening")
        index, size, record, path = fields["index"], fields["size"], fields["record"], fields["path"]
        if type(size) is not int or not 1 <= size <= MAX_RECORDS:
            raise ProofError(f"opening size must be an integer from 1 to 2^53−1, got {size!r}")
        if type(index) is not int or not 0 <= index < size:
            raise ProofError(f"opening index must be an integer from 0 to {size - 1}, got {index!r}")
        if type(record) is not dict:
            raise ProofError("opening record must be a JSON object")
        salt = _bytes_field(fields["salt"], SALT_SIZE, "opening salt")
        if type(path) is not list:
            raise ProofError("opening path must be a list of base64 hashes")
        expected = len(inclusion_path(index, size))
        if len(path) != expected:
            raise ProofError(f"opening path for leaf {index} of {size} must hold {expected} hashes, "
                             f"not {len(path)}")
        return cls(index, size, record, salt, tuple(_hash_field(p, "opening path hash") for p in path))


def verify_opening(commitment: Commitment, opening: Opening) -> dict[str, Any]:
    """Return the opened record if `opening` proves it was committed under `commitment`.

    The record returned is decoded afresh from the bytes that were hashed, so it is exactly the
    committed value whatever the caller does with `opening` afterwards. Raises ProofError naming
    what does not match.
    """
    if opening.size != commitment.size:
        raise ProofError(
            f"the opening is for a declaration of {opening.size} records but the commitment is to "
            f"{commitment.size}: it belongs to another declaration"
        )
    if type(opening.salt) is not bytes or len(opening.salt) != SALT_SIZE:
        raise ProofError("opening salt must be exactly 32 bytes")
    if type(opening.index) is not int:
        raise ProofError(f"opening index must be an integer, got {opening.index!r}")
    if type(opening.record) is not dict:
        raise ProofError("opening record must be a JSON object")
    if any(type(p) is not bytes for p in opening.path):
        raise ProofError("opening path must hold 32-byte hashes as bytes")
    try:
        canon = canonicalize(opening.record)
    except CanonicalizationError as exc:
        raise ProofError(f"the opened record cannot be what was committed: {exc.message}") from exc
    leaf = leaf_hash(LEAF_PREFIX + opening.salt + canon)
    try:
        verify_inclusion(opening.index, commitment.size, leaf, opening.path, commitment.root)
    except ProofError as exc:
        raise ProofError(
            f"opening of record {opening.index} does not match the commitment ({exc.message}): the "
            "record, its salt, its index or the proof differs from what was committed, or it was "
            "committed in another declaration"
        ) from exc
    value: dict[str, Any] = orjson.loads(canon)
    return value


# --- the declaring party's side -----------------------------------------------------------------------


_CONSTRUCT = object()


class CommittedDeclaration:
    """Every record with its salt, in committed order, and the tree over them.

    This is the declaring party's private material: `to_json` is the file it keeps and sends in
    full to treaty partners. The salts are what keep unopened records secret; whoever holds this
    file can read every record. Nothing here does I/O.
    """

    __slots__ = ("_canon", "_ends", "_levels", "_order", "_salts", "commitment")

    def __init__(
        self, token: object, records: Sequence[Any], salts: bytes, order: npt.NDArray[np.intp] | None
    ) -> None:
        if token is not _CONSTRUCT:
            raise TypeError("make a CommittedDeclaration with build() or from_json()")
        # Record j (the caller's order) is line j of self._canon with salt salts[32j:32j + 32];
        # order[i] is the record at leaf i. Records are encoded and hashed in the caller's order
        # (touching 100,000 dicts in random order costs more in cache misses than everything
        # else); only the leaf hashes are permuted into committed order.
        self._canon, hashes = _commit(records, salts)
        self._ends: npt.NDArray[np.intp] | None = None  # found when first needed
        self._salts = salts
        self._order = _salt_order(salts) if order is None else order
        self._levels = _levels(_permute(hashes, self._order))
        self.commitment = Commitment(self._levels[-1] if hashes else EMPTY_ROOT, len(self._order))

    @classmethod
    def build(cls, records: Sequence[Mapping[str, Any]]) -> CommittedDeclaration:
        """Commit to `records` with a fresh random salt for each.

        Raises CanonicalizationError naming the first record that is not JSON RFC 8785 can encode.
        """
        if len(records) > MAX_RECORDS:
            raise CanonicalizationError(f"a declaration holds at most 2^53−1 records, not {len(records)}")
        if not isinstance(records, list | tuple):
            records = list(records)
        # One read of the kernel's CSPRNG, sliced: its output is uniform and independent bit by
        # bit, so 32-byte slices are independent uniform salts, and n reads would add only syscalls.
        return cls(_CONSTRUCT, records, os.urandom(SALT_SIZE * len(records)), None)

    def __len__(self) -> int:
        return len(self._order)

    def _salt(self, j: int) -> bytes:
        return self._salts[SALT_SIZE * j : SALT_SIZE * (j + 1)]

    def _record(self, j: int) -> dict[str, Any]:
        if self._ends is None:
            self._ends = _line_ends(self._canon)
        start = int(self._ends[j - 1]) + 1 if j else 0
        value: dict[str, Any] = orjson.loads(self._canon[start : int(self._ends[j])])
        return value

    def open(self, index: int) -> Opening:
        """The opening of the record at leaf `index` (0 ≤ index < len(self))."""
        if type(index) is not int or not 0 <= index < len(self):
            raise ProofError(f"no record at index {index!r}: the declaration has {len(self)}")
        j = int(self._order[index])
        return Opening(index, len(self), self._record(j), self._salt(j), _path(self._levels, index))

    def open_where(self, predicate: Callable[[dict[str, Any]], bool]) -> list[Opening]:
        """Openings of every record `predicate` accepts (say, all records at one site), by index."""
        return [self.open(i) for i, record in enumerate(self.records()) if predicate(record)]

    def records(self) -> list[dict[str, Any]]:
        """Every record, in committed (leaf) order, decoded afresh."""
        return [self._record(j) for j in self._order.tolist()]

    def to_json(self) -> dict[str, Any]:
        return {
            "scheme": SCHEME,
            "records": [
                {"salt": b64(self._salt(j)), "record": self._record(j)} for j in self._order.tolist()
            ],
        }

    @classmethod
    def from_json(cls, data: Any) -> CommittedDeclaration:
        """Rebuild from the full file, strictly: records in committed order (salts strictly
        ascending, which also means no salt is used twice), each salt 32 bytes."""
        fields = _fields(data, ("scheme", "records"), "declaration")
        items = fields["records"]
        if type(items) is not list:
            raise ProofError("declaration records must be a list")
        records: list[Any] = []
        salts: list[bytes] = []
        for i, item in enumerate(items):
            entry = _fields(item, ("salt", "record"), f"declaration record {i}")
            if type(entry["record"]) is not dict:
                raise ProofError(f"declaration record {i} must be a JSON object")
            records.append(entry["record"])
            salts.append(_bytes_field(entry["salt"], SALT_SIZE, f"salt of declaration record {i}"))
        for i in range(1, len(salts)):
            if not salts[i - 1] < salts[i]:
                raise ProofError(
                    f"declaration record {i} is out of committed order (salts must strictly ascend): "
                    "records were reordered, or a salt was used twice"
                )
        try:
            return cls(_CONSTRUCT, records, b"".join(salts), np.arange(len(records), dtype=np.intp))
        except CanonicalizationError as exc:
            raise ProofError(f"declaration {exc.message}") from exc


def verify_full(commitment: Commitment, data: Any) -> CommittedDeclaration:
    """What a treaty partner runs on the full file it received: parse it strictly and check that its
    records and salts rebuild the signed `commitment`. Returns the declaration (its records are
    then exactly the committed ones); raises ProofError saying what does not match."""
    full = CommittedDeclaration.from_json(data)
    if len(full) != commitment.size:
        raise ProofError(
            f"the full declaration has {len(full)} records but the commitment is to "
            f"{commitment.size}: records were dropped or added"
        )
    if full.commitment.root != commitment.root:
        raise ProofError(
            "the full declaration does not rebuild the committed root: a record or a salt differs "
            "from what was committed, or records were exchanged with another declaration's"
        )
    return full


# --- strict parsing helpers ------------------------------------------------------------------------


def _fields(data: Any, names: tuple[str, ...], what: str) -> dict[str, Any]:
    if type(data) is not dict:
        raise ProofError(f"{what} must be a JSON object")
    missing = [n for n in names if n not in data]
    extra = sorted(set(data) - set(names))
    if missing or extra:
        raise ProofError(f"{what} must have exactly the fields {', '.join(names)}"
                         + (f"; missing {', '.join(missing)}" if missing else "")
                         + (f"; unexpected {', '.join(map(str, extra))}" if extra else ""))
    if "scheme" in data and data["scheme"] != SCHEME:
        raise ProofError(f"{what} is for scheme {data['scheme']!r}; this software verifies {SCHEME!r}")
    return data


def _bytes_field(value: Any, size: int, what: str) -> bytes:
    if type(value) is not str:
        raise ProofError(f"{what} must be a base64 string")
    try:
        raw = unb64(value, what=what)
    except ValueError as exc:
        raise ProofError(str(exc)) from exc
    if len(raw) != size:
        raise ProofError(f"{what} must be {size} bytes, got {len(raw)}")
    return raw


def _hash_field(value: Any, what: str) -> bytes:
    return _bytes_field(value, HASH_SIZE, what)
