"""Witnesses: cosign a growing log, and refuse (with evidence) a log that forks or rolls back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from detente.cli import app
from detente.envelope.keys import SigningKey
from detente.envelope.record import make_record
from detente.errors import (
    ConfigError,
    ForkDetected,
    NoteError,
    ProofError,
    WitnessStateCorrupt,
    WitnessStateError,
    WitnessStateMissing,
)
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


# -- a witness without trusted state never cosigns -----------------------------------------------


def _witness_init(env: LogEnv, *args: str) -> Result:
    return CliRunner(env=env.child_env()).invoke(
        app, ["witness", "init", "US", "--workspace", str(env.ws.path), *args])


def _lose_state(w: Witness) -> None:
    (w.state_dir / "state.json").unlink()


def _forked_same_size(env: LogEnv, tmp_path: Path) -> tuple[TransparencyLog, TransparencyLog]:
    """An honest log of 3 entries the US witness has cosigned, and a fork of the same size
    under the same operator key."""
    log = env.log()
    _grow(env, log, 3)
    collect_cosignatures(log, {"US": env.witness("US")})
    return log, _forked(env, tmp_path, 3)


def test_witness_that_lost_its_state_refuses_a_forged_checkpoint(
    env: LogEnv, tmp_path: Path
) -> None:
    """The finding: with its state file deleted, the witness cosigned a fork of the same size
    without a word (trust on first use). It must refuse, say why and how to recover, sign
    nothing and remember nothing."""
    log, flog = _forked_same_size(env, tmp_path)
    w = env.witness("US")
    _lose_state(w)
    evidence = _evidence(w)
    forged = flog.latest().encode()
    with pytest.raises(WitnessStateMissing) as ei:
        collect_cosignatures(flog, {"US": env.witness("US")})
    assert ei.value.code == "witness-state-missing"
    msg = ei.value.message
    assert "refuses to cosign" in msg
    assert f"detente witness init US --workspace {env.ws.path} --checkpoint FILE" in msg
    assert "docs/log.md" in msg
    # Asked directly, with any claimed old size, it refuses too.
    for old in (0, 3):
        with pytest.raises(WitnessStateMissing):
            env.witness("US").add_checkpoint(old, [], forged)
    assert flog.latest().note.signature_for(_cosig_verifier(env, "US")) is None
    assert _state_bytes(w) is None, "a refusal must not invent a state"
    assert _evidence(w) == evidence
    # Nor does it cosign the honest log: it cannot tell which one it vouched for.
    with pytest.raises(WitnessStateMissing):
        collect_cosignatures(log, {"US": env.witness("US")})


def test_reseeded_witness_cosigns_the_genuine_next_checkpoint_and_refuses_the_fork(
    env: LogEnv, tmp_path: Path
) -> None:
    """The documented recovery: `detente witness init PARTY --checkpoint FILE` with a checkpoint
    checked by hand (here the one the witness cosigned before, as another party would hold it)."""
    log, flog = _forked_same_size(env, tmp_path)
    genuine = log.latest().encode()  # carries the US witness's own cosignature
    w = env.witness("US")
    _lose_state(w)
    cp_file = tmp_path / "checked-by-hand.checkpoint"
    cp_file.write_text(genuine)
    res = _witness_init(env, "--checkpoint", str(cp_file), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["ok"] is True
    assert (data["size"], data["cosigned_by_this_witness"]) == (3, True)
    st = env.witness("US").state()
    assert st.size == 3
    assert open_checkpoint(st.note or "", env.operator, env.origin).checkpoint == \
        log.latest().checkpoint

    # The fork of the same size is now refused, with evidence.
    forged = flog.latest().encode()
    with pytest.raises(ForkDetected) as ei:
        collect_cosignatures(flog, {"US": env.witness("US")})
    _assert_refused_with_evidence(w, ei.value, "fork", st.note or "", forged, env)
    assert flog.latest().note.signature_for(_cosig_verifier(env, "US")) is None

    # The genuine next checkpoint is cosigned, with a consistency proof from the re-seeded size.
    _grow(env, log, 2)
    scp = collect_cosignatures(log, {"US": env.witness("US")})
    assert scp.checkpoint.size == 5
    verify_cosignature(scp.note, _cosig_verifier(env, "US"))
    assert env.witness("US").state().size == 5
    # And a fork of the new size is refused in turn.
    bigger = _forked(env, tmp_path / "second", 5)
    with pytest.raises(ForkDetected):
        collect_cosignatures(bigger, {"US": env.witness("US")})


def test_reseed_refuses_a_checkpoint_the_operator_did_not_sign(env: LogEnv, tmp_path: Path) -> None:
    log = env.log()
    _grow(env, log, 2)
    w = env.witness("US")
    _lose_state(w)
    impostor = sign_checkpoint(log.latest().checkpoint, env.operator.name, SigningKey.generate())
    with pytest.raises(NoteError):
        w.initialise(impostor.encode())
    cp_file = tmp_path / "cp"
    cp_file.write_text(impostor.encode())
    res = _witness_init(env, "--checkpoint", str(cp_file))
    assert res.exit_code == 1
    assert _state_bytes(w) is None
    res = _witness_init(env, "--checkpoint", str(tmp_path / "absent"))
    assert res.exit_code == 1
    assert "cannot read --checkpoint" in " ".join(res.stderr.split())


def test_reseed_without_the_witness_own_cosignature_warns(env: LogEnv, tmp_path: Path) -> None:
    log = env.log()
    _grow(env, log, 2)
    _lose_state(env.witness("US"))
    cp_file = tmp_path / "cp"
    cp_file.write_text(log.latest().encode())  # operator-signed, never cosigned by US
    res = _witness_init(env, "--checkpoint", str(cp_file))
    assert res.exit_code == 0, res.output
    assert "does not carry this witness's own cosignature" in " ".join(res.stderr.split())
    assert env.witness("US").state().size == 2


def test_existing_state_is_not_replaced_without_replace(env: LogEnv, tmp_path: Path) -> None:
    log = env.log()
    _grow(env, log, 3)
    w = env.witness("US")
    collect_cosignatures(log, {"US": w})
    state = _state_bytes(w)
    _grow(env, log, 2)
    newer = log.latest().encode()
    # Neither a reset to the empty tree nor a jump to another checkpoint, silently.
    with pytest.raises(WitnessStateError) as ei:
        w.initialise()
    assert "--replace" in ei.value.message
    with pytest.raises(WitnessStateError):
        w.initialise(newer)
    cp_file = tmp_path / "cp"
    cp_file.write_text(newer)
    assert _witness_init(env, "--checkpoint", str(cp_file)).exit_code == 1
    assert _state_bytes(w) == state
    # Re-initialising a witness that is still at the empty tree changes nothing.
    ru = env.witness("RU")
    assert ru.initialise() == WitnessState(0, None)


@pytest.mark.parametrize(
    ("damage", "detail"),
    [
        (lambda d, s: b"{not json", "malformed"),
        (lambda d, s: b"[]", "malformed"),
        (lambda d, s: json.dumps({**d, "size": "3"}).encode(), "malformed"),
        (lambda d, s: json.dumps({**d, "note": None}).encode(), "malformed"),
        (lambda d, s: json.dumps({**d, "size": 2}).encode(), "says size 2"),
        (lambda d, s: json.dumps({**d, "origin": "other.example/log"}).encode(), "another log"),
        (lambda d, s: json.dumps({**d, "note": s}).encode(), "did not sign"),
    ],
    ids=["not-json", "not-object", "size-type", "no-note", "size-mismatch", "other-log",
         "unsigned-note"],
)
def test_corrupt_state_is_refused_and_distinguished_from_missing(
    env: LogEnv, tmp_path: Path, damage: Callable[[dict[str, Any], str], bytes], detail: str
) -> None:
    log = env.log()
    _grow(env, log, 3)
    w = env.witness("US")
    collect_cosignatures(log, {"US": w})
    path = w.state_dir / "state.json"
    data = json.loads(path.read_text())
    impostor = sign_checkpoint(log.latest().checkpoint, env.operator.name, SigningKey.generate())
    path.write_bytes(damage(data, impostor.encode()))
    damaged = path.read_bytes()
    _grow(env, log, 1)
    with pytest.raises(WitnessStateCorrupt) as ei:
        collect_cosignatures(log, {"US": env.witness("US")})
    assert not isinstance(ei.value, WitnessStateMissing)
    assert ei.value.code == "witness-state-corrupt"
    assert detail in ei.value.message
    assert "--replace" in ei.value.message
    assert "backup" in ei.value.message
    assert log.latest().note.signature_for(_cosig_verifier(env, "US")) is None
    # Re-seeding needs --replace; the damaged file is kept beside the new state.
    cp_file = tmp_path / "cp"
    cp_file.write_text(log.checkpoint_at(3).encode())
    res = _witness_init(env, "--checkpoint", str(cp_file))
    assert res.exit_code == 1
    assert "--replace" in " ".join(res.stderr.split())
    assert path.read_bytes() == damaged
    res = _witness_init(env, "--checkpoint", str(cp_file), "--replace")
    assert res.exit_code == 0, res.output
    kept = list(w.state_dir.glob("state.json.replaced-*"))
    assert [p.read_bytes() for p in kept] == [damaged]
    scp = collect_cosignatures(log, {"US": env.witness("US")})
    assert scp.checkpoint.size == 4


def test_unreadable_state_is_corrupt_not_missing(env: LogEnv) -> None:
    w = env.witness("US")
    path = w.state_dir / "state.json"
    path.unlink()
    path.mkdir()  # exists, but cannot be read as a file
    with pytest.raises(WitnessStateCorrupt) as ei:
        w.state()
    assert "cannot be read" in ei.value.message


def test_state_is_written_durably_before_the_cosignature_leaves(
    env: LogEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state goes through fsutil.atomic_write (temporary file, fsync, rename, fsync of the
    directory); if that fails, no cosignature is returned."""
    import detente.log.witness as witness_mod

    log = env.log()
    _grow(env, log, 2)
    writes: list[Path] = []
    real = witness_mod.atomic_write

    def recording(path: Path, data: bytes, mode: int = 0o644) -> None:
        writes.append(path)
        real(path, data, mode)

    monkeypatch.setattr(witness_mod, "atomic_write", recording)
    w = env.witness("US")
    collect_cosignatures(log, {"US": w})
    assert writes == [w.state_dir / "state.json"]

    def failing(path: Path, data: bytes, mode: int = 0o644) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(witness_mod, "atomic_write", failing)
    _grow(env, log, 1)
    before = log.store.checkpoint()
    with pytest.raises(OSError, match="disk full"):
        collect_cosignatures(log, {"US": env.witness("US")})
    assert log.store.checkpoint() == before
    assert env.witness("US").state().size == 2


def test_party_command_initialises_a_new_witness(tmp_path: Path) -> None:
    """`detente party --witness-name` makes the witness key and its empty-tree state together,
    so the first cosignature needs no trust on first use; without a witness, no state."""
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--workspace", str(ws)]).exit_code == 0
    res = runner.invoke(app, ["party", "US", "--workspace", str(ws), "--witness-name", "w.us.test"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["party", "RU", "--workspace", str(ws)])
    assert res.exit_code == 0, res.output
    state = json.loads((ws / "witness" / "US" / "state.json").read_text())
    assert (state["size"], state["note"]) == (0, None)
    assert not (ws / "witness" / "RU").exists()


def test_party_command_initialises_a_witness_registered_from_keygen(tmp_path: Path) -> None:
    """A witness key made elsewhere (`detente keygen --role witness`) and registered with
    `party --public-key` starts from the empty tree too."""
    ws, keys = tmp_path / "ws", tmp_path / "keys"
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--workspace", str(ws)]).exit_code == 0
    for extra in ([], ["--role", "witness", "--note-name", "w.us.test"]):
        assert runner.invoke(app, ["keygen", "US", "--out", str(keys), *extra]).exit_code == 0
    res = runner.invoke(app, ["party", "US", "--workspace", str(ws),
                              "--public-key", str(keys / "US.pub.json"),
                              "--public-key", str(keys / "US-witness.pub.json")])
    assert res.exit_code == 0, res.output
    state = json.loads((ws / "witness" / "US" / "state.json").read_text())
    assert (state["size"], state["note"]) == (0, None)


def test_new_witness_initialisation_never_resets_a_state(env: LogEnv) -> None:
    from detente.log.witness import initialise_new_witness

    log = env.log()
    _grow(env, log, 2)
    w = env.witness("US")
    collect_cosignatures(log, {"US": w})
    state = _state_bytes(w)
    with pytest.raises(WitnessStateError):
        initialise_new_witness(w.state_dir, env.origin)
    assert _state_bytes(w) == state
    initialise_new_witness(env.witness("RU").state_dir, env.origin)  # still empty: no change
    assert env.witness("RU").state() == WitnessState(0, None)
