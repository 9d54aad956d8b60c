"""Parallel ingest equals sequential ingest; verification pins the trusted registry; cosignatures
attach atomically; the record header is strict."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from detente.envelope.canonical import canonicalize
from detente.envelope.dsse import sign
from detente.envelope.keys import SigningKey
from detente.envelope.record import make_record
from detente.errors import RecordRefused
from detente.log.admission import admit
from detente.log.bundle import export_bundle, verify_bundle, verify_store
from detente.log.cosign import collect_cosignatures
from detente.log.ingest import ParallelIngestor
from detente.log.receipt import Receipt, verify_receipt
from detente.model.parties import Role
from detente.model.records import payload_type
from detente.workspace import Workspace

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


def _key(name: str) -> SigningKey:
    return SigningKey.from_seed(hashlib.sha256(name.encode()).digest())


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace.create(tmp_path / "ws", "test.example/log")
    roles = frozenset({Role.DECLARANT, Role.INSPECTOR})
    w.add_party("US", "United States", roles=roles, witness_name="w.us")
    w.add_party("RU", "Russia", roles=roles, witness_name="w.ru")
    for p in ("US", "RU"):
        w.witness(p).initialise()  # new witnesses start from the empty tree, explicitly
    return w


def _records(ws: Workspace, n: int, start: int = 1) -> list[bytes]:
    keys = {p: ws.party_key(p) for p in ("US", "RU")}
    out = []
    for i in range(n):
        party = ("US", "RU")[i % 2]
        env = make_record("declaration", party, start + i // 2, {"n": i}, keys[party],
                          log="test.example/log", signed_at=NOW)
        out.append(env.canonical())
    return out


def test_parallel_ingest_matches_sequential(ws: Workspace, tmp_path: Path) -> None:
    raws = _records(ws, 300)
    raws.insert(100, raws[5])  # a replay in the middle: refused, the rest go on
    raws.insert(200, b"garbage")
    log = ws.log(clock=lambda: NOW)
    with ParallelIngestor(log, 2) as ing:
        batches = [raws[i : i + 37] for i in range(0, len(raws), 37)]
        results = [r for batch in ing.append_stream(batches) for r in batch]
    refused = [r for r in results if isinstance(r, RecordRefused)]
    assert [r.code for r in refused] == ["replay", "malformed"]
    receipts = [r for r in results if isinstance(r, Receipt)]
    assert [r.index for r in receipts] == list(range(300))
    for r in receipts[::17]:
        verify_receipt(r, log.leaf(r.index), log.operator, log.origin)

    seq_ws = Workspace.create(tmp_path / "seq", "test.example/log")
    # Same registry and operator key, so the trees must be identical leaf for leaf.
    (seq_ws.path / "keys.json").write_text((ws.path / "keys.json").read_text())
    (seq_ws.secrets / "operator.key").unlink()
    (seq_ws.secrets / "operator.key").write_bytes((ws.secrets / "operator.key").read_bytes())
    (seq_ws.secrets / "operator.key").chmod(0o600)  # read_private_key refuses group/world access
    seq_log = seq_ws.log(clock=lambda: NOW)
    seq_log.append_batch(raws)
    assert seq_log.latest().checkpoint.root == log.latest().checkpoint.root
    assert verify_store(ws.store(), ws.registry(), quorum=0).ok


def test_admitted_survives_pickling_with_reason_codes(ws: Workspace) -> None:
    import pickle

    log = ws.log(clock=lambda: NOW)
    a = admit(_records(ws, 1)[0], log.keyring, now=NOW)
    assert pickle.loads(pickle.dumps(a)) == a
    exc = pickle.loads(pickle.dumps(RecordRefused("no", code="replay")))
    assert exc.code == "replay"


def test_verify_pins_trusted_registry(ws: Workspace, tmp_path: Path) -> None:
    log = ws.log(clock=lambda: NOW)
    log.append_batch(_records(ws, 4))
    collect_cosignatures(log, {p: ws.witness(p) for p in ("US", "RU")})
    export_bundle(ws.store(), ws.registry(), tmp_path / "b")
    assert verify_bundle(tmp_path / "b", trusted=ws.registry()).ok

    # A forger re-signs the same records with keys of their own and ships their own keys.json:
    # self-consistent, so it verifies alone, but not against the registry we hold.
    forged = Workspace.create(tmp_path / "forged", "test.example/log")
    forged.add_party("US", "United States", roles=frozenset({Role.DECLARANT}), witness_name="w.us")
    forged.add_party("RU", "Russia", roles=frozenset({Role.DECLARANT}), witness_name="w.ru")
    for p in ("US", "RU"):
        forged.witness(p).initialise()
    flog = forged.log(clock=lambda: NOW)
    flog.append_batch(_records(forged, 4))
    collect_cosignatures(flog, {p: forged.witness(p) for p in ("US", "RU")})
    export_bundle(forged.store(), forged.registry(), tmp_path / "fb")
    assert verify_bundle(tmp_path / "fb").ok
    rep = verify_bundle(tmp_path / "fb", trusted=ws.registry())
    assert not rep.ok
    assert "trusted registry" in (rep.error or "")


def test_concurrent_cosignatures_are_not_lost(ws: Workspace) -> None:
    log = ws.log(clock=lambda: NOW)
    log.append_batch(_records(ws, 3))
    errors: list[BaseException] = []

    def cosign(party: str) -> None:
        try:
            collect_cosignatures(ws.log(writable=False), {party: ws.witness(party)})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=cosign, args=(p,)) for p in ("US", "RU")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    names = {s.name for s in log.latest().note.signatures}
    assert {"w.us", "w.ru"} <= names


def test_header_refuses_unknown_top_level_fields(ws: Workspace) -> None:
    log = ws.log(clock=lambda: NOW)
    key = ws.party_key("US")
    payload = {"kind": "declaration", "author": "US", "seq": 1, "signed_at": "2026-11-22T12:00:00Z",
               "log": "test.example/log", "body": {}, "extra": 1}
    env = sign(payload_type("declaration"), canonicalize(payload), [key])
    with pytest.raises(RecordRefused) as ei:
        log.append(env.canonical())
    assert ei.value.code == "malformed"
    assert "extra" in ei.value.message
    assert log.size() == 0


def test_cli_verify_prints_operator_key_and_refuses_untrusted(ws: Workspace, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from detente.cli import app

    log = ws.log(clock=lambda: NOW)
    log.append_batch(_records(ws, 2))
    collect_cosignatures(log, {p: ws.witness(p) for p in ("US", "RU")})
    runner = CliRunner()
    res = runner.invoke(app, ["log", "verify", str(ws.path), "--json", "--keys",
                              str(ws.keys_path)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["ok"]
    assert data["trusted_keys"]
    assert data["operator_vkey"].startswith("test.example/log+")
    other = Workspace.create(tmp_path / "other", "test.example/log")
    res = runner.invoke(app, ["log", "verify", str(ws.path), "--keys", str(other.keys_path)])
    assert res.exit_code == 2
