"""Many processes appending to one log at once, on each backend: the log keeps one order, every
receipt it hands out stays provable against the final checkpoint, and nothing acknowledged is
lost. The writers are separate processes with their own connections, as separate operators'
terminals or services would be."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from detente.log.bundle import verify_store
from detente.log.merkle import verify_consistency
from detente.log.note import SIG_COSIGNATURE_V1, NoteVerifier, SignedCheckpoint
from detente.log.receipt import Receipt, verify_receipt

from .conftest import AUTHOR_ROLES, LogEnv

CHILD = Path(__file__).with_name("child.py")
PARTIES = ("US", "RU", "UK", "FR")  # US and RU also cosign as they go; UK and FR have no witness
APPENDS = 200  # per process, one record per transaction
COSIGN_EVERY = 50


def _start(env: LogEnv, party: str, go: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), "appends", str(env.ws.path), party, str(APPENDS),
         str(COSIGN_EVERY), str(go)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **env.child_env()},
    )


@pytest.mark.slow
def test_concurrent_appenders_keep_one_order_and_lose_nothing(env: LogEnv, tmp_path: Path) -> None:
    for party in ("UK", "FR"):
        env.ws.add_party(party, party, roles=AUTHOR_ROLES, witness_name=None)
    go = tmp_path / "go"
    procs = {p: _start(env, p, go) for p in PARTIES}
    got: dict[str, list[tuple[bytes, Receipt]]] = {}
    try:
        for proc in procs.values():  # every writer has its records signed and waits
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n", proc.communicate(timeout=60)[1]
        go.touch()
        for p, proc in procs.items():
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err[-4000:]
            got[p] = [(base64.b64decode(d["leaf"]), Receipt.from_json(d["receipt"]))
                      for d in map(json.loads, out.splitlines())]
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    log = env.log()
    total = len(PARTIES) * APPENDS
    final = log.latest().checkpoint
    assert final.size == log.size() == total
    indices: list[int] = []
    for p in PARTIES:
        assert len(got[p]) == APPENDS
        own = [r.index for _, r in got[p]]
        assert own == sorted(own), f"{p}'s records must keep the order it sent them in"
        indices += own
    # One order: every index handed out exactly once, no gaps, one signed checkpoint per size.
    assert sorted(indices) == list(range(total))
    stored = dict(log.store.checkpoints())
    assert sorted(stored) == list(range(1, total + 1))
    leaves = [e.leaf for e in log.store.entries(0, total)]
    roots = {}
    for p in PARTIES:
        for leaf, receipt in got[p]:
            assert leaves[receipt.index] == leaf, f"acknowledged leaf {receipt.index} changed"
            cp = verify_receipt(receipt, leaf, env.operator, env.origin).checkpoint
            # The checkpoint in the receipt is the one the log kept for that size (cosignatures
            # may have been added since), and the final checkpoint extends it.
            assert SignedCheckpoint.parse(stored[cp.size]).checkpoint == cp
            roots[cp.size] = cp.root
    assert len(roots) == total
    for size, root in roots.items():
        verify_consistency(size, total, root, final.root, log.consistency_proof(size, total))
    report = verify_store(log.store, env.ws.registry(), workers=1, quorum=0)
    assert report.ok, report.error
    assert report.entries == report.checkpoints == total
    # Every cosignature, each attached while the others appended, landed on its checkpoint
    # (each witness cosigns after its own appends, so always a newer checkpoint than before).
    notes = [SignedCheckpoint.parse(n).note for n in stored.values()]
    for p in ("US", "RU"):
        ((_, key),) = [(q, k) for q, k in env.ws.registry().witnesses() if q == p]
        v = NoteVerifier(key.note_name or "", key.public_key, SIG_COSIGNATURE_V1)
        assert sum(n.signature_for(v) is not None for n in notes) == APPENDS // COSIGN_EVERY
