"""Child process for the crash, concurrency and deadlock tests (run with the project's
interpreter). The log's database is the workspace's, or DETENTE_DB if set.

    child.py append WS BATCH COSIGN_EVERY
        Append batches of BATCH records (US and RU alternately, sequence numbers continuing from
        the log) to workspace WS until killed. After every batch returns, print one JSON line
        {"batch": k, "receipts": [{"leaf": b64, "receipt": {...}}, ...]} and flush. Every
        COSIGN_EVERY batches, have both witnesses cosign the latest checkpoint.

    child.py appends WS PARTY COUNT COSIGN_EVERY GO
        Print "ready", wait until the file GO exists, then append COUNT records as PARTY, one
        per transaction (sequence numbers 1..COUNT), printing {"leaf": b64, "receipt": {...}}
        after each. Every COSIGN_EVERY appends, PARTY's witness (if it has one) cosigns the
        latest checkpoint. Several of these at once are the concurrency test's writers.

    child.py hold WS
        Open a write transaction, add one entry, print "holding" and wait, never committing:
        the writer a test kills while it holds the log's lock.

    child.py verify-bundle PATH ATTEMPTS WORKERS DEADLINE
        Verify the bundle at PATH ATTEMPTS times with WORKERS processes and print each report as
        a JSON line. If one attempt takes longer than DEADLINE seconds it is stuck: dump every
        thread's stack to stderr and exit 1 (faulthandler).
"""

from __future__ import annotations

import base64
import faulthandler
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from detente.envelope.record import make_record
from detente.log.bundle import verify_bundle
from detente.log.cosign import collect_cosignatures
from detente.log.store import StoredEntry
from detente.workspace import Workspace

NOW = datetime(2022, 3, 1, 12, 0, 0, tzinfo=UTC)  # the log's clock and every record's signed_at
PARTIES = ("US", "RU")


def append(ws_path: Path, batch: int, cosign_every: int) -> None:
    ws = Workspace.open(ws_path)
    origin = ws.registry().origin
    log = ws.log(clock=lambda: NOW)
    keys = {p: ws.party_key(p) for p in PARTIES}
    with log.store.writer() as txn:
        seq = {p: txn.last_seq(p) for p in PARTIES}
    k = 0
    while True:
        raws = []
        for i in range(batch):
            p = PARTIES[i % 2]
            seq[p] += 1
            env = make_record("declaration", p, seq[p], {"batch": k, "i": i}, keys[p],
                              log=origin, signed_at=NOW)
            raws.append(env.canonical())
        results = log.append_batch(raws)
        out = []
        for raw, r in zip(raws, results, strict=True):
            if not hasattr(r, "index"):
                raise SystemExit(f"refused: {r}")
            out.append({"leaf": base64.b64encode(raw).decode(), "receipt": r.to_json()})
        sys.stdout.write(json.dumps({"batch": k, "receipts": out}) + "\n")
        sys.stdout.flush()
        k += 1
        if k % cosign_every == 0:
            collect_cosignatures(log, {p: ws.witness(p) for p in PARTIES})


def appends(ws_path: Path, party: str, count: int, cosign_every: int, go: Path) -> None:
    ws = Workspace.open(ws_path)
    origin = ws.registry().origin
    log = ws.log(clock=lambda: NOW)
    key = ws.party_key(party)
    witness = {party: ws.witness(party)} if party in PARTIES else {}
    raws = [make_record("statement", party, seq, {"party": party, "seq": seq}, key, log=origin,
                        signed_at=NOW).canonical() for seq in range(1, count + 1)]
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while not go.exists():
        time.sleep(0.005)
    for k, raw in enumerate(raws, start=1):
        r = log.append(raw)
        sys.stdout.write(json.dumps({"leaf": base64.b64encode(raw).decode(),
                                     "receipt": r.to_json()}) + "\n")
        sys.stdout.flush()
        if witness and k % cosign_every == 0:
            collect_cosignatures(log, witness)
    log.store.close()


def hold(ws_path: Path) -> None:
    store = Workspace.open(ws_path).store()
    with store.writer() as txn:
        txn.add([StoredEntry(txn.size(), b"never committed", "US", 10**9, "statement",
                             "2022-03-01T12:00:00Z")], [], (txn.size() + 1, "not a note"))
        sys.stdout.write("holding\n")
        sys.stdout.flush()
        time.sleep(600)
    raise SystemExit("the test should have killed this writer")


def verify(path: Path, attempts: int, workers: int, deadline: float) -> None:
    for _ in range(attempts):
        faulthandler.dump_traceback_later(deadline, exit=True)
        report = verify_bundle(path, workers=workers, quorum=0)
        faulthandler.cancel_dump_traceback_later()
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
        sys.stdout.flush()


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "append":
        append(Path(args[0]), int(args[1]), int(args[2]))
    elif mode == "appends":
        appends(Path(args[0]), args[1], int(args[2]), int(args[3]), Path(args[4]))
    elif mode == "hold":
        hold(Path(args[0]))
    elif mode == "verify-bundle":
        verify(Path(args[0]), int(args[1]), int(args[2]), float(args[3]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
