"""Salted declaration commitments: openings verify, every alteration is caught, nothing leaks.

The tree is held equal to detente.log.merkle's (root and every path), the leaf to the documented
encoding, and the batch encoder to `canonicalize` record by record.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import math
import types
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from detente import commitment
from detente.codec import b64, unb64
from detente.commitment import (
    LEAF_PREFIX,
    SCHEME,
    Commitment,
    CommittedDeclaration,
    Opening,
    verify_full,
    verify_opening,
)
from detente.envelope.canonical import canonicalize
from detente.errors import CanonicalizationError, ProofError
from detente.log.merkle import EMPTY_ROOT, MemoryTree, leaf_hash, root_of

PROPS = settings(max_examples=40, deadline=None)
MAX_SAFE = 2**53 - 1

text = st.text(max_size=10)  # all of Unicode but surrogates: controls, BMP, non-BMP
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE, MAX_SAFE) | text
    | st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda f: not (f.is_integer() and MAX_SAFE < abs(f) < 1e21)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
json_records = st.dictionaries(text, json_values, max_size=5)
# What declarations hold: a site, a category, a count, attributes, sometimes identifiers.
inventory_records = st.fixed_dictionaries(
    {"site": st.sampled_from(["uzhur", "fe-warren-afb", "kings-bay", "engels"]),
     "category": st.sampled_from(["ICBM", "SLBM", "heavy bomber"]),
     "count": st.integers(0, 1000),
     "attributes": st.dictionaries(st.sampled_from(["deployed", "warheads", "system"]),
                                   st.booleans() | st.integers(0, 12) | text, max_size=3)},
    optional={"ids": st.lists(st.text(alphabet="0123456789ABC-", min_size=3, max_size=9), max_size=3)},
)
declarations = st.lists(inventory_records | json_records, min_size=1, max_size=40)


def site_records(n: int) -> list[dict[str, Any]]:
    return [{"site": f"site-{i % 3}", "category": "ICBM", "count": i, "attributes": {"deployed": i % 2 == 0}}
            for i in range(n)]


def leaves_of(decl: CommittedDeclaration) -> list[bytes]:
    """The documented leaf encoding, rebuilt from the holder's file, in committed order."""
    return [LEAF_PREFIX + unb64(e["salt"], what="salt") + canonicalize(e["record"])
            for e in decl.to_json()["records"]]


def wire(value: Any) -> Any:
    """Through real JSON bytes and back, as an opening travels."""
    return orjson.loads(orjson.dumps(value))


# --- the tree is RFC 9162's, the leaf is the documented encoding ----------------------------------


@pytest.mark.parametrize("n", [*range(1, 34), 63, 64, 65, 100])
def test_root_and_every_path_match_the_log_tree(n: int) -> None:
    decl = CommittedDeclaration.build(site_records(n))
    leaves = leaves_of(decl)
    tree = MemoryTree()
    for leaf in leaves:
        tree.append_leaf(leaf)
    assert decl.commitment == Commitment(tree.root(), n)
    assert decl.commitment.root == root_of(leaf_hash(leaf) for leaf in leaves)
    for i in range(n):
        assert list(decl.open(i).path) == tree.inclusion_proof(i)


def test_leaf_is_prefix_salt_and_canonical_record() -> None:
    decl = CommittedDeclaration.build([{"b": 1, "a": [True, None, "é"]}])
    opening = decl.open(0)
    expected = hashlib.sha256(b"\x00detente-commit/v1\x00" + opening.salt
                              + b'{"a":[true,null,"\xc3\xa9"],"b":1}').digest()
    assert decl.commitment.root == expected  # a one-leaf tree's root is its leaf hash


def test_records_sit_in_ascending_salt_order() -> None:
    decl = CommittedDeclaration.build(site_records(200))
    salts = [unb64(e["salt"], what="salt") for e in decl.to_json()["records"]]
    assert salts == sorted(salts)
    assert len(set(salts)) == 200
    # Declared order (count 0..199) is not what the tree shows: positions come from the salts.
    assert [r["count"] for r in decl.records()] != list(range(200))


def test_empty_declaration() -> None:
    decl = CommittedDeclaration.build([])
    assert decl.commitment == Commitment(EMPTY_ROOT, 0)
    assert verify_full(decl.commitment, wire(decl.to_json())).records() == []
    with pytest.raises(ProofError):
        decl.open(0)


# --- openings -----------------------------------------------------------------------------------


@PROPS
@given(declarations)
def test_every_opening_verifies_and_returns_the_committed_record(records: list[dict[str, Any]]) -> None:
    decl = CommittedDeclaration.build(records)
    commitment = Commitment.from_json(wire(decl.commitment.to_json()))
    expected = sorted(canonicalize(r) for r in records)
    opened = []
    for i in range(len(records)):
        opening = Opening.from_json(wire(decl.open(i).to_json()))
        opened.append(canonicalize(verify_opening(commitment, opening)))
    assert sorted(opened) == expected


def _flip(data: bytes, position: int) -> bytes:
    i = position % len(data)
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]


@PROPS
@given(st.lists(inventory_records, min_size=2, max_size=30), st.data())
def test_changing_any_part_of_an_opening_fails(records: list[dict[str, Any]], data: st.DataObject) -> None:
    decl = CommittedDeclaration.build(records)
    c = decl.commitment
    index = data.draw(st.integers(0, len(records) - 1))
    o = decl.open(index)
    assert verify_opening(c, o) == o.record

    salt = _flip(o.salt, data.draw(st.integers(0, 31)))
    step = data.draw(st.integers(0, len(o.path) - 1))
    path = list(o.path)
    path[step] = _flip(path[step], data.draw(st.integers(0, 31)))
    other = data.draw(st.integers(0, len(records) - 1).filter(lambda j: j != index))
    record = copy.deepcopy(o.record)
    record["count"] += data.draw(st.sampled_from([-1, 1, 1000]))
    extra = {**o.record, "note": ""}
    fewer = {k: v for k, v in o.record.items() if k != "attributes"}
    bad = [
        Opening(o.index, o.size, o.record, salt, o.path),
        Opening(o.index, o.size, o.record, o.salt, tuple(path)),
        Opening(other, o.size, o.record, o.salt, o.path),
        Opening(o.index, o.size, record, o.salt, o.path),
        Opening(o.index, o.size, extra, o.salt, o.path),
        Opening(o.index, o.size, fewer, o.salt, o.path),
        Opening(o.index, o.size, o.record, o.salt, o.path[:-1]),
        Opening(o.index, o.size, o.record, o.salt, (*o.path, o.path[-1])),
        Opening(o.index, o.size + 1, o.record, o.salt, o.path),
        Opening(o.index, o.size, o.record, o.salt + b"\x00", o.path),
        Opening(o.index, o.size, o.record, o.salt, tuple(p.hex() for p in o.path)),  # type: ignore[misc]
        Opening(o.index, o.size, list(o.record.items()), o.salt, o.path),  # type: ignore[arg-type]
    ]
    if o.index == 1:  # True == 1, but an index must be an integer, not a boolean
        bad.append(Opening(True, o.size, o.record, o.salt, o.path))
    for opening in bad:
        with pytest.raises(ProofError):
            verify_opening(c, opening)
    with pytest.raises(ProofError):
        verify_opening(Commitment(_flip(c.root, data.draw(st.integers(0, 31))), c.size), o)


@PROPS
@given(st.lists(inventory_records, min_size=1, max_size=20))
def test_an_opening_does_not_verify_against_another_commitment(records: list[dict[str, Any]]) -> None:
    first, second = CommittedDeclaration.build(records), CommittedDeclaration.build(records)
    # Same records, fresh salts: different roots, and no opening crosses over.
    assert first.commitment.root != second.commitment.root
    for i in range(len(records)):
        with pytest.raises(ProofError):
            verify_opening(second.commitment, first.open(i))


def test_opening_from_a_declaration_of_another_size_says_so() -> None:
    small, big = CommittedDeclaration.build(site_records(3)), CommittedDeclaration.build(site_records(4))
    with pytest.raises(ProofError, match="another declaration"):
        verify_opening(big.commitment, small.open(0))


def test_identical_records_get_unrelated_leaves() -> None:
    decl = CommittedDeclaration.build([{"site": "uzhur", "count": 150}] * 8)
    assert len({leaf_hash(leaf) for leaf in leaves_of(decl)}) == 8


def test_verified_record_is_a_fresh_copy_of_the_committed_value() -> None:
    decl = CommittedDeclaration.build([{"site": "uzhur", "attributes": {"warheads": 1}}])
    opening = decl.open(0)
    got = verify_opening(decl.commitment, opening)
    got["attributes"]["warheads"] = 10
    assert verify_opening(decl.commitment, opening)["attributes"]["warheads"] == 1
    opening.record["attributes"]["warheads"] = 10  # mutating the opening itself breaks it
    with pytest.raises(ProofError):
        verify_opening(decl.commitment, opening)
    assert decl.open(0).record["attributes"]["warheads"] == 1  # the holder's copy is untouched


def test_open_where_opens_every_matching_record() -> None:
    decl = CommittedDeclaration.build(site_records(30))
    openings = decl.open_where(lambda r: r["site"] == "site-1")
    assert [o.index for o in openings] == sorted(o.index for o in openings)
    assert sorted(verify_opening(decl.commitment, o)["count"] for o in openings) == list(range(1, 30, 3))


# --- hiding --------------------------------------------------------------------------------------


def test_unopened_low_entropy_records_cannot_be_guessed_from_an_opening() -> None:
    """The dictionary attack salts defeat: an inspector shown record 0 sees record 1's leaf hash
    (its sibling on the path) and knows record 1 is "uzhur, ICBM, some count"; trying every count,
    unsalted or with the salt it was shown, finds nothing."""
    secret = {"site": "uzhur", "category": "ICBM", "count": 150}
    decl = CommittedDeclaration.build([{"site": "kozelsk", "category": "ICBM", "count": 10}, secret])
    shown = next(o for o in map(decl.open, range(2)) if o.record != secret)
    sibling = shown.path[0]
    for count in range(1001):
        guess = canonicalize({**secret, "count": count})
        for salt in (b"", bytes(32), shown.salt):
            assert leaf_hash(LEAF_PREFIX + salt + guess) != sibling
            assert leaf_hash(guess) != sibling
    assert set(decl.commitment.to_json()) == {"scheme", "size", "root"}


# --- the full declaration ------------------------------------------------------------------------


@PROPS
@given(st.lists(inventory_records, min_size=2, max_size=25), st.data())
def test_full_verification_catches_any_change(records: list[dict[str, Any]], data: st.DataObject) -> None:
    decl = CommittedDeclaration.build(records)
    c = decl.commitment
    full = wire(decl.to_json())
    assert sorted(map(canonicalize, verify_full(c, full).records())) == sorted(map(canonicalize, records))
    n = len(records)
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(0, n - 1).filter(lambda k: k != i))
    entries = full["records"]

    def variant(new: list[dict[str, Any]]) -> dict[str, Any]:
        return {"scheme": SCHEME, "records": new}

    dropped = variant(entries[:i] + entries[i + 1 :])
    added = variant([*entries, entries[i]])
    swapped = list(entries)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    altered = copy.deepcopy(entries)
    altered[i]["record"]["count"] += 1
    resalted = copy.deepcopy(entries)
    salt = unb64(resalted[i]["salt"], what="salt")
    resalted[i]["salt"] = b64(salt[:-1] + bytes([salt[-1] ^ 1]))
    exchanged = copy.deepcopy(entries)
    exchanged[i]["record"], exchanged[j]["record"] = exchanged[j]["record"], exchanged[i]["record"]
    for bad, reason in [
        (dropped, "dropped or added"),
        (added, "dropped or added|out of committed order"),
        (variant(swapped), "out of committed order"),
        (variant(altered), "does not rebuild"),
        (variant(resalted), "does not rebuild|out of committed order"),
    ]:
        with pytest.raises(ProofError, match=reason):
            verify_full(c, bad)
    if canonicalize(entries[i]["record"]) != canonicalize(entries[j]["record"]):
        with pytest.raises(ProofError, match="does not rebuild"):
            verify_full(c, variant(exchanged))
    with pytest.raises(ProofError, match="does not rebuild"):
        verify_full(CommittedDeclaration.build(records).commitment, full)


def test_full_file_round_trips_and_keeps_openings() -> None:
    decl = CommittedDeclaration.build(site_records(50))
    again = CommittedDeclaration.from_json(wire(decl.to_json()))
    assert again.commitment == decl.commitment
    assert [again.open(i) for i in range(50)] == [decl.open(i) for i in range(50)]


def test_full_file_with_a_reused_salt_is_refused() -> None:
    full = CommittedDeclaration.build(site_records(3)).to_json()
    full["records"][1]["salt"] = full["records"][0]["salt"]
    with pytest.raises(ProofError, match="used twice"):
        CommittedDeclaration.from_json(full)


@pytest.mark.parametrize("mutate", [
    lambda f: f.pop("scheme"),
    lambda f: f.update(scheme="detente-commit/v2"),
    lambda f: f.update(extra=1),
    lambda f: f.update(records={}),
    lambda f: f["records"][0].update(salt=b64(bytes(31))),
    lambda f: f["records"][0].update(salt="not base64!"),
    lambda f: f["records"][0].update(record=[1]),
    lambda f: f["records"][0].update(note=""),
    lambda f: f["records"][0].update(record={"count": 2**60}),
])
def test_full_file_is_parsed_strictly(mutate: Any) -> None:
    full = CommittedDeclaration.build(site_records(3)).to_json()
    mutate(full)
    with pytest.raises(ProofError):
        CommittedDeclaration.from_json(full)


def test_declarations_are_made_only_by_build_or_from_json() -> None:
    with pytest.raises(TypeError):
        CommittedDeclaration(object(), [], b"", [])


# --- strict parsing of what travels ------------------------------------------------------------------


def _opening_json() -> dict[str, Any]:
    decl = CommittedDeclaration.build(site_records(5))
    data: dict[str, Any] = wire(decl.open(4).to_json())
    return data


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda o: o.pop("salt"), "missing salt"),
    (lambda o: o.update(proof=[]), "unexpected proof"),
    (lambda o: o.update(scheme="detente-commit/v0"), "scheme"),
    (lambda o: o.update(index=True), "index"),
    (lambda o: o.update(index=1.0), "index"),
    (lambda o: o.update(index=-1), "index"),
    (lambda o: o.update(index=5), "index"),
    (lambda o: o.update(size=0), "size"),
    (lambda o: o.update(size=2**53), "size"),
    (lambda o: o.update(size="5"), "size"),
    (lambda o: o.update(record=[]), "record"),
    (lambda o: o.update(record=None), "record"),
    (lambda o: o.update(salt=b64(bytes(33))), "33"),
    (lambda o: o.update(salt=b64(bytes(31))), "31"),
    (lambda o: o.update(salt="AAAA====" * 6), "base64"),
    (lambda o: o.update(salt=bytes(32).hex()), "base64|bytes"),
    (lambda o: o.update(salt=None), "base64"),
    (lambda o: o.update(path=o["path"][:-1]), "must hold"),
    (lambda o: o.update(path=[*o["path"], o["path"][0]]), "must hold"),
    (lambda o: o.update(path="AAAA"), "list"),
    (lambda o: o["path"].__setitem__(0, b64(bytes(31))), "32 bytes"),
    (lambda o: o["path"].__setitem__(0, 7), "base64"),
])
def test_opening_is_parsed_strictly(mutate: Any, reason: str) -> None:
    data = _opening_json()
    Opening.from_json(data)
    mutate(data)
    with pytest.raises(ProofError, match=reason):
        Opening.from_json(data)


@pytest.mark.parametrize("data", [
    None,
    {"scheme": SCHEME, "size": 1},
    {"scheme": SCHEME, "size": 1, "root": b64(bytes(32)), "extra": 0},
    {"scheme": "other", "size": 1, "root": b64(bytes(32))},
    {"scheme": SCHEME, "size": -1, "root": b64(bytes(32))},
    {"scheme": SCHEME, "size": True, "root": b64(bytes(32))},
    {"scheme": SCHEME, "size": 1, "root": b64(bytes(16))},
    {"scheme": SCHEME, "size": 0, "root": b64(bytes(32))},
])
def test_commitment_is_parsed_strictly(data: Any) -> None:
    with pytest.raises(ProofError):
        Commitment.from_json(data)


def test_commitment_round_trips() -> None:
    c = CommittedDeclaration.build(site_records(7)).commitment
    assert Commitment.from_json(wire(c.to_json())) == c
    assert Commitment.from_json(wire(Commitment(EMPTY_ROOT, 0).to_json())).size == 0


# --- the batch encoder is `canonicalize`, record by record ------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.lists(json_records, max_size=30))
@example([{"x": 1.0}, {"x": 1e22}, {"x": 1e-7}, {"x": 123456.789}, {"x": -0.0}, {"s": "ll 1e5 1.5 null"},
          {"s": "\U0001F600"}, {"\U0001F600": 1, "\uFFFF": 2}, {"n": None}, {"big": MAX_SAFE}, {"t": (1, 2)}])
def test_batch_encoding_equals_canonicalize(records: list[dict[str, Any]]) -> None:
    try:
        expected = [canonicalize(r) for r in records]
    except CanonicalizationError:
        with pytest.raises(CanonicalizationError):
            commitment._canonical_records(records)
        return
    assert commitment._canonical_records(records) == expected


@pytest.mark.parametrize("record", [
    {"x": math.nan}, {"x": math.inf}, {"x": [-math.inf]}, {"x": 2**53}, {"x": -(2**53)},
    {"x": 2**70}, {"x": datetime.date(2022, 3, 1)}, {1: "non-string key"}, {"x": {1, 2}}, {"x": b"bytes"},
    {"x": "\ud800"},
])
def test_batch_encoding_refuses_what_canonicalize_refuses(record: dict[Any, Any]) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize(record)
    with pytest.raises(CanonicalizationError, match="record 1"):
        CommittedDeclaration.build([{"ok": 1}, record])


@pytest.mark.parametrize("record", [[1, 2], "text", 7, None])
def test_records_must_be_objects(record: Any) -> None:
    with pytest.raises(CanonicalizationError, match="not a JSON object"):
        CommittedDeclaration.build([{"ok": 1}, record])


def test_any_mapping_is_a_record() -> None:
    decl = CommittedDeclaration.build([types.MappingProxyType({"site": "uzhur", "count": 3})])
    assert verify_opening(decl.commitment, decl.open(0)) == {"count": 3, "site": "uzhur"}


def test_records_with_floats_open_as_rfc8785_numbers() -> None:
    decl = CommittedDeclaration.build([{"yield_kt": 0.3, "count": 2.0}])
    assert verify_opening(decl.commitment, Opening.from_json(wire(decl.open(0).to_json()))) == \
        {"yield_kt": 0.3, "count": 2}


# --- salt order ----------------------------------------------------------------------------------


def test_salt_order_handles_shared_prefixes() -> None:
    prefix = bytes(8)
    salts = [prefix + bytes([b]) * 24 for b in (9, 3, 7, 1)] + [b"\x01" * 32]
    order = commitment._salt_order(b"".join(salts))
    assert [salts[i] for i in order] == sorted(salts)


def test_salt_order_refuses_a_repeated_salt() -> None:
    with pytest.raises(ProofError, match="same 32-byte salt"):
        commitment._salt_order(b"\x05" * 32 * 2)
