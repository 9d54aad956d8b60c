"""Appending through the transparency log: receipts, checkpoints, inclusion and consistency
proofs, several writers on one database, and the door's refusals (which leave the log as it was)."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from itertools import pairwise

import pytest

from detente.envelope.dsse import MAX_ENVELOPE_BYTES
from detente.envelope.record import make_record
from detente.errors import DetenteError, NoteError, ProofError, RecordRefused
from detente.log.admission import Policy
from detente.log.bundle import verify_store
from detente.log.merkle import leaf_hash, root_of, verify_consistency, verify_inclusion
from detente.log.note import NoteVerifier, SignedCheckpoint
from detente.log.receipt import Receipt, verify_receipt

from .conftest import FIXED_NOW, LogEnv

BATCH_SIZES = (1, 2, 3, 1, 5, 8, 1, 4, 7)  # 32 leaves, batches straddling every power of two


def _append_batches(env: LogEnv, sizes: tuple[int, ...] = BATCH_SIZES) -> tuple[list[Receipt], list[bytes]]:
    log = env.log()
    receipts: list[Receipt] = []
    leaves: list[bytes] = []
    for n in sizes:
        raws = env.records(n)
        results = log.append_batch(raws)
        assert all(isinstance(r, Receipt) for r in results), results
        receipts += results  # type: ignore[arg-type]
        leaves += raws
    return receipts, leaves


# -- receipts, checkpoints, proofs ---------------------------------------------------------------


def test_receipts_verify_against_operator_key(env: LogEnv) -> None:
    receipts, leaves = _append_batches(env)
    assert [r.index for r in receipts] == list(range(len(leaves)))
    log = env.log()
    for r, leaf in zip(receipts, leaves, strict=True):
        scp = verify_receipt(r, leaf, env.operator, env.origin)
        # The receipt's checkpoint is the one the log stored for that batch.
        assert log.checkpoint_at(scp.checkpoint.size).encode() == r.checkpoint
        assert log.leaf(r.index) == leaf
        # Round trip through JSON, as an author would keep it.
        again = Receipt.from_json(json.loads(json.dumps(r.to_json())))
        assert again == r
        verify_receipt(again, leaf, env.operator, env.origin)


def test_receipt_does_not_verify_for_other_leaf_or_key(env: LogEnv) -> None:
    receipts, leaves = _append_batches(env, (3, 2))
    r = receipts[1]
    with pytest.raises(ProofError):
        verify_receipt(r, leaves[2], env.operator, env.origin)
    with pytest.raises(ProofError):
        verify_receipt(Receipt(2, r.checkpoint, r.proof), leaves[1], env.operator, env.origin)
    other = NoteVerifier(env.operator.name, env.keys["US"].public_key)
    with pytest.raises(NoteError):
        verify_receipt(r, leaves[1], other, env.origin)
    with pytest.raises(NoteError):
        verify_receipt(r, leaves[1], env.operator, "some.other/log")


def test_checkpoint_size_and_root_match_the_leaves(env: LogEnv) -> None:
    _, leaves = _append_batches(env)
    log = env.log()
    cp = log.latest().checkpoint
    assert cp.size == log.size() == len(leaves)
    assert cp.origin == env.origin
    assert cp.root == root_of(leaf_hash(x) for x in leaves)
    # Every historic checkpoint commits to the prefix it covers.
    sizes = [s for s, _ in log.store.checkpoints()]
    expected, total = [], 0
    for n in BATCH_SIZES:
        total += n
        expected.append(total)
    assert sizes == expected
    for s in sizes:
        assert log.checkpoint_at(s).checkpoint.root == root_of(leaf_hash(x) for x in leaves[:s])


def test_inclusion_proof_for_every_index_and_checkpoint(env: LogEnv) -> None:
    _, leaves = _append_batches(env)
    log = env.log()
    sizes = [s for s, _ in log.store.checkpoints()]
    for size in [None, *sizes]:
        n = len(leaves) if size is None else size
        for i in range(n):
            r = log.inclusion_proof(i, size)
            scp = verify_receipt(r, leaves[i], env.operator, env.origin)
            assert scp.checkpoint.size == n
            with pytest.raises(ProofError):
                verify_inclusion(i, n, leaf_hash(leaves[i] + b" "), r.proof, scp.checkpoint.root)
    with pytest.raises(ProofError):
        log.inclusion_proof(len(leaves))
    with pytest.raises(ProofError):
        log.inclusion_proof(0, 4)  # no checkpoint was signed at size 4


def test_consistency_proof_for_every_pair(env: LogEnv) -> None:
    _, leaves = _append_batches(env)
    log = env.log()
    n = len(leaves)
    roots = [root_of(leaf_hash(x) for x in leaves[:k]) for k in range(n + 1)]
    for new in range(n + 1):
        for old in range(new + 1):
            proof = log.consistency_proof(old, new)
            verify_consistency(old, new, roots[old], roots[new], proof)
            if 0 < old < new:
                with pytest.raises(ProofError):
                    verify_consistency(old, new, roots[old - 1], roots[new], proof)
    with pytest.raises(ProofError):
        log.consistency_proof(0, n + 1)
    with pytest.raises(ProofError):
        log.consistency_proof(5, 4)


def test_empty_log_has_no_checkpoint(env: LogEnv) -> None:
    log = env.log()
    assert log.size() == 0
    with pytest.raises(ProofError):
        log.latest()
    assert not verify_store(env.store(), env.ws.registry(), workers=1).ok


def test_log_without_operator_key_cannot_append(env: LogEnv) -> None:
    reader = env.log(writable=False)
    with pytest.raises(DetenteError):
        reader.append(env.record("US"))
    assert reader.size() == 0


def test_log_refuses_an_operator_key_not_in_the_registry(env: LogEnv) -> None:
    from detente.log.transparency import TransparencyLog

    with pytest.raises(DetenteError):
        TransparencyLog(env.store(), env.ws.registry(), env.keys["US"])


# -- several writers on one database -------------------------------------------------------------


def test_two_log_objects_alternating_keep_one_order(env: LogEnv) -> None:
    a, b = env.log(), env.log()
    submitted: list[bytes] = []
    indices: list[int] = []
    for round_ in range(6):
        log = (a, b)[round_ % 2]
        raws = env.records(round_ % 3 + 1)
        submitted += raws
        results = log.append_batch(raws)
        indices += [r.index for r in results if isinstance(r, Receipt)]
    assert indices == list(range(len(submitted)))
    assert a.size() == b.size() == len(submitted)
    assert a.latest().encode() == b.latest().encode()
    for i, raw in enumerate(submitted):
        assert a.leaf(i) == raw
    report = verify_store(env.store(), env.ws.registry(), workers=1, quorum=0)
    assert report.ok, report.error
    assert report.entries == len(submitted)


def test_two_log_objects_from_two_threads(env: LogEnv) -> None:
    batches = 12
    per_batch = 4
    work = {p: [env.records(per_batch, (p,)) for _ in range(batches)] for p in ("US", "RU")}
    got: dict[str, list[Receipt | RecordRefused]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(party: str) -> None:
        try:
            log = env.log()
            out: list[Receipt | RecordRefused] = []
            start.wait()
            for raws in work[party]:
                out += log.append_batch(raws)
            got[party] = out
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in ("US", "RU")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    total = 2 * batches * per_batch
    all_indices = []
    log = env.log()
    for party in ("US", "RU"):
        results = got[party]
        assert all(isinstance(r, Receipt) for r in results), results
        idx = [r.index for r in results]  # type: ignore[union-attr]
        assert idx == sorted(idx), "one writer's records must keep their order"
        raws = [raw for batch in work[party] for raw in batch]
        for r, raw in zip(results, raws, strict=True):
            assert isinstance(r, Receipt)
            assert log.leaf(r.index) == raw
            verify_receipt(r, raw, env.operator, env.origin)
        all_indices += idx
    assert sorted(all_indices) == list(range(total)), "indices are unique and contiguous"
    assert log.size() == total
    sizes = [s for s, _ in log.store.checkpoints()]
    assert len(sizes) == 2 * batches
    assert sizes == sorted(sizes)
    assert sizes[-1] == total
    report = verify_store(env.store(), env.ws.registry(), workers=1, quorum=0)
    assert report.ok, report.error
    assert report.checkpoints == 2 * batches


# -- refusals ------------------------------------------------------------------------------------


def _flip_signature(raw: bytes) -> bytes:
    env = json.loads(raw)
    sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
    sig[10] ^= 0x01
    env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    return json.dumps(env).encode()


def _bad_cases(env: LogEnv) -> dict[str, tuple[bytes | str | dict[str, object], str]]:
    """label → (submission, expected code); the log already holds US 1–2 and RU 1."""
    from detente.envelope.keys import SigningKey

    outsider = SigningKey.generate()
    # Signed by a real (US) key, but naming an author the registry does not know.
    stranger = make_record("declaration", "FR", 1, {}, env.keys["US"], log=env.origin,
                           signed_at=FIXED_NOW).canonical()
    return {
        "bad-signature": (_flip_signature(env.record("US", seq=3)), "bad-signature"),
        "replay-same-record": (env.record("US", seq=2), "replay"),
        "replay-lower-seq": (env.record("US", seq=1, body={"other": True}), "replay"),
        "unknown-party": (stranger, "unknown-party"),
        "unknown-key": (env.record("US", seq=3, key=outsider), "unknown-key"),
        "not-author": (env.record("US", seq=3, key=env.keys["RU"]), "not-author"),
        "witness-key-as-author": (env.record("US", seq=3, key=env.ws.party_key("US-witness")),
                                  "not-author"),
        "garbage": (b"\x00\xffnot json at all", "malformed"),
        "json-array": (b"[1, 2, 3]", "malformed"),
        "empty-object": ({}, "malformed"),
        "oversized": (b" " * (MAX_ENVELOPE_BYTES + 1), "oversized"),
        "wrong-log": (env.record("US", seq=3, log="detente.test/rehearsal"), "wrong-log"),
        "clock-ahead": (env.record("US", seq=3, signed_at=FIXED_NOW + timedelta(minutes=11)),
                        "clock"),
        "clock-behind": (env.record("US", seq=3, signed_at=FIXED_NOW - timedelta(hours=2)),
                         "clock"),
    }


REFUSAL_LABELS = [
    "bad-signature", "replay-same-record", "replay-lower-seq", "unknown-party", "unknown-key",
    "not-author", "witness-key-as-author", "garbage", "json-array", "empty-object", "oversized",
    "wrong-log", "clock-ahead", "clock-behind",
]


@pytest.mark.parametrize("label", REFUSAL_LABELS)
def test_refusal_leaves_the_log_unchanged(env: LogEnv, label: str) -> None:
    log = env.log()
    first = [env.record("US", seq=1), env.record("US", seq=2), env.record("RU", seq=1)]
    assert all(isinstance(r, Receipt) for r in log.append_batch(first))
    raw, code = _bad_cases(env)[label]
    before = env.snapshot(log)
    with pytest.raises(RecordRefused) as ei:
        log.append(raw)
    assert ei.value.code == code, ei.value.message
    assert ei.value.message
    assert env.snapshot(log) == before
    (result,) = log.append_batch([raw])
    assert isinstance(result, RecordRefused)
    assert result.code == code
    assert env.snapshot(log) == before
    # The log still works and still verifies.
    assert log.append(env.record("US", seq=3, body={"after": label})).index == 3
    assert verify_store(env.store(), env.ws.registry(), workers=1, quorum=0).ok


def test_oversized_by_policy_for_bytes_and_for_decoded_objects(env: LogEnv) -> None:
    small = env.log(policy=Policy(max_envelope_bytes=200))
    raw = env.record("US", seq=1)
    assert len(raw) > 200
    before = env.snapshot(small)
    for submission in (raw, raw.decode(), json.loads(raw)):
        with pytest.raises(RecordRefused) as ei:
            small.append(submission)
        assert ei.value.code == "oversized"
    assert env.snapshot(small) == before
    assert env.log().append(raw).index == 0


def test_clock_tolerance_is_inclusive(env: LogEnv) -> None:
    log = env.log()
    edge = env.record("US", seq=1, signed_at=FIXED_NOW + timedelta(minutes=10))
    assert log.append(edge).index == 0
    beyond = env.record("US", seq=2, signed_at=FIXED_NOW - timedelta(minutes=10, seconds=1))
    with pytest.raises(RecordRefused) as ei:
        log.append(beyond)
    assert ei.value.code == "clock"


def test_duplicate_sequence_number_inside_one_batch(env: LogEnv) -> None:
    log = env.log()
    a = env.record("US", seq=1, body={"first": True})
    b = env.record("US", seq=1, body={"second": True})
    c = env.record("US", seq=1, body={"first": True})  # the same record twice in one batch
    results = log.append_batch([a, b, c])
    assert isinstance(results[0], Receipt)
    assert results[0].index == 0
    for r in results[1:]:
        assert isinstance(r, RecordRefused)
        assert r.code == "replay"
    assert log.size() == 1
    assert log.leaf(0) == a
    assert env.snapshot(log)[2]["entries"] == 1


def test_refused_only_batch_signs_no_checkpoint(env: LogEnv) -> None:
    log = env.log()
    before = env.snapshot(log)
    results = log.append_batch([b"nope", env.record("US", seq=1, key=env.keys["RU"])])
    assert [r.code for r in results if isinstance(r, RecordRefused)] == ["malformed", "not-author"]
    assert env.snapshot(log) == before
    assert before[1] is None
    assert before[2]["checkpoints"] == 0


def test_mixed_batch_appends_the_good_and_refuses_the_bad(env: LogEnv) -> None:
    log = env.log()
    good = [env.record("US", seq=1), env.record("RU", seq=1), env.record("US", seq=2),
            env.record("RU", seq=2)]
    batch: list[bytes] = [
        good[0],
        b"garbage",
        good[1],
        env.record("US", seq=1, body={"again": 1}),  # replay of a seq used earlier in the batch
        env.record("RU", seq=3, key=env.keys["US"]),  # US signing as RU
        good[2],
        _flip_signature(env.record("US", seq=9)),
        good[3],
        env.record("RU", seq=4, log="elsewhere.example/log"),
    ]
    results = log.append_batch(batch)
    kinds = [r.index if isinstance(r, Receipt) else r.code for r in results]
    assert kinds == [0, "malformed", 1, "replay", "not-author", 2, "bad-signature", 3, "wrong-log"]
    assert log.size() == 4
    assert [log.leaf(i) for i in range(4)] == good
    cp = SignedCheckpoint.parse(log.store.checkpoint() or "").checkpoint
    assert cp.size == 4
    assert env.snapshot(log)[2]["checkpoints"] == 1
    for r, raw in zip([r for r in results if isinstance(r, Receipt)], good, strict=True):
        verify_receipt(r, raw, env.operator, env.origin)
    assert verify_store(env.store(), env.ws.registry(), workers=1, quorum=0).ok


def test_sequence_numbers_may_skip_but_never_repeat(env: LogEnv) -> None:
    log = env.log()
    assert log.append(env.record("US", seq=5)).index == 0
    assert log.append(env.record("US", seq=9)).index == 1
    for seq in (5, 6, 9):
        with pytest.raises(RecordRefused) as ei:
            log.append(env.record("US", seq=seq, body={"seq": seq}))
        assert ei.value.code == "replay"
        assert "10" in ei.value.message  # tells the author which number to use next
    assert log.append(env.record("US", seq=10)).index == 2
    assert [s for s, _ in log.store.checkpoints()] == [1, 2, 3]
    assert all(b > a for a, b in pairwise([s for s, _ in log.store.checkpoints()]))
