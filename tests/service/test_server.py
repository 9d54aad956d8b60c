"""The service as a real process on loopback: concurrent clients keep one order and lose nothing;
SIGKILL in the middle of the load loses no acknowledged record; witnesses carry on after restart."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from detente.envelope.dsse import parse_envelope
from detente.envelope.keys import SigningKey
from detente.envelope.record import make_record
from detente.errors import DetenteError, RecordRefused
from detente.log.bundle import verify_store
from detente.log.witness import Witness
from detente.model.parties import Role
from detente.service.client import Client
from detente.workspace import Workspace

ORIGIN = "detente.test/server"
PARTIES = [f"P{i}" for i in range(6)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, ws: Path, port: int) -> None:
        self.ws, self.port = ws, port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "detente"), "serve", "--workspace", str(self.ws), "--port",
             str(self.port), "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "DETENTE_DB": ""})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError as exc:
                if self.proc.poll() is not None:
                    why = self.proc.stderr.read().decode() if self.proc.stderr else "died"
                    raise RuntimeError(why) from exc
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Workspace, Server]]:
    ws = Workspace.create(tmp_path / "ws", ORIGIN)
    for p in PARTIES:
        ws.add_party(p, p, roles=frozenset({Role.DECLARANT}), witness_name=None)
    ws.add_party("W", "Witness state", roles=frozenset({Role.DECLARANT}), witness_name="witness.w.test")
    ws.witness("W").initialise()  # a new witness starts from the empty tree, explicitly
    srv = Server(ws.path, free_port())
    srv.start()
    yield ws, srv
    srv.stop()


def envelope(party: str, key: SigningKey, seq: int) -> dict[str, Any]:
    return make_record("statement", party, seq, {"n": seq}, key, log=ORIGIN,
                       signed_at=dt.datetime.now(dt.UTC).replace(microsecond=0)).to_json()


def load(ws: Workspace, url: str, appends: int, acked: dict[str, list[tuple[int, bytes]]],
         stop: threading.Event) -> list[threading.Thread]:
    """One thread per party; each appends `appends` records in order and keeps every receipt."""

    def run(party: str) -> None:
        key = ws.party_key(party)
        c = Client(url, key)
        try:
            c.login()
            seq = max((json.loads(parse_envelope(e).payload)["seq"] for _, e in acked[party]), default=0)
            while len(acked[party]) < appends and not stop.is_set():
                seq += 1
                env = envelope(party, key, seq)
                try:
                    r = c.append(env)
                except RecordRefused as exc:
                    if exc.code == "replay":  # committed before a crash, its receipt lost: move on
                        continue
                    raise
                acked[party].append((r["index"], parse_envelope(env).canonical()))
        except (OSError, DetenteError, ConnectionError):
            return  # the server went away; what was acknowledged is in `acked`
        finally:
            c.close()

    threads = [threading.Thread(target=run, args=(p,)) for p in PARTIES]
    for t in threads:
        t.start()
    return threads


def check_acked(ws: Workspace, acked: dict[str, list[tuple[int, bytes]]]) -> int:
    log = ws.log(writable=False)
    n = 0
    for rows in acked.values():
        for index, leaf in rows:
            assert log.leaf(index) == leaf  # the acknowledged envelope, at its acknowledged index
            n += 1
    indices = [i for rows in acked.values() for i, _ in rows]
    assert len(set(indices)) == len(indices)  # one order: no index handed out twice
    report = verify_store(ws.store(), ws.registry(), workers=1, quorum=0)
    assert report.ok, report.error
    return n


def cosign_over_http(c: Client, w: Witness) -> int:
    cp = c.call("GET", "/v1/checkpoint")
    st = w.state()
    old = st.size if st else 0
    got = c.call("GET", "/v1/proof/consistency", old=old, new=cp["size"])
    proof = [base64.b64decode(h) for h in got["proof"]]
    sig = w.add_checkpoint(old, proof, cp["note"])
    from detente.log.note import SignedCheckpoint

    note = SignedCheckpoint.parse(cp["note"]).note.with_signature(sig).encode()
    return int(c.call("POST", "/v1/cosignatures", {"note": note})["size"])


def test_concurrent_clients_keep_one_order(setup: tuple[Workspace, Server]) -> None:
    ws, srv = setup
    acked: dict[str, list[tuple[int, bytes]]] = {p: [] for p in PARTIES}
    for t in load(ws, srv.url, 40, acked, threading.Event()):
        t.join()
    assert check_acked(ws, acked) == 40 * len(PARTIES)
    assert ws.log(writable=False).size() == 40 * len(PARTIES)


def test_sigkill_mid_load_loses_nothing_acknowledged(setup: tuple[Workspace, Server]) -> None:
    ws, srv = setup
    witness = ws.witness("W")
    wc = Client(srv.url, ws.registry().parties["W"] and _witness_key(ws))
    wc.login()
    acked: dict[str, list[tuple[int, bytes]]] = {p: [] for p in PARTIES}
    stop = threading.Event()
    threads = load(ws, srv.url, 10_000, acked, stop)
    while sum(len(v) for v in acked.values()) < 150:
        time.sleep(0.01)
    before = cosign_over_http(wc, witness)
    while sum(len(v) for v in acked.values()) < 300:
        time.sleep(0.01)
    srv.kill()  # SIGKILL, appends in flight
    for t in threads:
        t.join(30)
    got = check_acked(ws, acked)
    assert got >= 300
    srv.start()
    stop.clear()
    # the clients carry on after the restart, and the witness sees a consistent, larger log
    target = {p: len(v) + 5 for p, v in acked.items()}
    for t in load(ws, srv.url, max(target.values()), acked, stop):
        t.join()
    wc = Client(srv.url, _witness_key(ws))
    wc.login()
    after = cosign_over_http(wc, witness)
    assert after > before
    assert check_acked(ws, acked) >= got + 5 * len(PARTIES)


def _witness_key(ws: Workspace) -> SigningKey:
    from detente.envelope.keys import read_private_key

    return read_private_key(ws.secrets / "W-witness.key")
