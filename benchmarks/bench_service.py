"""Appends over HTTP against appends in process, measured in the same run.

A real `detente serve` (uvicorn, one process) on loopback, SQLite durable (WAL, synchronous=FULL);
N client threads, each a party with its own key and keep-alive connection, each appending M signed
statements one per request. Printed: throughput, p50 and p99 latency per append, and the reference:
the same records appended one per call to the log in this process (admission included), i.e. what
HTTP, authentication, JSON and the server's scheduling cost on top of the log. Afterwards every
acknowledged record is checked to be in the log at its receipt's index, and the log verifies.

    python benchmarks/bench_service.py [--clients N] [--appends M]
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from detente.envelope.dsse import parse_envelope
from detente.envelope.record import make_record
from detente.log.bundle import verify_store
from detente.model.parties import Role
from detente.service.client import Client
from detente.workspace import Workspace

ORIGIN = "detente.bench/service"


def workspace(path: Path, parties: int) -> Workspace:
    ws = Workspace.create(path, ORIGIN)
    for i in range(parties):
        ws.add_party(f"P{i}", f"P{i}", roles=frozenset({Role.DECLARANT}), witness_name=None)
    return ws


def envelopes(ws: Workspace, party: str, n: int) -> list[bytes]:
    key = ws.party_key(party)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return [make_record("statement", party, s, {"text": f"statement {s} by {party}", "n": s}, key,
                        log=ORIGIN, signed_at=now).canonical() for s in range(1, n + 1)]


def in_process(clients: int, appends: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        ws = workspace(Path(tmp) / "ws", clients)
        batches = [envelopes(ws, f"P{i}", appends) for i in range(clients)]
        log = ws.log()
        t = time.perf_counter()
        for j in range(appends):
            for b in batches:
                log.append(b[j])
        return clients * appends / (time.perf_counter() - t)


def over_http(clients: int, appends: int) -> tuple[float, list[float], int]:
    with tempfile.TemporaryDirectory() as tmp:
        ws = workspace(Path(tmp) / "ws", clients)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        srv = subprocess.Popen([str(Path(sys.executable).parent / "detente"), "serve", "--workspace",
                                str(ws.path), "--port", str(port), "--no-dashboard"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            pre = {f"P{i}": envelopes(ws, f"P{i}", appends) for i in range(clients)}
            lat: list[float] = []
            acked: list[tuple[int, bytes]] = []
            lock = threading.Lock()
            go = threading.Barrier(clients + 1)

            def run(party: str) -> None:
                c = Client(f"http://127.0.0.1:{port}", ws.party_key(party))
                c.login()
                mine, ack = [], []
                go.wait()
                for raw in pre[party]:
                    t0 = time.perf_counter()
                    r = c.append(parse_envelope(raw).to_json())
                    mine.append(time.perf_counter() - t0)
                    ack.append((r["index"], raw))
                with lock:
                    lat.extend(mine)
                    acked.extend(ack)
                c.close()

            threads = [threading.Thread(target=run, args=(p,)) for p in pre]
            for th in threads:
                th.start()
            go.wait()
            t = time.perf_counter()
            for th in threads:
                th.join()
            rate = len(acked) / (time.perf_counter() - t)
            log = ws.log(writable=False)
            assert all(log.leaf(i) == raw for i, raw in acked), "an acknowledged record is missing"
            assert verify_store(ws.store(), ws.registry(), workers=1, quorum=0).ok
            return rate, lat, len(acked)
        finally:
            srv.terminate()
            srv.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--appends", type=int, default=150)
    a = ap.parse_args()
    ref = in_process(a.clients, a.appends)
    rate, lat, n = over_http(a.clients, a.appends)
    q = statistics.quantiles(lat, n=100)
    print(f"{a.clients} clients x {a.appends} appends over HTTP (one record per request, durable): "
          f"{rate:,.0f} appends/s; latency p50 {q[49] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms")
    print(f"reference, same records appended one per call in process: {ref:,.0f} appends/s")
    print(f"ratio HTTP / in-process: {rate / ref:.2f}; all {n} acknowledged records present, log verifies")


if __name__ == "__main__":
    main()
