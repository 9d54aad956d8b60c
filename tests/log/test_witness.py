"""Witnesses: cosign a growing log, and refuse (with evidence) a log that forks or rolls back."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from detente.envelope.keys import SigningKey
from detente.errors import ConfigError, ForkDetected, NoteError, ProofError
from detente.log.cosign import collect_cosignatures
from detente.log.merkle import verify_consistency
from detente.log.note import (
    SIG_COSIGNATURE_V1,
    Checkpoint,
    NoteVerifier,
    cosign,
    open_checkpoint,
    sign_checkpoint,
    verify_cosignature,
)
from detente.log.transparency import TransparencyLog
from detente.log.witness import Witness, WitnessState
from detente.envelope.record import make_record

from .conftest import FIXED_NOW, WITNESS_TIME, LogEnv, fixed_clock


def _cosig_verifier(env: LogEnv, party: str) -> NoteVerifier:
    ((_pid, key),) = [(p, k) for p, k in env.ws.registry().witnesses() if p == party]
    return NoteVerifier(key.note_name or "", key.public_key, SIG_COSIGNATURE_V1)


def _state_bytes(w: Witness) -> bytes | None:
    p = w.state_dir / "state.json"
    return p.read_bytes() if p.exists() else None


def _evidence(w: Witness) -> list[dict[str, str]]:
    d = w.state_dir / "evidence"
    if not d.exists():
        return []
    return [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))]


def _grow(env: LogEnv, log: TransparencyLog, n: int) -> None:
    for raw in env.records(n):
        log.append(raw)


def test_witness_cosigns_as_the_log_grows_and_remembers(env: LogEnv) -> None:
    log = env.log()
    v = _cosig_verifier(env, "US")
    for step, n in enumerate((1, 2, 5, 1, 8)):
        _grow(env, log, n)
        w = env.witness("US")  # a fresh instance each time: the state lives on disk
        before = w.state()
        assert (before == WitnessState(0, None)) == (step == 0)  # new: the empty tree
        scp = collect_cosignatures(log, {"US": w})
        size = log.size()
        assert scp.checkpoint.size == size
        assert verify_cosignature(scp.note, v) == int(WITNESS_TIME)
        stored = log.latest()
        assert stored.note.signature_for(v) is not None
        verify_cosignature(stored.note, v)
        st = env.witness("US").state()
        assert st is not None
        assert st.size == size
        assert open_checkpoint(st.note, env.operator, env.origin).checkpoint == scp.checkpoint
    assert _evidence(env.witness("US")) == []


def test_both_witnesses_cosign(env: LogEnv) -> None:
    log = env.log()
    _grow(env, log, 3)
    collect_cosignatures(log, env.witnesses())
    _grow(env, log, 2)
    scp = collect_cosignatures(log, env.witnesses())
    for party in ("US", "RU"):
        verify_cosignature(scp.note, _cosig_verifier(env, party))
    assert scp.note.signatures[0].name == env.operator.name
    assert len(scp.note.signatures) == 3
    # Cosigning the same checkpoint again is harmless and keeps one signature per witness.
    scp = collect_cosignatures(log, env.witnesses())
    assert len(scp.note.signatures) == 3


def _forked(env: LogEnv, tmp_path: Path, n: int) -> TransparencyLog:
    """The same operator key and registry, a different history of `n` entries."""
    other = env.clone(tmp_path / "fork")
    flog = other.log(clock=fixed_clock)
    keys = {p: other.party_key(p) for p in ("US", "RU")}
    for i in range(n):
        p = ("RU", "US")[i % 2]
        flog.append(make_record("statement", p, 100 + i, {"forked": i}, keys[p],
                                log=env.origin, signed_at=FIXED_NOW).canonical())
    return flog


def _assert_refused_with_evidence(
    w: Witness, exc: ForkDetected, kind: str, previous: str, presented: str, env: LogEnv
) -> None:
    files = sorted((w.state_dir / "evidence").glob(f"{kind}-*.json"))
    assert len(files) == 1
    ev = json.loads(files[0].read_text())
    assert ev == exc.evidence
    assert ev["kind"] == kind
    assert ev["origin"] == env.origin
    assert ev["previous"] == previous
    assert ev["presented"] == presented
    # Both are checkpoints the operator signed: anyone with its public key can check.
    a = open_checkpoint(ev["previous"], env.operator, env.origin).checkpoint
    b = open_checkpoint(ev["presented"], env.operator, env.origin).checkpoint
    assert a != b
    assert str(files[0]) in exc.message


@pytest.mark.parametrize("fork_size", [3, 5, 9])
def test_forked_log_under_the_same_key_is_refused_with_evidence(
    env: LogEnv, tmp_path: Path, fork_size: int
) -> None:
    log = env.log()
    _grow(env, log, 3)
    w = env.witness("US")
    collect_cosignatures(log, {"US": w})
    state = _state_bytes(w)
    previous = w.state().note  # type: ignore[union-attr]

    flog = _forked(env, tmp_path, fork_size)
    presented = flog.latest().encode()
    with pytest.raises(ForkDetected) as ei:
        collect_cosignatures(flog, {"US": env.witness("US")})
    assert ei.value.code == "fork"
    assert _state_bytes(w) == state, "a refused checkpoint must not move the witness"
    _assert_refused_with_evidence(w, ei.value, "fork", previous, presented, env)
    a = open_checkpoint(previous, env.operator, env.origin).checkpoint
    b = open_checkpoint(presented, env.operator, env.origin).checkpoint
    with pytest.raises(ProofError):
        verify_consistency(a.size, b.size, a.root, b.root, flog.consistency_proof(a.size, b.size))
    # The forked checkpoint got no cosignature, and the honest log can still be witnessed.
    assert flog.latest().note.signature_for(_cosig_verifier(env, "US")) is None
    _grow(env, log, 2)
    scp = collect_cosignatures(log, {"US": env.witness("US")})
    assert scp.checkpoint.size == 5


def test_checkpoint_with_a_bogus_proof_is_a_fork(env: LogEnv) -> None:
    log = env.log()
    _grow(env, log, 4)
    w = env.witness("RU")
    collect_cosignatures(log, {"RU": w})
    state = _state_bytes(w)
    previous = w.state().note  # type: ignore[union-attr]
    root = hashlib.sha256(b"another tree").digest()
    forged = sign_checkpoint(Checkpoint(env.origin, 11, root), env.operator.name,
                             env.ws.operator_key()).encode()
    bogus = [hashlib.sha256(bytes([i])).digest() for i in range(3)]
    with pytest.raises(ForkDetected) as ei:
        w.add_checkpoint(4, bogus, forged)
    assert _state_bytes(w) == state
    _assert_refused_with_evidence(w, ei.value, "fork", previous, forged, env)


def test_rollback_is_refused_with_evidence(env: LogEnv) -> None:
    log = env.log()
    _grow(env, log, 3)
    _grow(env, log, 4)
    w = env.witness("US")
    collect_cosignatures(log, {"US": w})
    state = _state_bytes(w)
    previous = w.state().note  # type: ignore[union-attr]
    older = log.checkpoint_at(3).encode()
    with pytest.raises(ForkDetected) as ei:
        w.add_checkpoint(7, [], older)
    assert ei.value.code == "fork"
    assert _state_bytes(w) == state
    _assert_refused_with_evidence(w, ei.value, "rollback", previous, older, env)


def test_wrong_old_size_is_a_plain_conflict(env: LogEnv) -> None:
    log = env.log()
    _grow(env, log, 3)
    w = env.witness("US")
    collect_cosignatures(log, {"US": w})
    _grow(env, log, 3)
    state = _state_bytes(w)
    latest = log.latest().encode()
    with pytest.raises(NoteError) as ei:
        w.add_checkpoint(2, log.consistency_proof(2, 6), latest)
    assert not isinstance(ei.value, ForkDetected)
    assert "conflict" in ei.value.message
    assert "3" in ei.value.message
    assert _state_bytes(w) == state
    assert _evidence(w) == []
    # With the right size it goes through.
    w.add_checkpoint(3, log.consistency_proof(3, 6), latest)
    assert w.state().size == 6  # type: ignore[union-attr]


def test_checkpoint_not_signed_by_the_operator_is_refused(env: LogEnv) -> None:
    log = env.log()
    _grow(env, log, 2)
    w = env.witness("US")
    collect_cosignatures(log, {"US": w})
    _grow(env, log, 2)
    state = _state_bytes(w)
    cp = log.latest().checkpoint
    impostor = sign_checkpoint(cp, env.operator.name, SigningKey.generate()).encode()
    with pytest.raises(NoteError) as ei:
        w.add_checkpoint(2, log.consistency_proof(2, 4), impostor)
    assert not isinstance(ei.value, ForkDetected)
    # Signed by the operator, but for another log.
    elsewhere = sign_checkpoint(Checkpoint("other.example/log", cp.size, cp.root),
                                env.operator.name, env.ws.operator_key()).encode()
    with pytest.raises(NoteError):
        w.add_checkpoint(2, log.consistency_proof(2, 4), elsewhere)
    assert _state_bytes(w) == state
    assert _evidence(w) == []


def test_first_checkpoint_needs_no_proof(env: LogEnv) -> None:
    log = env.log()
    _grow(env, log, 3)
    w = env.witness("US")
    with pytest.raises(ProofError):
        w.add_checkpoint(0, [hashlib.sha256(b"x").digest()], log.latest().encode())
    assert w.state() == WitnessState(0, None)


def test_witness_state_of_another_log_is_refused(env: LogEnv, tmp_path: Path) -> None:
    log = env.log()
    _grow(env, log, 1)
    w = env.witness("US")
    collect_cosignatures(log, {"US": w})
    other = Witness(w.name, w.key, w.operator, "other.example/log", w.state_dir,
                    clock=lambda: WITNESS_TIME)
    with pytest.raises(ConfigError):
        other.state()


def test_add_cosignature_refuses_unregistered_or_invalid_cosignatures(env: LogEnv) -> None:
    log = env.log()
    _grow(env, log, 2)
    size = log.size()
    text = log.latest().note.text
    before = log.store.checkpoint()
    stranger = SigningKey.generate()
    for name in ("witness.fr.detente.test", env.ws.witness("US").name):
        sig = cosign(text, name, stranger, int(WITNESS_TIME))
        with pytest.raises(NoteError):
            log.add_cosignature(size, sig)
    # A registered witness key, but over other text: refused too.
    wkey = env.ws.witness("US").key
    bad = cosign(text.replace("\n2\n", "\n3\n"), env.ws.witness("US").name, wkey, 1)
    with pytest.raises(NoteError):
        log.add_cosignature(size, bad)
    # The operator's own key is not a witness.
    with pytest.raises(NoteError):
        log.add_cosignature(size, cosign(text, env.operator.name, env.ws.operator_key(), 1))
    assert log.store.checkpoint() == before
    good = cosign(text, env.ws.witness("US").name, wkey, 1)
    assert log.add_cosignature(size, good).note.signature_for(_cosig_verifier(env, "US"))


def test_every_refusal_keeps_its_own_evidence(env: LogEnv, tmp_path: Path) -> None:
    """Two different forked checkpoints presented to a witness whose clock has not moved on (a
    coarse clock, or two refusals in the same millisecond): both are evidence, both must be kept;
    the second must not overwrite the first."""
    log = env.log()
    _grow(env, log, 2)
    w = env.witness("US")
    collect_cosignatures(log, {"US": w})
    presented = []
    for size in (6, 9):
        root = hashlib.sha256(b"fork %d" % size).digest()
        cp = sign_checkpoint(Checkpoint(env.origin, size, root), env.operator.name,
                             env.ws.operator_key()).encode()
        presented.append(cp)
        with pytest.raises(ForkDetected):
            w.add_checkpoint(2, [hashlib.sha256(b"p").digest()], cp)
    kept = sorted(e["presented"] for e in _evidence(w))
    assert kept == sorted(presented)
