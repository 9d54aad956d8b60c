"""Crash safety: a writer killed with SIGKILL at an arbitrary moment loses nothing it gave a
receipt for, leaves a log that verifies, and the log and its witnesses carry on afterwards."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from detente.envelope.record import make_record
from detente.log.bundle import verify_store
from detente.log.cosign import collect_cosignatures
from detente.log.receipt import Receipt, verify_receipt
from detente.workspace import Workspace

from .conftest import FIXED_NOW, LogEnv, fixed_clock

CHILD = Path(__file__).with_name("child.py")
BATCH = 25
COSIGN_EVERY = 3


def _parse(line: str, into: dict[int, tuple[bytes, Receipt]]) -> None:
    data = json.loads(line)
    for item in data["receipts"]:
        r = Receipt.from_json(item["receipt"])
        into[r.index] = (base64.b64decode(item["leaf"]), r)


def _run_and_kill(env: LogEnv, batches_before_kill: int) -> dict[int, tuple[bytes, Receipt]]:
    """Start the appending child, read `batches_before_kill` batches of receipts, SIGKILL it,
    and return every receipt it printed (including any printed after we stopped reading)."""
    got: dict[int, tuple[bytes, Receipt]] = {}
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), "append", str(env.ws.path), str(BATCH), str(COSIGN_EVERY)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **env.child_env()},
    )
    try:
        assert proc.stdout is not None
        for _ in range(batches_before_kill):
            line = proc.stdout.readline()
            if not line:
                proc.wait(timeout=30)
                raise AssertionError(f"child ended early: {proc.stderr.read() if proc.stderr else ''}")
            _parse(line, got)
        os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    for line in rest.splitlines(keepends=True):
        if line.endswith("\n"):  # a line cut by the kill was never a receipt the author saw
            _parse(line, got)
    return got


def _next_seqs(ws: Workspace) -> dict[str, int]:
    store = ws.store()
    try:
        with store.writer() as txn:
            return {p: txn.last_seq(p) + 1 for p in ("US", "RU")}
    finally:
        store.close()


def _check_after_restart(env: LogEnv, receipts: dict[int, tuple[bytes, Receipt]]) -> Any:
    ws = env.reopen()  # as a restarted process would
    log = ws.log(clock=fixed_clock)
    try:
        size = log.size()
        assert size >= max(receipts) + 1
        for index, (leaf, receipt) in receipts.items():
            assert log.leaf(index) == leaf, f"receipted leaf {index} changed or vanished"
            verify_receipt(receipt, leaf, env.operator, env.origin)
            verify_receipt(log.inclusion_proof(index), leaf, env.operator, env.origin)
        report = verify_store(log.store, ws.registry(), workers=1, quorum=0)
        assert report.ok, report.error
        assert report.entries == size
        # The log takes new records...
        seq = _next_seqs(ws)
        keys = {p: ws.party_key(p) for p in ("US", "RU")}
        fresh = [
            make_record("statement", p, seq[p], {"after": "restart"}, keys[p], log=env.origin,
                        signed_at=FIXED_NOW).canonical()
            for p in ("US", "RU")
        ]
        results = log.append_batch(fresh)
        assert [r.index for r in results if isinstance(r, Receipt)] == [size, size + 1]
        # ... and both witnesses, whatever moment the kill caught them at, cosign the new head.
        scp = collect_cosignatures(log, env.witnesses())
        assert scp.checkpoint.size == size + 2
        report = verify_store(log.store, ws.registry(), workers=1)
        assert report.ok, report.error
        assert sorted(report.cosigned_by) == ["RU", "US"]
        return size + 2
    finally:
        log.store.close()


@pytest.mark.slow
def test_sigkill_mid_append_loses_nothing_receipted(env: LogEnv) -> None:
    receipts: dict[int, tuple[bytes, Receipt]] = {}
    size = 0
    for kill_after in (2, 5, 8):
        got = _run_and_kill(env, kill_after)
        assert len(got) >= kill_after * BATCH
        assert min(got) >= size, "the child appends after what was there"
        receipts.update(got)
        size = _check_after_restart(env, receipts)
    assert len(receipts) >= 15 * BATCH
